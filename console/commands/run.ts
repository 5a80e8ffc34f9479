/**
 * `sockstorm run script.storm`: parse, run headless, print progress and the end summary,
 * write `--json`, `--ndjson` and `--report`, exit with the verdict's code. The first
 * Ctrl+C stops gracefully and still writes every output; a second exits at once with 105.
 */
import { createWriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ExitError } from '../../target-server/contract/exit-codes.ts';
import { engineOptions, type Flags } from '../cli-options.ts';
import { presetNeedsTarget, type EngineOptions } from '../engine/engine-options.ts';
import { sourcesNotice } from '../engine/users/sources.ts';
import type { ScriptStep } from '../script/parse.ts';
import { readScript, readStdin, scriptErrorLines, STDIN_NAME } from '../script/read-script.ts';
import { hostCapacity, hostRefusal, spreadFor, withHostLimit } from '../host-check.ts';
import { resolveUserFiles } from '../script/user-rows.ts';
import { resolveEnvRefs } from '../script/env-refs.ts';
import { renderReport } from '../report/html-report.ts';
import { renderJunit } from '../report/junit.ts';
import { progressWriter } from '../report/progress.ts';
import { runScript } from '../script/runner.ts';
import { announceEndpoint, startMetricsEndpoint, type MetricsEndpoint } from '../report/metrics-endpoint.ts';
import { startOtlpPush, type OtlpPush } from '../report/otlp-push.ts';
import { EXIT, snapshotJson } from '../report/summary.ts';
import { formatSummary } from '../report/summary-text.ts';
import { checkOutputPaths, writeOutput, type WriteOutcome } from '../report/output-files.ts';

/** Output files of a run, and the optional live endpoint. */
export interface RunFiles {
  json?: string;
  ndjson?: string;
  report?: string;
  /** A JUnit XML file, one test case per threshold (junit.ts). */
  junit?: string;
  /** Serve /metrics, /snapshot and /stream on `metricsHost` at this port (0: a free one). */
  metricsPort?: number;
  /** Where the endpoint listens; an address other than loopback is said on stderr. @default '127.0.0.1' */
  metricsHost?: string;
  /** Seconds the endpoint keeps serving after the run, until its next /metrics scrape (none after a signal). @default 15 */
  metricsLinger?: number;
  /** An OTLP/HTTP receiver to push the metrics to (otlp-push.ts). */
  otlp?: string;
  /** One progress line per this many ms. @default 1000 */
  progressInterval?: number;
}

/**
 * How long a script runs when every step has a known length
 * (waits; a ramp without `until` does not block); null otherwise.
 */
export function scriptLengthMs(steps: ScriptStep[]): number | null {
  let total = 0;
  for (const step of steps) {
    if (step.kind === 'wait') total += step.ms;
    else if (
      step.kind === 'await-open' ||
      step.kind === 'await-recovered' ||
      (step.kind === 'ramp' && step.until.length > 0)
    )
      return null;
  }
  return total;
}

/** A protocol preset (by `--protocol` or a script line) in a run with no target: the bundled server speaks raw only. */
export function presetWithoutTarget(
  steps: ScriptStep[],
  options: EngineOptions,
): { line: number | null; name: string } | null {
  if (options.target !== undefined || options.targets !== undefined) return null;
  if (options.protocol !== undefined && options.protocol !== 'raw') return { line: null, name: options.protocol };
  for (const step of steps) {
    if (step.kind === 'engine' && step.command.type === 'protocol' && step.command.name !== 'raw')
      return { line: step.line, name: step.command.name };
  }
  return null;
}

/**
 * The flags' texts that may name `{{env.NAME}}` (rendered per user: headers, subprotocols) and
 * those that may not (shown as given, or rendered without the user's values).
 */
