/**
 * `expect METRIC OP VALUE`: k6-like thresholds, parsed into data and compared, never
 * evaluated as code. Pure.
 */

/** A comparison operator. */
export type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** One parsed threshold. */
export interface Threshold {
  metric: string;
  op: Operator;
  value: number;
  /** As written, for reports. */
  source: string;
}

/**
 * How a threshold ended: `inconclusive` when its samples were the generator's (see verdict.ts),
 * `stopped` when a signal ended the run before it could be judged (its figure is shown, nothing concluded).
 */
export type ThresholdStatus = 'passed' | 'failed' | 'inconclusive' | 'stopped';

/** The outcome of one threshold. */
export interface ThresholdResult extends Threshold {
  actual: number | null;
  passed: boolean;
  status: ThresholdStatus;
  /** Share of the samples it judged that were taken in saturated seconds; null where saturation does not apply. */
  saturatedShare: number | null;
}

/** The form of a metric's values: durations in ms, shares 0..1, whole counts. */
export type MetricKind = 'duration' | 'ratio' | 'count';

/** A metric's form. */
export function metricKind(metric: string): MetricKind {
  if (DURATION_METRICS.test(metric)) return 'duration';
  return RATIO_METRICS.has(metric) || /^checks\./.test(metric) ? 'ratio' : 'count';
}

/**
 * Which way a saturated generator pushes a metric: latencies, errors, missed and cut seqs go up
 * (it handles what arrives late, and times out what it did not get to), open users and reach go
 * down; `saturated` measures the generator itself. So a bound met on the good side is met by
 * the target, saturated or not; only a bound missed, or one of the other side, can be the generator's.
 */
export function saturationBias(metric: string): 'up' | 'down' | null {
  // the generator's own saturation, and a part lost (a process or a host gone), are not figures saturation bends
  if (metric === 'saturated' || metric === 'agents.lost' || metric.startsWith('checks.') || metric === 'churn')
    return null;
  return metric === 'open' || metric === 'reach' ? 'down' : 'up';
}

const LATENCY = /^(connect|rtt|fanout|reconnect)\.(p50|p90|p99|max|mean)$/;
const PLAIN = new Set([
  'recovery.p95',
  'recovery.full',
  'open',
  'reach',
  'missed',
  'cut',
  'errors.count',
  'errors.rate',
  'saturated',
  'agents.lost',
  'churn',
  'send.dropped',
  'checks.rate',
]);
const DURATION_METRICS = /^(connect|rtt|fanout|reconnect|recovery)\./;
const RATIO_METRICS = new Set(['reach', 'errors.rate', 'saturated']);
const OPERATORS: Operator[] = ['<=', '>=', '==', '!=', '<', '>'];

/** Whether a metric name is one thresholds know. */
export function isKnownMetric(metric: string): boolean {
  return (
    LATENCY.test(metric) ||
    PLAIN.has(metric) ||
    /^errors\.[a-z0-9_.]+$/i.test(metric) ||
    /^checks\.[A-Za-z][\w-]*\.rate$/.test(metric)
  );
}

/** The metrics a threshold may name, for error messages and completion. */
export const METRIC_HELP =
  'connect|rtt|fanout|reconnect.(p50|p90|p99|max|mean), recovery.p95, recovery.full, open, reach, ' +
  'missed, cut, errors.count, errors.rate, errors.<class>, saturated, agents.lost, churn, ' +
  'send.dropped, checks.rate, checks.<name>.rate';

/**
 * Parses a threshold value in the metric's own form: durations need a unit (`250ms`, `2s`;
 * a bare 0 is allowed), ratios are 0..1 or 0..100%, counts are whole numbers.
 */
export function parseThresholdValue(metric: string, text: string): number | string {
  const duration = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  const plain = /^-?\d+(?:\.\d+)?$/.test(text) ? Number(text) : null;
  if (DURATION_METRICS.test(metric)) {
    if (duration) return Number(duration[1]) * (duration[2] === 's' ? 1000 : 1);
    if (plain === 0) return 0;
    return plain !== null
      ? `${metric} is a duration: give a unit, as in ${text}ms or ${text}s`
      : `"${text}" is not a duration (250ms, 2s)`;
  }
  if (duration) return `${metric} is not a duration; give a plain number`;
  if (RATIO_METRICS.has(metric) || /^checks\./.test(metric)) {
    const ratio = percent ? Number(percent[1]) / 100 : plain;
    if (ratio === null) return `"${text}" is not a ratio (0.99) or a percentage (99%)`;
    return ratio >= 0 && ratio <= 1 ? ratio : `${metric} is a share between 0 and 1 (0%..100%), not ${text}`;
  }
  if (percent) return `${metric} is a count, not a percentage`;
  if (plain === null) return `"${text}" is not a number`;
  return Number.isInteger(plain) && plain >= 0 ? plain : `${metric} is a count: give a whole number, not ${text}`;
}

/** Splits `OP` off the front of a token list, accepting `<250ms` as well as `< 250ms`. */
export function splitOperator(text: string): { op: Operator; rest: string } | null {
  const op = OPERATORS.find((candidate) => text.startsWith(candidate));
  return op ? { op, rest: text.slice(op.length).trim() } : null;
}

/** Whether `actual OP value` holds. */
export function compare(actual: number, op: Operator, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}

/**
 * Evaluates thresholds against a run's metric values. A metric with no value (no recovery
 * happened, say) fails, so a threshold can never pass by not being measured.
 */
export function evaluateThresholds(thresholds: Threshold[], values: Record<string, number | null>): ThresholdResult[] {
  return thresholds.map((threshold) => {
    let actual = values[threshold.metric];
    if (actual === undefined && threshold.metric.startsWith('errors.')) actual = 0;
    const known = actual ?? null;
    const passed = known !== null && compare(known, threshold.op, threshold.value);
    return { ...threshold, actual: known, passed, status: passed ? 'passed' : 'failed', saturatedShare: null };
  });
}

/** Something that failed the run outside `expect` (a timed-out await, a refused command, a fault), as a result line. */
export function scriptFailure(
  metric: string,
  source: string,
  value = 0,
  actual: number | null = null,
  op: Operator = '==',
): ThresholdResult {
  return { metric, op, value, source, actual, passed: false, status: 'failed', saturatedShare: null };
}
