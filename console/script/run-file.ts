/**
 * `sockstorm run script.storm`: parse, run headless, print progress and the end summary,
 * write `--json`, `--ndjson` and `--report`, exit with the verdict's code. The first
 * Ctrl+C stops gracefully and still writes every output; a second exits at once with 105.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ServerStartError } from '../engine/bundled-server.ts';
import { AgentsError, EngineConfigError, presetNeedsTarget, type EngineOptions } from '../engine/engine-options.ts';
import { maskCredentials } from '../engine/shown-text.ts';
import { sourcesNotice } from '../engine/sources.ts';
import { parseScript, ScriptError, ScriptErrors, type ScriptStep } from './parse.ts';
import { hostCapacity, spreadFor, withHostLimit } from '../host-check.ts';
import { resolveUserFiles } from './user-rows.ts';
import { renderReport } from '../report/html-report.ts';
import { progressWriter } from '../report/progress.ts';
import { runScript } from './runner.ts';
import { startMetricsEndpoint, type MetricsEndpoint } from '../report/metrics-endpoint.ts';
import { EXIT, formatSummary, snapshotJson } from '../report/summary.ts';
import { checkOutputPaths, writeOutput, type WriteOutcome } from './output-files.ts';

/** Output files of a run, and the optional live endpoint. */
export interface RunFiles {
  json?: string;
  ndjson?: string;
  report?: string;
  /** Serve /metrics, /snapshot and /stream on 127.0.0.1 at this port (0: a free one). */
  metricsPort?: number;
  /** One progress line per this many ms. @default 1000 */
  progressInterval?: number;
}

/** How long a script runs when every step has a known length (waits; a ramp without `until` does not block); null otherwise. */
export function scriptLengthMs(steps: ScriptStep[]): number | null {
  let total = 0;
  for (const step of steps) {
    if (step.kind === 'wait') total += step.ms;
    else if (step.kind === 'await-open' || step.kind === 'await-recovered' || (step.kind === 'ramp' && step.until.length > 0)) return null;
  }
  return total;
}

function fail(message: string, code: number): number {
  process.stderr.write(`sockstorm: ${maskCredentials(message)}\n`);
  return code;
}

/** A protocol preset (by `--protocol` or a script line) in a run with no target: the bundled server speaks raw only. */
export function presetWithoutTarget(steps: ScriptStep[], options: EngineOptions): { line: number | null; name: string } | null {
  if (options.target !== undefined || options.targets !== undefined) return null;
  if (options.protocol !== undefined && options.protocol !== 'raw') return { line: null, name: options.protocol };
  for (const step of steps) {
    if (step.kind === 'engine' && step.command.type === 'protocol' && step.command.name !== 'raw') return { line: step.line, name: step.command.name };
  }
  return null;
}

/** The largest fleet target a script asks for. */
export function peakTarget(steps: ScriptStep[]): number {
  let target = 0;
  let peak = 0;
  for (const step of steps) {
    if (step.kind !== 'engine' && step.kind !== 'ramp') continue;
    const c = step.command;
    if (c.type === 'set-target' || c.type === 'ramp') target = c.count;
    else if (c.type === 'add') target += c.count;
    else if (c.type === 'remove') target = Math.max(0, target - c.count);
    else if (c.type === 'stop') target = 0;
    peak = Math.max(peak, target);
  }
  return peak;
}

