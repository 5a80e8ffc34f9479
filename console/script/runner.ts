/**
 * Runs parsed script steps against an engine: engine commands are dispatched, `wait` and
 * `await` pace the script, `expect` collects thresholds, `report` names the HTML file. The
 * first abort (Ctrl+C) ends the script early but still tears down gracefully and summarises.
 */
import { createEngine, type Engine } from '../engine/engine.ts';
import type { EngineOptions } from '../engine/engine-options.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';
import type { ScriptStep } from './parse.ts';
import { summarize, type RunSummary } from '../report/summary.ts';
import { scriptIdentity } from '../report/comparable.ts';
import { metricText } from '../report/summary-text.ts';
import { compare, scriptFailure, type Threshold, type ThresholdResult } from '../verdict/thresholds.ts';
import { maskCredentials } from '../engine/protocols/shown-text.ts';

/** Where a `ramp ... until` stopped: the highest open count before the limit was crossed. */
export interface Knee {
  open: number;
  line: number;
  reason: string;
}

function watchedValue(metric: string, snapshot: Snapshot, previous: Snapshot | null): number | null {
  if (metric === 'errors.rate') {
    const attempts = snapshot.totals.attempts - (previous?.totals.attempts ?? 0);
    const failures = snapshot.totals.failures - (previous?.totals.failures ?? 0);
    return attempts > 0 ? failures / attempts : null;
  }
  const [name, stat] = metric.split('.') as ['connect' | 'rtt' | 'fanout', 'p50' | 'p90' | 'p99'];
  const summary = snapshot.interval[name];
  return summary.count > 0 ? summary[stat] : null;
}

