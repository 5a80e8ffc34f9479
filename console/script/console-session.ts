/**
 * The console's command line: one line of the command language at a time, against a live
 * engine. Every line that drove the engine is recorded with its time, so the session can be
 * saved as a script (with `wait` between the lines, and after the last one until the save)
 * and replayed by `sockstorm run` to the same end state.
 */
import { writeFileSync } from 'node:fs';
import type { EngineCommand, ReconnectPolicy } from '../engine/commands.ts';
import { DEFAULT_RECONNECT_POLICY } from '../engine/users/reconnect-policy.ts';
import type { CommandResult, Engine } from '../engine/engine.ts';
import { ms } from '../report/format.ts';
import { loadUserRows } from './user-rows.ts';
import { parseLine, ScriptError, type ScriptStep } from './parse.ts';
import { watchRamp } from './runner.ts';

/** What a line did. */
export interface LineResult {
  ok: boolean;
  message: string;
}

type DrivingStep = Extract<ScriptStep, { kind: 'engine' | 'ramp' }>;
type RampStep = Extract<ScriptStep, { kind: 'ramp' }>;

const SCRIPT_ONLY = new Set(['wait', 'await-open', 'await-recovered', 'expect', 'report', 'target']);

/** Commands that set the fleet's size: each ends the watch of an earlier `ramp … until`. */
const SIZING = new Set<EngineCommand['type']>(['set-target', 'add', 'remove', 'ramp', 'stop']);

/** What a `save` without a file name answers. */
export const SAVE_NEEDS_FILE = ':save needs a file: :save FILE.storm';

/** Shorter gaps are not worth a `wait` line. */
const MIN_WAIT_MS = 100;

/**
 * Whether a command may have changed the engine though it did not answer ok: an admin call
 * (server knob, admin broadcast, server kill) that timed out was sent, and the server may well
 * have carried it out, so a replay must send it too.
 */
export function mayHaveTakenEffect(result: CommandResult): boolean {
  return result.ok || /aborted due to timeout|timed out/i.test(result.message);
}