export function envFlags(options: EngineOptions): Array<[flag: string, text: string, isTemplated: boolean]> {
  return [
    ...Object.values(options.headers ?? {}).map((v): [string, string, boolean] => ['--header', v, true]),
    ...(options.protocols ?? []).map((v): [string, string, boolean] => ['--subprotocol', v, true]),
    ...[options.target ?? '', ...(options.targets ?? [])].map((v): [string, string, boolean] => ['--target', v, false]),
    ['--broadcast-send', options.broadcastSend ?? '', false],
    ['--broadcast-http', options.broadcastHttp ?? '', false],
  ];
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

/**
 * Runs a script file; resolves with the process exit code of its verdict. What stops it before
 * or instead of a verdict (a bad script, a host too small, an engine that cannot start) is
 * thrown as an ExitError for the entry to say.
 */
export async function runScriptFile(
  file: string,
  engineOptions: EngineOptions,
  files: RunFiles,
  source?: string,
  isHostChecked = true,
): Promise<number> {
  const steps = readScript(file, source);
  const rowErrors = resolveUserFiles(
    steps,
    [engineOptions.target ?? '', ...Object.values(engineOptions.headers ?? {}), ...(engineOptions.protocols ?? [])],
    // a script from stdin has no directory of its own: its files are the current directory's
    file === STDIN_NAME ? process.cwd() : dirname(resolve(file)),
  );
  if (rowErrors.length > 0) throw new ExitError(scriptErrorLines(file, rowErrors), EXIT.invalid);
  const env = resolveEnvRefs(steps, envFlags(engineOptions), process.env);
  if (env.errors.length > 0 || env.flagErrors.length > 0)
    throw new ExitError(
      [...(env.errors.length > 0 ? [scriptErrorLines(file, env.errors)] : []), ...env.flagErrors].join('\nsockstorm: '),
      EXIT.invalid,
    );
  // the target a script names counts as a --target would
  const targetStep = steps.find((step) => step.kind === 'target');
  const asRun = targetStep?.kind === 'target' ? { ...engineOptions, target: targetStep.url } : engineOptions;
  const preset = presetWithoutTarget(steps, asRun);
  if (preset)
    throw new ExitError(
      `${preset.line === null ? '--protocol' : `${file}:${preset.line}`}: ${presetNeedsTarget(preset.name)}`,
      EXIT.invalid,
    );
  const peak = peakTarget(steps);
  // against your own loopback server users dial from this host's address, unless one address cannot hold the run
  const spread = spreadFor(asRun, peak);
  const options = spread.addresses.length > 0 ? { ...engineOptions, localAddresses: spread.addresses } : engineOptions;
  const sources = options.localAddresses ?? [];
  if (sources.length > 0 && (asRun.target !== undefined || asRun.targets !== undefined)) {
    process.stderr.write(
      `sockstorm: ${sourcesNotice(sources, peak, spread.addresses.length > 0 ? spread.portsPerAddress : null)}\n`,
    );
  }
  const capacity = hostCapacity({ ...options, target: asRun.target }, peak);
  // unknown facts (no /proc here) are not a refusal: only limits known to be short are
  // over agents the users are on their hosts, each of which checks itself
  const refusal = isHostChecked && !engineOptions.agents ? hostRefusal(file, peak, capacity) : null;
  if (refusal) throw refusal;
  const scriptReports = steps.flatMap(
    (step): Array<[string, string]> => (step.kind === 'report' ? [[`the report of line ${step.line}`, step.file]] : []),
  );
  const unwritable = checkOutputPaths([
    ['--json', files.json],
    ['--ndjson', files.ndjson],
    ['--report', files.report],
    ['--junit', files.junit],
    ...scriptReports,
  ]);
  if (unwritable) throw new ExitError(unwritable, EXIT.invalid);
  const controller = new AbortController();
  let signals = 0;
  let hasEngine = false;
  // a signal while the endpoint lingers after the run ends the linger
  const linger = new AbortController();
  const onSignal = (): void => {
    signals++;
    if (outcomeReady) return linger.abort();
    // before the engine exists (a host name resolving, agents joining, servers starting) there
    // is nothing to summarise, and a lookup in flight cannot be called back: what the start made
    // (servers, shards) follows this process out
    // agents that joined are told the run is over (they exit, not dial again for minutes); bounded
    if (!hasEngine && engineOptions.agents && signals === 1) {
      process.stderr.write(
        '\nsockstorm: stopping: the agents that joined are told the run is over (Ctrl+C again to exit at once)\n',
      );
      controller.abort();
      setTimeout(() => process.exit(EXIT.signal), 5000).unref();
      return;
    }
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
  const progress = progressWriter(process.stderr, {
    intervalMs: files.progressInterval,
    totalMs: scriptLengthMs(steps),
  });
  let endpoint: Promise<MetricsEndpoint> | null = null;
  let push: OtlpPush | null = null;
  let outcomeReady = false;
  try {
    const outcome = await runScript(steps, {
      engineOptions: options.agents ? options : withHostLimit(options, capacity),
      sourcesChosenBy: spread.addresses.length > 0 ? 'spread' : 'option',
      templateValues: env.values,
      signal: controller.signal,
      onEngine(engine) {
        hasEngine = true;
        if (files.otlp)
          push = startOtlpPush(engine, files.otlp, (text) => process.stderr.write(`sockstorm: ${text}\n`));
        if (files.metricsPort === undefined) return;
        const host = files.metricsHost ?? '127.0.0.1';
        endpoint = startMetricsEndpoint(engine, host, files.metricsPort);
        endpoint.then(
          (e) => process.stderr.write(`sockstorm: ${announceEndpoint(e, host)}\n`),
          () => {},
        );
      },
      onSnapshot(snapshot) {
        progress.onSnapshot(snapshot);
        if (!ndjsonError) ndjson?.write(`${snapshotJson(snapshot)}\n`);
      },
    });
    progress.end();
    // the final figures, pushed once more before the summary (they are the run's last word)
    await (push as OtlpPush | null)?.close();
    const writes: WriteOutcome[] = [];
    if (ndjson) {
      if (!ndjsonError)
        await new Promise<void>((resolve) => {
          ndjson.once('error', () => resolve());
          ndjson.end(() => resolve());
        });
      if (ndjsonError)
        writes.push(writeOutput(files.ndjson!, outcome.snapshots.map((s) => `${snapshotJson(s)}\n`).join('')));
    }
    if (files.json) writes.push(writeOutput(files.json, `${JSON.stringify(outcome.summary, null, 2)}\n`));
    const reportFile = files.report ?? outcome.reportFile;
    if (reportFile) writes.push(writeOutput(reportFile, renderReport(outcome.summary, outcome.snapshots)));
    // the headline says the code the shell gets: 107 when a run that passed could not write an output
    const codeAfter = (outcomes: WriteOutcome[]): number =>
      outcomes.some((w) => !w.ok) && outcome.summary.exitCode === EXIT.passed ? EXIT.output : outcome.summary.exitCode;
    // the JUnit file says the exit code too, so it is written last, with the code the others left
    if (files.junit) {
      const junit = writeOutput(files.junit, renderJunit(outcome.summary, file, codeAfter(writes)));
      // its own failure can turn a pass into 107: the copy kept elsewhere says so
      if (!junit.ok && junit.fallback && codeAfter([...writes, junit]) !== codeAfter(writes))
        writeOutput(junit.fallback, renderJunit(outcome.summary, file, codeAfter([...writes, junit])));
      writes.push(junit);
    }
    const failed = writes.filter((w): w is Extract<WriteOutcome, { ok: false }> => !w.ok);
    const exitCode = codeAfter(writes);
    const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
    process.stdout.write(`${formatSummary({ ...outcome.summary, exitCode }, { color })}\n`);
    for (const w of failed) {
      process.stderr.write(
        `sockstorm: could not write ${w.path} (${w.reason}); ` +
          `${w.fallback ? `the data is in ${w.fallback}` : 'and no fallback file could be written either'} ` +
          `[output]\n`,
      );
    }
    return exitCode;
  } catch (error) {
    progress.end();
    ndjson?.end();
    throw error;
  } finally {
    await (push as OtlpPush | null)?.close();
    if (endpoint)
      await (endpoint as Promise<MetricsEndpoint>).then(
        async (e) => {
          // the last scrape sees the final figures: the endpoint stays until it has come (a stopped run does not wait)
          const lingerS = files.metricsLinger ?? 15;
          if (lingerS > 0 && !controller.signal.aborted) {
            outcomeReady = true;
            process.stderr.write(
              `sockstorm: ${e.url}/metrics serves the final figures until its next scrape, ${lingerS} s at most (--metrics-linger)\n`,
            );
            await e.nextScrape(lingerS * 1000, linger.signal);
          }
          await e.close();
        },
        (error: Error) => process.stderr.write(`sockstorm: metrics endpoint failed: ${error.message}\n`),
      );
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * `sockstorm run SCRIPT` (`-`: read from stdin): the script with the fleet
 * options and the outputs the flags ask for; resolves with the exit code.
 */
export async function runCommand(script: string, flags: Flags & RunFiles & { hostCheck?: boolean }): Promise<number> {
  const options = engineOptions(flags);
  // `-` is stdin, named <stdin> in errors
  const [file, source] = script === '-' ? [STDIN_NAME, await readStdin()] : [script, undefined];
  return runScriptFile(file, options, flags, source, flags.hostCheck !== false);
}
