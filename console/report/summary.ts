/**
 * The end of a run: its figures as threshold metrics, the verdict and exit code (DESIGN.md
 * section 7), and the one-screen text a person reads. Pure: built from snapshots.
 */
import { adviceFor } from '../engine/classify-error.ts';
import type { LatencySummary } from '../engine/histogram.ts';
import type { Snapshot } from '../engine/snapshot.ts';
import { evaluateThresholds, type Threshold, type ThresholdResult } from '../script/thresholds.ts';

import { EXIT } from '../../target-server/exit-codes.ts';

export { EXIT };

/** How a run ended. */
export type Verdict = 'passed' | 'failed' | 'inconclusive' | 'stopped';

/** Everything `--json` writes. */
export interface RunSummary {
  verdict: Verdict;
  exitCode: number;
  durationMs: number;
  target: Snapshot['target'];
  fleet: { target: number; open: number; peakOpen: number; policy: string };
  totals: Snapshot['totals'];
  latency: Snapshot['latency'];
  recoveries: Snapshot['recoveries'];
  broadcasts: { settled: number; minReach: number; last: Snapshot['broadcasts'] };
  errors: Record<string, number>;
  errorRate: number;
  health: { loopDelayP99MaxMs: number; utilizationMax: number; cpuPercentMax: number; rssMaxBytes: number; bytesPerOpenVu: number };
  saturated: { intervals: number; of: number; share: number };
  server: Snapshot['server'];
  thresholds: ThresholdResult[];
  notes: string[];
  marks: Snapshot['marks'];
  /** Knees found by `ramp ... until`. */
  knees: Array<{ open: number; line: number; reason: string }>;
}

/** The share of saturated intervals above which a run is inconclusive. */
export const INCONCLUSIVE_SHARE = 0.1;

/** The values `expect` can name, from the final snapshot. */
export function metricValues(last: Snapshot, peakOpen: number): Record<string, number | null> {
  const values: Record<string, number | null> = {};
  for (const [name, summary] of Object.entries(last.latency) as Array<[string, LatencySummary]>) {
    for (const stat of ['p50', 'p90', 'p99', 'max', 'mean'] as const) values[`${name}.${stat}`] = summary.count > 0 ? summary[stat] : null;
  }
  const recovery = last.recovery;
  values['recovery.p95'] = recovery?.p95Ms ?? null;
  values['recovery.full'] = recovery?.fullMs ?? null;
  values.open = last.isStopped ? peakOpen : last.fleet.open;
  values.reach = last.broadcastsSettled > 0 ? last.minReach : null;
  values.missed = last.totals.missed;
  const errorCount = Object.values(last.errors).reduce((sum, n) => sum + n, 0);
  values['errors.count'] = errorCount;
  values['errors.rate'] = last.totals.attempts > 0 ? last.totals.failures / last.totals.attempts : 0;
  for (const [errorClass, count] of Object.entries(last.errors)) values[`errors.${errorClass}`] = count;
  values.saturated = last.intervals > 0 ? last.saturatedIntervals / last.intervals : 0;
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
}

/** Folds a run's snapshots, thresholds and ending into its summary; the verdict is decided here, once. */
export function summarize(snapshots: Snapshot[], thresholds: Threshold[], options: SummaryOptions): RunSummary {
  const last = snapshots[snapshots.length - 1]!;
  // teardown is not part of the measurement (it is not counted as saturated either)
  const measured = snapshots.filter((s) => !s.isStopped).length > 0 ? snapshots.filter((s) => !s.isStopped) : snapshots;
  const peakOpen = snapshots.reduce((max, s) => Math.max(max, s.fleet.open), 0);
  const values = metricValues(last, options.openAtEnd ?? peakOpen);
  const results = evaluateThresholds(thresholds, values);
  // a run that never opened a single connection has failed, whether or not it said so
  if (last.totals.attempts > 0 && last.totals.connects === 0) {
    results.push({ metric: 'connects', op: '>', value: 0, source: 'connects > 0 (implicit: no connection ever opened)', actual: 0, passed: false });
  }
  results.push(...(options.failures ?? []));
  for (const fault of last.faults ?? []) {
    results.push({ metric: 'fault', op: '==', value: 0, source: `${fault.code}: ${fault.message}`, actual: null, passed: false });
  }
  const share = values.saturated ?? 0;
  const verdict: Verdict = options.isSignalled ? 'stopped'
    : share > INCONCLUSIVE_SHARE ? 'inconclusive'
    : results.every((r) => r.passed) ? 'passed' : 'failed';
  const exitCode = { stopped: EXIT.signal, inconclusive: EXIT.inconclusive, failed: EXIT.failed, passed: EXIT.passed }[verdict];
  return {
    verdict, exitCode, durationMs: last.elapsedMs, target: last.target,
    fleet: { target: options.targetAtEnd ?? last.fleet.target, open: options.openAtEnd ?? last.fleet.open, peakOpen, policy: last.fleet.policy },
    totals: last.totals, latency: last.latency, recoveries: last.recoveries,
    broadcasts: { settled: last.broadcastsSettled, minReach: last.minReach, last: last.broadcasts },
    errors: last.errors, errorRate: values['errors.rate'] ?? 0,
    health: {
      loopDelayP99MaxMs: Math.max(...measured.map((s) => s.health.loopDelayP99Ms)),
      utilizationMax: Math.max(...measured.map((s) => s.health.utilization)),
      cpuPercentMax: Math.max(...measured.map((s) => s.health.cpuPercent)),
      rssMaxBytes: Math.max(...measured.map((s) => s.health.rssBytes)),
      bytesPerOpenVu: measured.reduce((best, s) => (s.fleet.open >= peakOpen && s.health.bytesPerOpenVu > 0 ? s.health.bytesPerOpenVu : best), 0),
    },
    saturated: { intervals: last.saturatedIntervals, of: last.intervals, share },
    server: last.server, thresholds: results, notes: options.notes, marks: last.marks, knees: options.knees ?? [],
  };
}

