/**
 * The end of a run: its figures as threshold metrics, each threshold judged, the verdict and
 * exit code, decided here once from snapshots. Pure. What a person reads is summary-text.ts;
 * `--json` writes this object as it is.
 */
import type { LatencySummary } from '../engine/measure/histogram.ts';
import type { LatencyName } from '../engine/measure/metrics.ts';
import { errorTotal, type Snapshot } from '../engine/measure/snapshot.ts';
import { evaluateThresholds, scriptFailure, type Threshold, type ThresholdResult } from '../verdict/thresholds.ts';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import { judge, verdictOf, type Verdict } from '../verdict/verdict.ts';
import { comparableParts, type Distributions, type ScriptIdentity, type SecondFigures } from './comparable.ts';
import type { EncodedHistogram } from '../engine/measure/histogram.ts';
import { partsHealth, type PartHealth } from './part-health.ts';

export { EXIT, type Verdict };

/** A latency's figures in ms; every figure is null when nothing was measured (never 0). */
export interface LatencyFigures {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/** A histogram summary as JSON figures: null where unmeasured. */
export function figures(s: LatencySummary): LatencyFigures {
  if (s.count === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  return { count: s.count, p50: s.p50, p90: s.p90, p99: s.p99, max: s.max, mean: s.mean };
}

/** Every latency of a record as figures. */
export function latencyFigures(latency: Record<LatencyName, LatencySummary>): Record<LatencyName, LatencyFigures> {
  return Object.fromEntries(Object.entries(latency).map(([name, s]) => [name, figures(s)])) as Record<
    LatencyName,
    LatencyFigures
  >;
}

/** A snapshot as NDJSON and /snapshot write it: unmeasured latencies are null. */
export function snapshotJson(s: Snapshot): string {
  return JSON.stringify({
    ...s,
    latency: latencyFigures(s.latency),
    interval: latencyFigures(s.interval),
    minReach: s.broadcastsSettled > 0 ? s.minReach : null,
  });
}

/** Everything `--json` writes. */
export interface RunSummary {
  verdict: Verdict;
  exitCode: number;
  durationMs: number;
  target: Snapshot['target'];
  fleet: { target: number; open: number; peakOpen: number; policy: string };
  totals: Snapshot['totals'];
  latency: Record<LatencyName, LatencyFigures>;
  recoveries: Snapshot['recoveries'];
  /**
   * `minReach` is null when no broadcast settled; `unsent` counts broadcasts of a series the end of the script cut off.
   */
  broadcasts: { settled: number; minReach: number | null; unsent: number; last: Snapshot['broadcasts'] };
  errors: Record<string, number>;
  /** Passes and fails of each `check`. */
  checks: Snapshot['checks'];
  errorRate: number;
  health: {
    loopDelayP99MaxMs: number;
    utilizationMax: number;
    cpuPercentMax: number;
    rssMaxBytes: number;
    bytesPerOpenVu: number;
  };
  saturated: { intervals: number; of: number; share: number };
  server: Snapshot['server'];
  thresholds: ThresholdResult[];
  notes: string[];
  marks: Snapshot['marks'];
  /** Knees found by `ramp ... until`. */
  knees: Array<{ open: number; line: number; reason: string }>;
  /** Each part of a run over agents or several processes: name, address, share, health, when it was lost. Absent in one process. */
  parts?: PartHealth[];
  /**
   * Where users dialled from, against a target that is not the bundled server, when addresses were
   * chosen (`--source-addresses`, or `spread` because one address had too few ports): the most
   * users open at once from one address is what a per-address limit on the target saw. Absent when
   * users dialled from the host's own address.
   */
  sources?: { addresses: string[]; chosenBy: 'option' | 'spread'; peakOpenPerAddress: number };
  // what `sockstorm compare a.json b.json` reads (comparable.ts); optional: older summaries lack them
  /** Each latency's whole-run percentile curve, p50..p99.9 and the max (as p100); null: not measured. */
  distributions?: Distributions;
  /**
   * One record a measured second: fan-out and RTT p99, the server's
   * loop delay p99 and max, publish time, utilisation, CPU.
   */
  series?: SecondFigures[];
  /** Epoch ms of the run's start (elapsed 0), which places marks on the series' time axis. */
  startedAtMs?: number | null;
  /** The script's commands and their SHA-256, so runs of different scripts can be told apart. */
  script?: ScriptIdentity;
}

/** The values `expect` can name, from the final snapshot. */
export function metricValues(last: Snapshot, peakOpen: number): Record<string, number | null> {
  const values: Record<string, number | null> = {};
  for (const [name, summary] of Object.entries(last.latency) as Array<[string, LatencySummary]>) {
    for (const stat of ['p50', 'p90', 'p99', 'max', 'mean'] as const)
      values[`${name}.${stat}`] = summary.count > 0 ? summary[stat] : null;
  }
  const recovery = last.recovery;
  values['recovery.p95'] = recovery?.p95Ms ?? null;
  values['recovery.full'] = recovery?.fullMs ?? null;
  values.open = last.isStopped ? peakOpen : last.fleet.open;
  values.reach = last.broadcastsSettled > 0 ? last.minReach : null;
  values.missed = last.totals.missed;
  values.cut = last.totals.cut;
  const errorCount = errorTotal(last.errors);
  values['errors.count'] = errorCount;
  values['errors.rate'] = last.totals.attempts > 0 ? last.totals.failures / last.totals.attempts : 0;
  for (const [errorClass, count] of Object.entries(last.errors)) values[`errors.${errorClass}`] = count;
  values.saturated = last.intervals > 0 ? last.saturatedIntervals / last.intervals : 0;
  // parts (agents, shards) lost mid-run; their users are counted under errors.<kind>.lost
  values['agents.lost'] = last.partsLost ?? 0;
  values.churn = last.totals.churn;
  values['send.dropped'] = last.totals.sendDropped;
  // a check that judged nothing has no rate (and fails, like every unmeasured metric)
  let passes = 0;
  let judged = 0;
  for (const [name, c] of Object.entries(last.checks ?? {})) {
    values[`checks.${name}.rate`] = c.passes + c.fails > 0 ? c.passes / (c.passes + c.fails) : null;
    passes += c.passes;
    judged += c.passes + c.fails;
  }
  values['checks.rate'] = judged > 0 ? passes / judged : null;
  return values;
}

export interface SummaryOptions {
  isSignalled: boolean;
  notes: string[];
  openAtEnd?: number;
  targetAtEnd?: number;
  /** What failed while the script ran (timed-out awaits, refused commands): each fails the run. */
  failures?: ThresholdResult[];
  knees?: RunSummary['knees'];
  /** Broadcasts of `broadcast N every D` series that the end of the script cut off. */
  unsentBroadcasts?: number;
  /** For `compare`: the engine's whole-run histograms (they give `distributions`). */
  histograms?: Record<LatencyName, EncodedHistogram>;
  /** For `compare`: the script that ran. */
  script?: ScriptIdentity;
  /** Why users dialled from chosen addresses, when they did. @default 'option' */
  sourcesChosenBy?: 'option' | 'spread';
}

/** Where users dialled from, when addresses were chosen for a target that is not the bundled server. */
function sourcesOf(snapshots: Snapshot[], chosenBy: 'option' | 'spread'): RunSummary['sources'] {
  const last = snapshots[snapshots.length - 1]!;
  if (last.target.isBundled) return undefined;
  const addresses = new Set<string>();
  let peak = 0;
  for (const s of snapshots) {
    for (const [address, open] of Object.entries(s.fleet.bySource)) {
      addresses.add(address);
      peak = Math.max(peak, open);
    }
  }
  return addresses.size > 0 ? { addresses: [...addresses], chosenBy, peakOpenPerAddress: peak } : undefined;
}

/** Folds a run's snapshots, thresholds and ending into its summary; the verdict is decided here, once. */
export function summarize(snapshots: Snapshot[], thresholds: Threshold[], options: SummaryOptions): RunSummary {
  const last = snapshots[snapshots.length - 1]!;
  // teardown is not part of the measurement (it is not counted as saturated either)
  // (nor is the snapshot taken at the start, before the first second was measured)
  const inRun = snapshots.filter((s) => !s.isStopped && s.intervals > 0);
  const measured = inRun.length > 0 ? inRun : snapshots;
  // the engine keeps the peak at each open: users opened and gone between snapshots count
  const mostSeenOpen = snapshots.reduce((max, s) => Math.max(max, s.fleet.open), 0);
  const peakOpen = snapshots.reduce((max, s) => Math.max(max, s.fleet.peakOpen), mostSeenOpen);
  // a threshold judges what a snapshot saw: over several parts the live peak is an upper bound
  const values = metricValues(last, options.openAtEnd ?? mostSeenOpen);
  // a stopped run is not judged: its thresholds show their figures and say so
  const results = evaluateThresholds(thresholds, values).map((result) =>
    options.isSignalled
      ? { ...judge(result, measured, last), status: 'stopped' as const }
      : judge(result, measured, last),
  );
  // a run that never opened a single connection has failed, whether or not it said so
  if (last.totals.attempts > 0 && last.totals.connects === 0) {
    results.push(scriptFailure('connects', 'connects > 0 (implicit: no connection ever opened)', 0, 0, '>'));
  }
  results.push(...(options.failures ?? []));
  for (const fault of last.faults ?? []) results.push(scriptFailure('fault', `${fault.code}: ${fault.message}`));
  const share = values.saturated ?? 0;
  const sources = sourcesOf(snapshots, options.sourcesChosenBy ?? 'option');
  const parts = partsHealth(snapshots, measured);
  const verdict = verdictOf(results, options.isSignalled);
  const exitCode = { stopped: EXIT.signal, inconclusive: EXIT.inconclusive, failed: EXIT.failed, passed: EXIT.passed }[
    verdict
  ];
  return {
    verdict,
    exitCode,
    durationMs: last.elapsedMs,
    target: last.target,
    fleet: {
      target: options.targetAtEnd ?? last.fleet.target,
      open: options.openAtEnd ?? last.fleet.open,
      peakOpen,
      policy: last.fleet.policy,
    },
    totals: last.totals,
    latency: latencyFigures(last.latency),
    recoveries: last.recoveries,
    broadcasts: {
      settled: last.broadcastsSettled,
      minReach: last.broadcastsSettled > 0 ? last.minReach : null,
      unsent: options.unsentBroadcasts ?? 0,
      last: last.broadcasts,
    },
    errors: last.errors,
    checks: last.checks ?? {},
    errorRate: values['errors.rate'] ?? 0,
    health: {
      loopDelayP99MaxMs: Math.max(...measured.map((s) => s.health.loopDelayP99Ms)),
      utilizationMax: Math.max(...measured.map((s) => s.health.utilization)),
      cpuPercentMax: Math.max(...measured.map((s) => s.health.cpuPercent)),
      rssMaxBytes: Math.max(...measured.map((s) => s.health.rssBytes)),
      bytesPerOpenVu: measured.reduce(
        // at the most users a snapshot saw (the live peak may fall between snapshots)
        (best, s) => (s.fleet.open >= mostSeenOpen && s.health.bytesPerOpenVu > 0 ? s.health.bytesPerOpenVu : best),
        0,
      ),
    },
    saturated: { intervals: last.saturatedIntervals, of: last.intervals, share },
    server: last.server,
    thresholds: results,
    notes: options.notes,
    marks: last.marks,
    knees: options.knees ?? [],
    ...(sources ? { sources } : {}),
    ...(parts.length > 0 ? { parts } : {}),
    // for `compare`: curves, per-second figures, the start and the script (comparable.ts)
    ...comparableParts(snapshots, options.histograms, options.script),
  };
}
