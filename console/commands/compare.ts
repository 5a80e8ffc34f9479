/**
 * `sockstorm compare SCRIPT --variant NAME:KNOBS … [--rounds N]` and `sockstorm compare a.json
 * b.json …`: everything is checked before any socket opens (a malformed variant, a bad script,
 * an unwritable output, a host too small: 104 or 106, naming what), then the runs go, the table
 * is printed on stdout, `--json` and `--report` are written. The exit code is the worst verdict
 * of the runs (a failed run 99, else an inconclusive one 100); the first Ctrl+C stops the run in
 * progress gracefully, starts no other, and still prints and writes what was measured (105).
 */
import { EXIT, ExitError } from '../../target-server/contract/exit-codes.ts';
import { engineOptions, type Flags } from '../cli-options.ts';
import type { EngineOptions } from '../engine/engine-options.ts';
import { hostCapacity, hostRefusal, withHostLimit } from '../host-check.ts';
import { progressWriter } from '../report/progress.ts';
import type { ScriptStep } from '../script/parse.ts';
import { readScript, scriptErrorLines } from '../script/read-script.ts';
import { resolveEnvRefs } from '../script/env-refs.ts';
import { checkOutputPaths, writeOutput, type WriteOutcome } from '../report/output-files.ts';
import { type JunitSuite, renderJunitSuites } from '../report/junit.ts';
import { envFlags, peakTarget, presetWithoutTarget, scriptLengthMs } from './run.ts';
import { compareRows, formatCompareTable, type CompareColumn } from '../compare/compare-table.ts';
import { renderCompareReport } from '../compare/compare-report.ts';
import { runCompare } from '../compare/run-compare.ts';
import { loadSavedColumns } from '../compare/saved-summaries.ts';
import { parseVariants, variantOptions, type Variant } from '../compare/variants.ts';

/** The flags of `compare`. */
export interface CompareFlags extends Flags {
  variant?: string[];
  /** @default 1 (the option's) */
  rounds: number;
  json?: string;
  report?: string;
  junit?: string;
  progressInterval?: number;
  hostCheck?: boolean;
}

/** What `compare --json` writes. */
export interface CompareDocument {
  kind: 'sockstorm.compare';
  rounds: number;
  warnings: string[];
  variants: Array<{ name: string; knobs: string; figures: Record<string, number | null>; runs: CompareColumn['runs'] }>;
}

/** Input compare cannot take (104), said by the entry. */
class InvalidInput extends ExitError {
  constructor(message: string) {
    super(message, EXIT.invalid);
  }
}

/** The JSON document of a comparison: each variant's figures (as the table's rows) and its summaries. */
export function compareDocument(columns: CompareColumn[], warnings: string[]): CompareDocument {
  const rows = compareRows(columns);
  return {
    kind: 'sockstorm.compare',
    rounds: Math.max(0, ...columns.map((c) => c.runs.length)),
    warnings,
    variants: columns.map((c, i) => ({
      name: c.name,
      knobs: c.knobs,
      figures: Object.fromEntries(rows.map((r) => [r.id, r.values[i] ?? null])),
      runs: c.runs,
    })),
  };
}

/**
 * A JUnit suite per run, named for its variant (and round); a saved summary's column is named
 * for its file (`script` null: its suite says the file it came from).
 */
function junitSuites(columns: CompareColumn[], script: string | null): JunitSuite[] {
  return columns.flatMap((column) =>
    column.runs.map((run, round) => {
      const rounds = column.runs.length > 1 ? ` round ${round + 1}` : '';
      const source: Array<[string, string]> =
        script === null
          ? [['summary', column.knobs]]
          : [
              ['script', script],
              ['variant', column.name],
            ];
      return {
        name: `sockstorm compare ${column.name} (${column.knobs})${rounds}`,
        summary: run,
        properties: [
          ['exitCode', String(run.exitCode)],
          ['verdict', run.verdict],
          ...source,
          ...(run.script ? [['script.sha256', run.script.sha256] as [string, string]] : []),
        ],
      };
    }),
  );
}

/** Prints the table and writes the outputs; returns the writes that failed as a code (107) or null. */
function finish(
  columns: CompareColumn[],
  warnings: string[],
  flags: CompareFlags,
  script: string | null,
): number | null {
  const writes: WriteOutcome[] = [];
  if (flags.json)
    writes.push(writeOutput(flags.json, `${JSON.stringify(compareDocument(columns, warnings), null, 2)}\n`));
  if (flags.report) writes.push(writeOutput(flags.report, renderCompareReport(columns, warnings)));
  if (flags.junit) writes.push(writeOutput(flags.junit, renderJunitSuites(junitSuites(columns, script))));
  for (const w of warnings) process.stderr.write(`sockstorm: warning: ${w}\n`);
  process.stdout.write(`${formatCompareTable(columns, warnings)}\n`);
  const failed = writes.filter((w): w is Extract<WriteOutcome, { ok: false }> => !w.ok);
  for (const w of failed) {
    process.stderr.write(
      `sockstorm: could not write ${w.path} (${w.reason}); ` +
        `${w.fallback ? `the data is in ${w.fallback}` : 'and no fallback file could be written either'} ` +
        `[output]\n`,
    );
  }
  return failed.length > 0 ? EXIT.output : null;
}

function parseCompareScript(file: string): ScriptStep[] {
  const steps = readScript(file);
  if (steps.some((s) => s.kind === 'target'))
    throw new InvalidInput(
      `${file}: compare runs each variant against fresh bundled servers, so a script with "target" ` +
        `cannot be compared; run it against each setup with \`sockstorm run --json\` and compare the ` +
        `summaries`,
    );
  return steps;
}