/** Runs a script file; resolves with the process exit code. */
export async function runScriptFile(file: string, engineOptions: EngineOptions, files: RunFiles, source?: string, isHostChecked = true): Promise<number> {
  let text: string;
  try {
    text = source ?? readFileSync(file, 'utf8');
  } catch (error) {
    return fail(`cannot read script ${file}: ${(error as Error).message}`, EXIT.invalid);
  }
  let steps: ScriptStep[];
  try {
    steps = parseScript(text);
  } catch (error) {
    if (error instanceof ScriptError) {
      const all = error instanceof ScriptErrors ? error.errors : [error];
      return fail(all.map((e) => `${file}:${e.line}:${e.column}: ${e.reason}`).join('\nsockstorm: '), EXIT.invalid);
    }
    throw error;
  }
  const rowErrors = resolveUserFiles(
    steps,
    [engineOptions.target ?? '', ...Object.values(engineOptions.headers ?? {}), ...(engineOptions.protocols ?? [])],
    dirname(resolve(file)),
  );
  if (rowErrors.length > 0) return fail(rowErrors.map((e) => `${file}:${e.line}:${e.column}: ${e.reason}`).join('\nsockstorm: '), EXIT.invalid);
  // the target a script names counts as a --target would
  const targetStep = steps.find((step) => step.kind === 'target');
  const asRun = targetStep?.kind === 'target' ? { ...engineOptions, target: targetStep.url } : engineOptions;
  const preset = presetWithoutTarget(steps, asRun);
  if (preset) return fail(`${preset.line === null ? '--protocol' : `${file}:${preset.line}`}: ${presetNeedsTarget(preset.name)}`, EXIT.invalid);
  const peak = peakTarget(steps);
  // against your own loopback server users dial from this host's address, unless one address cannot hold the run
  const spread = spreadFor(asRun, peak);
  const options = spread.addresses.length > 0 ? { ...engineOptions, localAddresses: spread.addresses } : engineOptions;
  const sources = options.localAddresses ?? [];
  if (sources.length > 0 && (asRun.target !== undefined || asRun.targets !== undefined)) {
    process.stderr.write(`sockstorm: ${sourcesNotice(sources, peak, spread.addresses.length > 0 ? spread.portsPerAddress : null)}\n`);
  }
  const capacity = hostCapacity({ ...options, target: asRun.target }, peak);
  // unknown facts (no /proc here) are not a refusal: only limits known to be short are
  // over agents the users are on their hosts, each of which checks itself
  if (isHostChecked && capacity.isShort && !engineOptions.agents) {
    return fail(
      `${file} asks for ${peak} VUs but this host can hold ${capacity.capacity} (bound by ${capacity.binding}); ${capacity.lift}. See \`sockstorm tune check --connections ${peak}\`, or pass --no-host-check to run into the wall on purpose.`,
      EXIT.host,
    );
  }
  const scriptReports = steps.flatMap((step): Array<[string, string]> => (step.kind === 'report' ? [[`the report of line ${step.line}`, step.file]] : []));
  const unwritable = checkOutputPaths([['--json', files.json], ['--ndjson', files.ndjson], ['--report', files.report], ...scriptReports]);
  if (unwritable) return fail(unwritable, EXIT.invalid);
  const controller = new AbortController();
  let signals = 0;
  let hasEngine = false;
  const onSignal = (): void => {
    signals++;
    // before the engine exists (a host name resolving, agents joining, servers starting) there
    // is nothing to summarise, and a lookup in flight cannot be called back: what the start made
    // (servers, shards) follows this process out
    if (!hasEngine) {
      process.stderr.write('\nsockstorm: stopped before the run started\n');
      process.exit(EXIT.signal);
    }
    if (signals === 1) {
      process.stderr.write('\nsockstorm: stopping gracefully (Ctrl+C again to exit at once)\n');
      controller.abort();
    } else {
      process.exit(EXIT.signal);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ndjson = files.ndjson ? createWriteStream(files.ndjson) : null;
  // a write that fails mid-run must not crash it: the snapshots are kept and written elsewhere at the end
  let ndjsonError: Error | null = null;
  ndjson?.on('error', (error) => {
    ndjsonError ??= error;
  });
  const progress = progressWriter(process.stderr, { intervalMs: files.progressInterval, totalMs: scriptLengthMs(steps) });
  let endpoint: Promise<MetricsEndpoint> | null = null;
  try {
    const outcome = await runScript(steps, {
      engineOptions: options.agents ? options : withHostLimit(options, capacity),
      sourcesChosenBy: spread.addresses.length > 0 ? 'spread' : 'option',
      signal: controller.signal,
      onEngine(engine) {
        hasEngine = true;
        if (files.metricsPort === undefined) return;
        endpoint = startMetricsEndpoint(engine, '127.0.0.1', files.metricsPort);
        endpoint.then(
          (e) => process.stderr.write(`sockstorm: metrics at ${e.url}/metrics, snapshots at ${e.url}/stream\n`),
          () => {},
        );
      },
      onSnapshot(snapshot) {
        progress.onSnapshot(snapshot);
        if (!ndjsonError) ndjson?.write(`${snapshotJson(snapshot)}\n`);
      },
    });
    progress.end();
    const writes: WriteOutcome[] = [];
    if (ndjson) {
      if (!ndjsonError)
        await new Promise<void>((resolve) => {
          ndjson.once('error', () => resolve());
          ndjson.end(() => resolve());
        });
      if (ndjsonError) writes.push(writeOutput(files.ndjson!, outcome.snapshots.map((s) => `${snapshotJson(s)}\n`).join('')));
    }
    if (files.json) writes.push(writeOutput(files.json, `${JSON.stringify(outcome.summary, null, 2)}\n`));
    const reportFile = files.report ?? outcome.reportFile;
    if (reportFile) writes.push(writeOutput(reportFile, renderReport(outcome.summary, outcome.snapshots)));
    const failed = writes.filter((w): w is Extract<WriteOutcome, { ok: false }> => !w.ok);
    // the headline says the code the shell gets: 107 when a run that passed could not write an output
    const exitCode = failed.length > 0 && outcome.summary.exitCode === EXIT.passed ? EXIT.output : outcome.summary.exitCode;
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    process.stdout.write(`${formatSummary({ ...outcome.summary, exitCode }, { color })}\n`);
    for (const w of failed) {
      process.stderr.write(
        `sockstorm: could not write ${w.path} (${w.reason}); ${w.fallback ? `the data is in ${w.fallback}` : 'and no fallback file could be written either'} [output]\n`,
      );
    }
    return exitCode;
  } catch (error) {
    progress.end();
    ndjson?.end();
    if (error instanceof EngineConfigError) return fail(`${error.message} [${error.code}]`, EXIT.invalid);
    if (error instanceof AgentsError) return fail(`${error.message} [${error.code}]`, error.code === 'agents.timeout' ? EXIT.host : EXIT.invalid);
    if (error instanceof ServerStartError) return fail(`${error.message} [${error.code}]`, 1);
    throw error;
  } finally {
    if (endpoint)
      await (endpoint as Promise<MetricsEndpoint>).then(
        (e) => e.close(),
        (error: Error) => process.stderr.write(`sockstorm: metrics endpoint failed: ${error.message}\n`),
      );
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
