/**
 * The console's command line: one line of the command language at a time, against a live
 * engine. Every line that drove the engine is recorded with its time, so the session can be
 * saved as a script (with `wait` between the lines) and replayed by `sockstorm run`.
 */
import { writeFileSync } from 'node:fs';
import type { Engine } from '../engine/engine.ts';
import { parseLine, ScriptError } from './parse.ts';

/** What a line did. */
export interface LineResult {
  ok: boolean;
  message: string;
}

const SCRIPT_ONLY = new Set(['wait', 'await-open', 'await-recovered', 'expect', 'report', 'target']);

/** A console session: runs lines and remembers the ones that drove the engine. */
export class ConsoleSession {
  private readonly recorded: Array<{ atMs: number; line: string }> = [];

  constructor(private readonly engine: Engine, private readonly now: () => number = () => Date.now()) {}

  /** Runs one line; never throws. `save FILE` writes the session as a script. */
  async run(line: string): Promise<LineResult> {
    const text = line.trim();
    if (text === '') return { ok: true, message: '' };
    const save = /^save\s+(\S+)$/.exec(text);
    if (save) return this.save(save[1]!);
    let step;
    try {
      step = parseLine(text);
    } catch (error) {
      if (error instanceof ScriptError) return { ok: false, message: `column ${error.column}: ${error.reason}` };
      return { ok: false, message: (error as Error).message };
    }
    if (!step) return { ok: true, message: '' };
    if (SCRIPT_ONLY.has(step.kind)) return { ok: false, message: `"${step.text.split(' ')[0]}" belongs in scripts (sockstorm run); the console runs fleet commands` };
    if (step.kind !== 'engine' && step.kind !== 'ramp') return { ok: false, message: 'not a console command' };
    const result = await this.engine.dispatch(step.command);
    if (result.ok) this.recorded.push({ atMs: this.now(), line: step.text });
    return result;
  }

  /** The session so far as a script. */
  toScript(): string {
    const lines = [`# sockstorm console session saved ${new Date(this.now()).toISOString()}`];
    // the bundled server's port is new each time; a replay starts its own
    if (!this.engine.getSnapshot().target.isBundled) lines.push(`target ${this.engine.targetUrl}`);
    let last: number | null = null;
    for (const { atMs, line } of this.recorded) {
      if (last !== null && atMs - last >= 100) lines.push(`wait ${Math.round(atMs - last)}ms`);
      lines.push(line);
      last = atMs;
    }
    return `${lines.join('\n')}\n`;
  }

  private save(file: string): LineResult {
    try {
      writeFileSync(file, this.toScript());
      return { ok: true, message: `saved ${this.recorded.length} commands to ${file}` };
    } catch (error) {
      return { ok: false, message: `cannot save ${file}: ${(error as Error).message}` };
    }
  }
}