/** A console session: runs lines and remembers the ones that drove the engine. */
export class ConsoleSession {
  private readonly recorded: Array<{ atMs: number; line: string }> = [];
  private readonly listeners = new Set<(notice: LineResult) => void>();
  /** The last reconnect policy this session set: snapshots are a second old, keys are not. */
  private policy: ReconnectPolicy | null = null;
  private watch: AbortController | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Later news of an earlier line (the knee of a `ramp … until`); returns the unsubscribe. */
  onNotice(listener: (notice: LineResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The reconnect policy in force: the one this session last set, else the engine's. */
  policyInForce(): ReconnectPolicy {
    return this.policy ?? this.engine.live().policy ?? DEFAULT_RECONNECT_POLICY;
  }

  /** Runs one line; never throws. `save FILE` writes the session as a script. */
  async run(line: string): Promise<LineResult> {
    const text = line.trim();
    if (text === '') return { ok: true, message: '' };
    const save = /^save(?:\s+(.*))?$/.exec(text);
    if (save) {
      const file = save[1]?.trim() ?? '';
      // without this, a bare `save` read as an unknown command listing every other one
      if (file === '') return { ok: false, message: SAVE_NEEDS_FILE };
      if (/\s/.test(file)) return { ok: false, message: `${SAVE_NEEDS_FILE} (one file name, without spaces)` };
      return this.save(file);
    }
    let step: ScriptStep | null;
    try {
      step = parseLine(text);
    } catch (error) {
      if (error instanceof ScriptError) return { ok: false, message: `column ${error.column}: ${error.reason}` };
      return { ok: false, message: (error as Error).message };
    }
    if (!step) return { ok: true, message: '' };
    if (SCRIPT_ONLY.has(step.kind))
      return {
        ok: false,
        message: `"${step.text.split(' ')[0]}" belongs in scripts (sockstorm run); the console runs fleet commands`,
      };
    if (step.kind !== 'engine' && step.kind !== 'ramp') return { ok: false, message: 'not a console command' };
    return this.drive(step);
  }

  /** Ends a running `ramp … until` watch: the console is closing. */
  dispose(): void {
    this.stopWatching();
  }

  private stopWatching(): void {
    this.watch?.abort();
    this.watch = null;
  }

  private async drive(step: DrivingStep): Promise<LineResult> {
    let command = step.command;
    let text = step.kind === 'ramp' ? step.text.replace(/\s+until\s.*$/, '') : step.text;
    if (command.type === 'remove') {
      const target = this.engine.live().target;
      if (target === 0) return { ok: true, message: 'nothing to remove: the target is 0 VUs' };
      if (command.count > target) {
        command = { type: 'remove', count: target };
        text = `remove ${target}`;
      }
    }
    if (command.type === 'users') {
      // the console reads the users file when the line is typed, as a script's is read before its run
      const loaded = loadUserRows(command.file);
      if ('error' in loaded) return { ok: false, message: loaded.error };
      command = { ...command, rows: loaded.rows };
    }
    if (SIZING.has(command.type)) this.stopWatching();
    const policyBefore = this.policy;
    // set before the answer, so a second `r` pressed while the first is on its way cycles on
    if (command.type === 'reconnect') this.policy = command.policy;
    const atMs = this.now();
    const result = await this.engine.dispatch(command);
    if (!mayHaveTakenEffect(result)) {
      if (command.type === 'reconnect' && this.policy === command.policy) this.policy = policyBefore;
      return result;
    }
    // the knee comes later as a `vus` line of its own, so a replay need not find it again
    this.recorded.push({
      atMs,
      line: step.kind === 'ramp' && step.until.length > 0 ? `${text}  # until ${sources(step)}` : text,
    });
    if (!result.ok) return { ok: false, message: `${result.message} (kept for save: it may have been carried out)` };
    if (step.kind === 'ramp' && step.until.length > 0) {
      this.watchKnee(step);
      return { ok: true, message: `${result.message}; holds at the knee if ${sources(step)}` };
    }
    return result;
  }

  private watchKnee(step: RampStep): void {
    const watch = new AbortController();
    this.watch = watch;
    void watchRamp(this.engine, step, watch.signal).then((knee) => {
      if (this.watch === watch) this.watch = null;
      if (watch.signal.aborted) return;
      if (!knee)
        return this.notify({
          ok: true,
          message: `ramp reached ${this.engine.live().open} open without ${sources(step)}`,
        });
      // watchRamp has set the target to the knee itself; the session records it
      this.recorded.push({ atMs: this.now(), line: `vus ${knee.open}  # the knee: ${knee.reason}` });
      void this.engine.dispatch({ type: 'mark', label: `knee ${knee.open} open: ${knee.reason}` });
      this.notify({ ok: true, message: `knee: ${knee.open} open before ${knee.reason}; the fleet holds there` });
    });
  }

  private notify(notice: LineResult): void {
    for (const listener of this.listeners) listener(notice);
  }

  /** The session so far as a script, holding its end state until now. */
  toScript(): string {
    const lines = [`# sockstorm console session saved ${new Date(this.now()).toISOString()}`];
    // the bundled server's port is new each time; a replay starts its own
    if (!this.engine.getSnapshot().target.isBundled) lines.push(`target ${this.engine.targetUrl}`);
    const wait = (gapMs: number): void => {
      if (gapMs >= MIN_WAIT_MS) lines.push(`wait ${Math.round(gapMs)}ms`);
    };
    let last: number | null = null;
    // answers come back out of order (an admin call waits for the server): keep the sending order
    for (const { atMs, line } of [...this.recorded].sort((a, b) => a.atMs - b.atMs)) {
      if (last !== null) wait(atMs - last);
      lines.push(line);
      last = atMs;
    }
    if (last !== null) wait(this.now() - last);
    return `${lines.join('\n')}\n`;
  }

  private save(file: string): LineResult {
    try {
      writeFileSync(file, this.toScript());
      const last = this.recorded.reduce((latest, r) => Math.max(latest, r.atMs), -Infinity);
      const held = this.recorded.length > 0 ? `, then holds ${ms(this.now() - last)}` : '';
      return { ok: true, message: `saved ${this.recorded.length} commands to ${file}${held}` };
    } catch (error) {
      return { ok: false, message: `cannot save ${file}: ${(error as Error).message}` };
    }
  }
}

function sources(step: RampStep): string {
  return step.until.map((limit) => limit.source).join(' or ');
}