const ms = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(1)}ms`);

function latencyLine(name: string, s: LatencySummary): string {
  if (s.count === 0) return `  ${name.padEnd(10)} —`;
  return `  ${name.padEnd(10)} p50 ${ms(s.p50).padStart(8)}  p99 ${ms(s.p99).padStart(8)}  max ${ms(s.max).padStart(8)}  n=${s.count}`;
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || host.startsWith('127.');
  } catch {
    return false;
  }
}

/** The end summary as a person reads it: one screen. */
export function formatSummary(summary: RunSummary): string {
  const lines: string[] = [];
  const t = summary.totals;
  const verdict = summary.verdict === 'passed' && summary.thresholds.length === 0 ? 'PASSED (no thresholds)' : summary.verdict.toUpperCase();
  lines.push(`sockstorm run: ${verdict} (exit ${summary.exitCode}) after ${ms(summary.durationMs)} against ${summary.target.url}${summary.target.endpoints > 1 ? ` and ${summary.target.endpoints - 1} more` : ''}${summary.target.isBundled ? ` (bundled ${summary.target.serverEngine})` : ''}`);
  lines.push(`fleet      open ${summary.fleet.open}/${summary.fleet.target} at the end of the script (peak ${summary.fleet.peakOpen})  attempts ${t.attempts}  connects ${t.connects}  failures ${t.failures}  drops ${t.disconnects}  killed ${t.killed}  reconnect ${summary.fleet.policy}`);
  lines.push('latency');
  for (const [name, s] of Object.entries(summary.latency)) lines.push(latencyLine(name, s));
  if (summary.latency.fanout.count > 0 && !summary.target.isBundled && !isLoopback(summary.target.url)) {
    lines.push('  fan-out from the target\'s send time is one-way across two clocks: trust it only as far as they agree');
  }
  for (const r of summary.recoveries.slice(-3)) {
    lines.push(`recovery   ${r.action}: dropped ${r.dropped}, 95% in ${ms(r.p95Ms)}, 100% in ${ms(r.fullMs)}, peak ${r.peakHandshakesPerSec} handshakes/s, ${r.attempts} attempts, ${r.failures} failed`);
  }
  if (summary.broadcasts.settled > 0) {
    lines.push(`broadcast  ${summary.broadcasts.settled} settled, lowest reach ${(summary.broadcasts.minReach * 100).toFixed(1)}%, missed seq ${t.missed}, received ${t.broadcastsReceived}`);
  }
  const errors = Object.entries(summary.errors).sort((a, b) => b[1] - a[1]);
  lines.push(`errors     ${errors.length === 0 ? 'none' : `${errors.reduce((n, [, c]) => n + c, 0)} (rate ${(summary.errorRate * 100).toFixed(2)}% of attempts)`}`);
  for (const [errorClass, count] of errors.slice(0, 6)) lines.push(`  ${errorClass.padEnd(24)} ${String(count).padStart(7)}  ${adviceFor(errorClass)}`);
  const h = summary.health;
  lines.push(`generator  loop delay p99 max ${ms(h.loopDelayP99MaxMs)}, utilisation max ${h.utilizationMax.toFixed(2)}, CPU max ${h.cpuPercentMax.toFixed(0)}%, RSS max ${(h.rssMaxBytes / 1048576).toFixed(0)} MiB, ${(h.bytesPerOpenVu / 1024).toFixed(1)} KiB/VU`);
  lines.push(`           saturated ${summary.saturated.intervals} of ${summary.saturated.of} s (${(summary.saturated.share * 100).toFixed(0)}%)${summary.saturated.share > INCONCLUSIVE_SHARE ? ': the generator was the bottleneck; figures are inconclusive' : ''}`);
  if (summary.server) {
    const s = summary.server;
    lines.push(`server     (last /stats) ${s.engine}${s.native ? ' (native)' : ''}: ${s.connections} open, ${s.messagesOut} sent, loop delay p99 ${ms(s.loop.delayP99Ms)}, publish max ${ms(s.publishMsMax)}, RSS ${(s.rssBytes / 1048576).toFixed(0)} MiB`);
  }
  for (const r of summary.thresholds) {
    if (r.metric === 'command' || r.metric === 'fault') lines.push(`  ✗ ${r.metric === 'fault' ? 'fault' : 'failed'}: ${r.source}`);
    else if (r.metric === 'await') lines.push(`  ✗ ${r.source}: timed out with ${r.actual} of ${r.value} open`);
    else lines.push(`${r.passed ? '  ✓' : '  ✗'} expect ${r.source}  (actual ${r.actual === null ? 'not measured' : Number(r.actual.toFixed(3))})`);
  }
  for (const note of summary.notes) lines.push(`note       ${note}`);
  return lines.join('\n');
}
