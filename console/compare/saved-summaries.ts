/**
 * `sockstorm compare a.json b.json …`: run summaries saved by `run --json` as the columns of a
 * comparison, so a real target can be compared before and after a change made outside
 * sockstorm. Summaries of different scripts are still compared, with a warning that names what
 * differs (the commands, one by one, from their saved script record).
 */
import { basename } from 'node:path';
import { EXIT, ExitError } from '../../target-server/contract/exit-codes.ts';
import type { RunSummary } from '../report/summary.ts';
import { readInput } from '../script/read-script.ts';
import type { CompareColumn } from './compare-table.ts';

/** A file that is not a run summary (not JSON, not the shape `run --json` writes): 104, naming the file. */
export class SavedSummaryError extends ExitError {
  constructor(message: string) {
    super(message, EXIT.invalid, 'compare.input');
  }
}

function isSummary(value: unknown): value is RunSummary {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<Record<keyof RunSummary, unknown>>;
  const latency = v.latency as Record<string, unknown> | undefined;
  return (
    typeof v.verdict === 'string' &&
    typeof latency === 'object' &&
    latency !== null &&
    ['connect', 'rtt', 'fanout'].every((name) => typeof latency[name] === 'object') &&
    typeof v.saturated === 'object' &&
    typeof v.broadcasts === 'object'
  );
}

/**
 * Reads one saved summary; throws {@link SavedSummaryError}
 * naming the file, or readInput's error when it cannot be read.
 */
export function readSummary(file: string): RunSummary {
  const text = readInput(file, 'summary');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SavedSummaryError(`${file} is not JSON; give summaries written by \`sockstorm run --json\``);
  }
  if ((value as { kind?: unknown } | null)?.kind === 'sockstorm.compare') {
    throw new SavedSummaryError(
      `${file} is the output of a comparison, not a run summary; give the summaries of \`sockstorm run --json\``,
    );
  }
  if (!isSummary(value))
    throw new SavedSummaryError(
      `${file} is not a run summary (no verdict, latency, saturated and broadcasts); give summaries ` +
        `written by \`sockstorm run --json\``,
    );
  return value;
}

const quote = (command: string | undefined): string => (command === undefined ? 'nothing' : `"${command}"`);

/** What differs between two scripts' commands, as a sentence: the first difference and how many there are. */
export function scriptDifference(name: string, commands: string[], firstName: string, firstCommands: string[]): string {
  const length = Math.max(commands.length, firstCommands.length);
  const differing: number[] = [];
  for (let i = 0; i < length; i++) if (commands[i] !== firstCommands[i]) differing.push(i);
  const at = differing[0] ?? 0;
  const more = differing.length > 1 ? ` (${differing.length} commands differ in all)` : '';
  return (
    `${name} ran a different script from ${firstName}: command ${at + 1} is ${quote(commands[at])} ` +
    `in ${name} and ${quote(firstCommands[at])} in ${firstName}${more}`
  );
}

/** Warnings for columns whose scripts differ from the first column's, or cannot be told. */
export function scriptWarnings(columns: Array<{ name: string; summary: RunSummary }>): string[] {
  const [first, ...rest] = columns;
  if (!first) return [];
  const unknown = columns.filter((c) => !c.summary.script).map((c) => c.name);
  const warnings =
    unknown.length > 0
      ? [
          `${unknown.join(', ')} ${unknown.length > 1 ? 'have' : 'has'} no script record (written by an ` +
            `older sockstorm): whether the scripts are the same cannot be told`,
        ]
      : [];
  const firstScript = first.summary.script;
  if (!firstScript) return warnings;
  for (const column of rest) {
    const script = column.summary.script;
    if (script && script.sha256 !== firstScript.sha256)
      warnings.push(scriptDifference(column.name, script.commands, first.name, firstScript.commands));
  }
  return warnings;
}

/** Column names from file names: `before.json` is `before`; the whole path where two would clash. */
function names(files: string[]): string[] {
  const short = files.map((f) => basename(f).replace(/\.json$/i, ''));
  return short.map((name, i) => (short.indexOf(name) !== short.lastIndexOf(name) ? files[i]! : name));
}

/** The columns and warnings of a comparison of saved summaries; throws {@link SavedSummaryError}. */
export function loadSavedColumns(files: string[]): { columns: CompareColumn[]; warnings: string[] } {
  const summaries = files.map(readSummary);
  const named = names(files).map((name, i) => ({ name, summary: summaries[i]! }));
  return {
    columns: named.map(({ name, summary }, i) => ({ name, knobs: files[i]!, runs: [summary] })),
    warnings: scriptWarnings(named),
  };
}
