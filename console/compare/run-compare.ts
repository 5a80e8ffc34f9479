/**
 * Runs one script once per variant per round, each run against a fresh engine and fresh
 * bundled servers set up by the variant's knobs. The order alternates from round to round
 * (as given, then reversed, …) so that whatever drifts on the machine over the comparison
 * (warm caches, a neighbour's load) does not favour the variant that always goes first.
 */
import type { EngineOptions } from '../engine/engine-options.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';
import type { ScriptStep } from '../script/parse.ts';
import { runScript } from '../script/runner.ts';
import type { CompareColumn } from './compare-table.ts';
import { variantOptions, type Variant } from './variants.ts';

/** One run of the plan: which variant, in which round. */
export interface PlannedRun {
  variant: number;
  round: number;
}

/** The runs in the order they go: even rounds (from 0) take the variants as given, odd rounds reversed. */
export function runOrder(variants: number, rounds: number): PlannedRun[] {
  const plan: PlannedRun[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = Array.from({ length: variants }, (_, i) => (round % 2 === 0 ? i : variants - 1 - i));
    for (const variant of order) plan.push({ variant, round });
  }
  return plan;
}

/** Options of {@link runCompare}. */
export interface CompareRunOptions {
  steps: ScriptStep[];
  variants: Variant[];
  /** @default 1 */
  rounds?: number;
  /** The command's own engine options; each variant's knobs go over them. */
  base: EngineOptions;
  /** The values the script's templates name (`{{env.NAME}}`, env-refs.ts). */
  templateValues?: Record<string, string>;
  /** Aborted by the first Ctrl+C: the run in progress stops gracefully, the rest are not started. */
  signal?: AbortSignal;
  /** Before each run: `index` counts from 0 over all `total` runs. */
  onRun?(variant: Variant, run: PlannedRun, index: number, total: number): void;
  onSnapshot?(snapshot: Snapshot): void;
  /** After each run (its progress line can end). */
  onRunEnd?(variant: Variant, run: PlannedRun): void;
}

/** Runs every variant for every round; a column a variant, its runs in round order (fewer when aborted). */
export async function runCompare(options: CompareRunOptions): Promise<CompareColumn[]> {
  const columns: CompareColumn[] = options.variants.map((v) => ({ name: v.name, knobs: v.knobs, runs: [] }));
  const byRound: Array<Array<CompareColumn['runs'][number] | undefined>> = options.variants.map(() => []);
  const plan = runOrder(options.variants.length, options.rounds ?? 1);
  for (const [index, planned] of plan.entries()) {
    if (options.signal?.aborted) break;
    const variant = options.variants[planned.variant]!;
    options.onRun?.(variant, planned, index, plan.length);
    const outcome = await runScript(options.steps, {
      engineOptions: variantOptions(options.base, variant),
      signal: options.signal,
      onSnapshot: options.onSnapshot,
      templateValues: options.templateValues,
    });
    options.onRunEnd?.(variant, planned);
    byRound[planned.variant]![planned.round] = outcome.summary;
  }
  byRound.forEach((runs, i) => {
    columns[i]!.runs = runs.filter((r) => r !== undefined);
  });
  return columns;
}