/** Follows a ramp until its limit is crossed (knee found) or the ramp is done; `run` and the console both use it. */
export function watchRamp(
  engine: Engine,
  step: Extract<ScriptStep, { kind: 'ramp' }>,
  signal?: AbortSignal,
): Promise<Knee | null> {
  const deadline = performance.now() + step.command.overMs + 60_000;
  let previous: Snapshot | null = engine.getSnapshot();
  // a ramp from a fleet already open starts its knee at what is open, not at 0
  let highest = engine.live().open;
  return new Promise((resolve) => {
    const finish = (knee: Knee | null): void => {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      resolve(knee);
    };
    const onAbort = (): void => finish(null);
    const unsubscribe = engine.subscribe((snapshot) => {
      for (const limit of step.until) {
        const value = watchedValue(limit.metric, snapshot, previous);
        if (value === null || !compare(value, limit.op, limit.value)) continue;
        void engine.dispatch({ type: 'set-target', count: highest });
        return finish({
          open: highest,
          line: step.line,
          reason:
            `${limit.metric} ${metricText(limit.metric, value, limit.source)} ${limit.op} ` +
            `${metricText(limit.metric, limit.value, limit.source)}`,
        });
      }
      previous = snapshot;
      highest = Math.max(highest, snapshot.fleet.open);
      const isDone = snapshot.fleet.open >= step.command.count && snapshot.fleet.target >= step.command.count;
      if (isDone || performance.now() > deadline) finish(null);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of {@link runScript}. */
export interface RunOptions {
  engineOptions: EngineOptions;
  /** Aborted by the first Ctrl+C. */
  signal?: AbortSignal;
  onSnapshot?(snapshot: Snapshot): void;
  onStep?(step: ScriptStep): void;
  /** Called once the engine exists (the CLI uses it to wire a second Ctrl+C). */
  onEngine?(engine: Engine): void;
  /**
   * Why users dial from the addresses in `engineOptions.localAddresses`:
   * given, or spread by the entry (the summary says which). @default 'option'
   */
  sourcesChosenBy?: 'option' | 'spread';
  /** Values the templates name (`env.NAME`, env-refs.ts), given to the engine before the first step. */
  templateValues?: Record<string, string>;
}

/** What a finished run hands back. */
export interface RunOutcome {
  summary: RunSummary;
  snapshots: Snapshot[];
  reportFile: string | null;
  knees: Knee[];
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `promise`'s value, or null as soon as `signal` aborts (what it waits on is ended by the engine's stop). */
function unlessAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T | null> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

async function until(check: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (signal?.aborted || performance.now() > deadline) return false;
    await sleep(20, signal);
  }
  return true;
}

/** Runs a script to its end (or to the first abort) and summarises it. */
export async function runScript(steps: ScriptStep[], options: RunOptions): Promise<RunOutcome> {
  const targetStep = steps.find((step) => step.kind === 'target');
  const engine = await createEngine(
    { ...options.engineOptions, ...(targetStep?.kind === 'target' ? { target: targetStep.url } : {}) },
    options.signal,
  );
  options.onEngine?.(engine);
  if (options.templateValues && Object.keys(options.templateValues).length > 0)
    await engine.dispatch({ type: 'template-values', values: options.templateValues });
  const snapshots: Snapshot[] = [];
  const record = (snapshot: Snapshot): void => {
    snapshots.push(snapshot);
    options.onSnapshot?.(snapshot);
  };
  const unsubscribe = engine.subscribe(record);
  // the run's first second: the snapshot the engine took before anyone listened
  const first = engine.getSnapshot();
  if (snapshots.length === 0 && !first.isStopped) record(first);
  // `broadcast N every D` series, to tell how many the end of the script cut off
  const series: Array<{ count: number; everyMs: number; startedAt: number }> = [];
  const thresholds: Threshold[] = [];
  // what failed while the script ran: timed-out awaits and commands the engine refused
  const failures: ThresholdResult[] = [];
  const commandFailed = (step: ScriptStep, message: string): void => {
    failures.push(scriptFailure('command', maskCredentials(`line ${step.line} "${step.text}": ${message}`), 1));
  };
  const notes: string[] = [];
  let reportFile: string | null = null;
  const knees: Knee[] = [];
  const { signal } = options;
  for (const step of steps) {
    if (signal?.aborted) break;
    options.onStep?.(step);
    switch (step.kind) {
      case 'engine': {
        const startedAt = performance.now();
        // a command that waits on the target (a broadcast request) gives way to a stop
        const result = await unlessAborted(engine.dispatch(step.command), signal);
        if (!result) break;
        if (!result.ok) commandFailed(step, result.message);
        else if (step.command.type === 'broadcast' && step.command.everyMs)
          series.push({ count: step.command.count, everyMs: step.command.everyMs, startedAt });
        break;
      }
      case 'ramp': {
        const result = await engine.dispatch(step.command);
        if (!result.ok) commandFailed(step, result.message);
        if (step.until.length === 0) break;
        const knee = await watchRamp(engine, step, signal);
        if (knee) {
          knees.push(knee);
          notes.push(`knee: ${knee.open} open before ${knee.reason} (line ${knee.line}); the fleet holds there`);
        } else if (!signal?.aborted) {
          notes.push(
            `line ${step.line}: ramp reached ${engine.live().open} open without crossing ` +
              `${step.until.map((u) => u.source).join(' or ')}`,
          );
        }
        break;
      }
      case 'wait':
        await sleep(step.ms, signal);
        break;
      case 'await-open':
      case 'await-recovered': {
        const check =
          step.kind === 'await-open' ? () => engine.live().open >= step.count : () => engine.live().isRecovered;
        const isMet = await until(check, step.timeoutMs, signal);
        if (!isMet && !signal?.aborted) {
          const live = engine.live();
          failures.push(
            scriptFailure(
              'await',
              `${step.text} (line ${step.line})`,
              step.kind === 'await-open' ? step.count : live.target,
              live.open,
              '>=',
            ),
          );
        }
        break;
      }
      case 'expect':
        thresholds.push(step.threshold);
        break;
      case 'report':
        reportFile = step.file;
        break;
      case 'target':
        break;
    }
  }
  // a stopped script's expectations it never reached are listed too, not judged, as the ones it reached
  if (signal?.aborted)
    for (const step of steps)
      if (step.kind === 'expect' && !thresholds.includes(step.threshold)) thresholds.push(step.threshold);
  const { open: openAtEnd, target: targetAtEnd } = engine.live();
  const endedAt = performance.now();
  const unsentBroadcasts = series.reduce(
    (sum, { count, everyMs, startedAt }) => sum + Math.max(0, count - 1 - Math.floor((endedAt - startedAt) / everyMs)),
    0,
  );
  await engine.stop();
  unsubscribe();
  if (snapshots.length === 0 || !snapshots[snapshots.length - 1]!.isStopped) snapshots.push(engine.getSnapshot());
  // for `compare`: the whole-run histograms (still answered after stop) and the script's identity
  // the script's lines as every output shows them: a target's credentials masked
  const comparable = {
    histograms: engine.histograms(),
    script: scriptIdentity(steps.map((step) => maskCredentials(step.text))),
  };
  const summary = summarize(snapshots, thresholds, {
    isSignalled: signal?.aborted ?? false,
    notes,
    openAtEnd,
    targetAtEnd,
    failures,
    knees,
    unsentBroadcasts,
    sourcesChosenBy: options.sourcesChosenBy,
    ...comparable,
  });
  return { summary, snapshots, reportFile, knees };
}