// what is known before anything starts: the variants, the script, the options, the outputs, the host
function prepare(
  script: string,
  flags: CompareFlags,
): { steps: ScriptStep[]; variants: Variant[]; base: EngineOptions; templateValues: Record<string, string> } {
  if (flags.metricsPort !== undefined)
    throw new InvalidInput(
      'compare serves no --metrics-port: it runs one script after another; watch a single run with ' +
        '`sockstorm run --metrics-port`',
    );
  if (flags.target !== undefined || flags.targets !== undefined || flags.agents !== undefined) {
    throw new InvalidInput(
      'compare starts fresh bundled servers for each variant: --target, --targets and --agents do not ' +
        'apply; compare a real target with `sockstorm compare before.json after.json` from `run --json`',
    );
  }
  if ((flags.variant ?? []).length === 0)
    throw new InvalidInput(
      'compare SCRIPT needs two or more --variant NAME:KNOBS, e.g. --variant ' +
        'ws-loop:engine=ws,fanout=loop --variant uws:engine=uws',
    );
  const variants = parseVariants(flags.variant ?? []);
  const steps = parseCompareScript(script);
  const base = engineOptions(flags);
  const env = resolveEnvRefs(steps, envFlags(base), process.env);
  const envErrors = [...(env.errors.length > 0 ? [scriptErrorLines(script, env.errors)] : []), ...env.flagErrors];
  if (envErrors.length > 0) throw new InvalidInput(envErrors.join('\nsockstorm: '));
  const preset = presetWithoutTarget(steps, base);
  if (preset)
    throw new InvalidInput(
      `${preset.line === null ? '--protocol' : `${script}:${preset.line}`}: protocol ${preset.name} ` +
        `speaks to your own server, and compare runs the bundled one (raw WebSocket only); run it ` +
        `against each setup with \`sockstorm run --target … --json\` and compare the summaries`,
    );
  const unwritable = checkOutputPaths([
    ['--json', flags.json],
    ['--report', flags.report],
    ['--junit', flags.junit],
  ]);
  if (unwritable) throw new InvalidInput(unwritable);
  const peak = peakTarget(steps);
  for (const variant of flags.hostCheck === false ? [] : variants) {
    const capacity = hostCapacity(variantOptions(base, variant), peak);
    const refusal = hostRefusal(`${script}, set up as variant ${variant.name},`, peak, capacity);
    if (refusal) throw refusal;
  }
  return { steps, variants, base: withHostLimit(base, hostCapacity(base, peak)), templateValues: env.values };
}

/** The worst verdict of the runs as an exit code: a failed run, else an inconclusive one, else 0. */
export function compareExitCode(columns: CompareColumn[], isSignalled: boolean): number {
  const codes = columns.flatMap((c) => c.runs.map((r) => r.exitCode));
  if (isSignalled) return EXIT.signal;
  if (codes.includes(EXIT.failed)) return EXIT.failed;
  if (codes.includes(EXIT.inconclusive)) return EXIT.inconclusive;
  return codes.find((code) => code !== EXIT.passed) ?? EXIT.passed;
}

async function compareScript(script: string, flags: CompareFlags): Promise<number> {
  const { steps, variants, base, templateValues } = prepare(script, flags);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(EXIT.signal);
    process.stderr.write(
      '\nsockstorm: stopping this run gracefully and starting no other (Ctrl+C again to exit at once)\n',
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let progress: ReturnType<typeof progressWriter> | null = null;
  try {
    const columns = await runCompare({
      steps,
      templateValues,
      variants,
      rounds: flags.rounds,
      base,
      signal: controller.signal,
      onRun(variant, run, index, total) {
        process.stderr.write(
          `sockstorm: run ${index + 1} of ${total}: ${variant.name} ` +
            `(${variant.knobs})${flags.rounds > 1 ? `, round ${run.round + 1}` : ''}\n`,
        );
        progress = progressWriter(process.stderr, {
          intervalMs: flags.progressInterval,
          totalMs: scriptLengthMs(steps),
        });
      },
      onSnapshot: (snapshot) => progress?.onSnapshot(snapshot),
      onRunEnd: () => progress?.end(),
    });
    const output = finish(columns, [], flags, script);
    const code = compareExitCode(columns, controller.signal.aborted);
    return output !== null && code === EXIT.passed ? output : code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function compareSaved(files: string[], flags: CompareFlags): number {
  if ((flags.variant ?? []).length > 0)
    throw new InvalidInput(
      '--variant goes with a script (compare SCRIPT --variant …); saved summaries are compared as they were run',
    );
  const unwritable = checkOutputPaths([
    ['--json', flags.json],
    ['--report', flags.report],
    ['--junit', flags.junit],
  ]);
  if (unwritable) throw new InvalidInput(unwritable);
  const { columns, warnings } = loadSavedColumns(files);
  return finish(columns, warnings, flags, null) ?? EXIT.passed;
}

/**
 * Runs `compare` on its arguments; resolves with the process exit
 * code, or throws an ExitError (104, 106) for the entry to say.
 */
export async function runCompareCommand(inputs: string[], flags: CompareFlags): Promise<number> {
  const jsonCount = inputs.filter((f) => /\.json$/i.test(f)).length;
  if (jsonCount > 0 && jsonCount === inputs.length) {
    if (inputs.length < 2)
      throw new InvalidInput(
        'compare needs two or more saved summaries (a.json b.json …), or a script and two or more --variant',
      );
    return compareSaved(inputs, flags);
  }
  if (inputs.length !== 1 || jsonCount > 0)
    throw new InvalidInput(
      'compare takes one script with --variant options, or two or more saved summaries (*.json), not a mix',
    );
  return await compareScript(inputs[0]!, flags);
}
