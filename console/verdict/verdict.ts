/**
 * Verdicts per threshold: a threshold is judged on samples, and the
 * samples taken while the generator was saturated are partly the generator's. A threshold
 * whose samples were more than {@link INCONCLUSIVE_SHARE} saturated is inconclusive, unless
 * it was met on the side saturation cannot help (a latency bound met although the generator
 * was slow is met by the target); the run is inconclusive only when a threshold is. Pure.
 */
import type { LatencyName } from '../engine/measure/metrics.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';
import { metricKind, saturationBias, type ThresholdResult } from './thresholds.ts';

/** The share of a threshold's samples taken in saturated seconds above which it is inconclusive. */
export const INCONCLUSIVE_SHARE = 0.1;

/** How a run ended. */
export type Verdict = 'passed' | 'failed' | 'inconclusive' | 'stopped';

const LATENCY = /^(connect|rtt|fanout|reconnect)\./;

/** How many samples of `metric` one second holds: latency samples, broadcast receipts, connection attempts. */
function samplesIn(metric: string, s: Snapshot, previous: Snapshot | null): number {
  const latency = LATENCY.exec(metric);
  if (latency) return s.interval[latency[1] as LatencyName].count;
  if (metric === 'reach' || metric === 'missed' || metric === 'cut') return s.interval.fanout.count;
  if (metric.startsWith('recovery.')) return s.interval.reconnect.count;
  return s.totals.attempts - (previous?.totals.attempts ?? 0);
}

/** The seconds a metric is judged on: a recovery's from its action on; every other metric's the whole run. */
function secondsOf(metric: string, measured: Snapshot[], last: Snapshot): Snapshot[] {
  if (!metric.startsWith('recovery.') || !last.recovery) return measured;
  const { atMs, fullMs } = last.recovery;
  const end = fullMs === null ? Infinity : atMs + fullMs + 1000;
  // a snapshot covers the second before its time
  return measured.filter((s) => s.atMs > atMs && s.atMs - 1000 < end);
}

/**
 * The share of `metric`'s samples that were taken in saturated seconds (by seconds when it
 * had no samples); null where saturation does not apply (`saturated` itself).
 */
export function saturatedShareOf(metric: string, measured: Snapshot[], last: Snapshot): number | null {
  if (saturationBias(metric) === null) return null;
  const seconds = secondsOf(metric, measured, last);
  let all = 0;
  let saturated = 0;
  let secondsSaturated = 0;
  for (let i = 0; i < seconds.length; i++) {
    const s = seconds[i]!;
    const previous = i > 0 ? seconds[i - 1]! : (measured[measured.indexOf(s) - 1] ?? null);
    const n = Math.max(0, samplesIn(metric, s, previous));
    all += n;
    if (s.health.isSaturated) {
      saturated += n;
      secondsSaturated++;
    }
  }
  if (all > 0) return saturated / all;
  return seconds.length > 0 ? secondsSaturated / seconds.length : 0;
}

/**
 * Whether a met threshold is met on the side saturation cannot
 * help: `< bound` for what it raises, `> bound` for what it lowers.
 */
function isMetDespiteSaturation(result: ThresholdResult): boolean {
  const bias = saturationBias(result.metric);
  if (!result.passed || bias === null) return false;
  // `== 0` of what saturation can only raise (missed, errors)
  // is `<= 0`; `== 100%` of what it can only lower is `>= 100%`
  if (result.op === '==')
    return bias === 'up' ? result.value === 0 : metricKind(result.metric) === 'ratio' && result.value === 1;
  return bias === 'up' ? result.op === '<' || result.op === '<=' : result.op === '>' || result.op === '>=';
}

/** A threshold's result with its saturated share and its status. */
export function judge(result: ThresholdResult, measured: Snapshot[], last: Snapshot): ThresholdResult {
  const saturatedShare = saturatedShareOf(result.metric, measured, last);
  const isTainted = saturatedShare !== null && saturatedShare > INCONCLUSIVE_SHARE && !isMetDespiteSaturation(result);
  return { ...result, saturatedShare, status: isTainted ? 'inconclusive' : result.passed ? 'passed' : 'failed' };
}

/**
 * The run's verdict from its results: a conclusive failure fails it, an inconclusive threshold makes it inconclusive.
 */
export function verdictOf(results: ThresholdResult[], isSignalled: boolean): Verdict {
  if (isSignalled) return 'stopped';
  if (results.some((r) => r.status === 'failed')) return 'failed';
  return results.some((r) => r.status === 'inconclusive') ? 'inconclusive' : 'passed';
}
