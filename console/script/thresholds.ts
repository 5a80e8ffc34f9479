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

/** The outcome of one threshold. */
export interface ThresholdResult extends Threshold {
  actual: number | null;
  passed: boolean;
}

const LATENCY = /^(connect|rtt|fanout|reconnect)\.(p50|p90|p99|max|mean)$/;
const PLAIN = new Set(['recovery.p95', 'recovery.full', 'open', 'reach', 'missed', 'errors.count', 'errors.rate', 'saturated']);
const DURATION_METRICS = /^(connect|rtt|fanout|reconnect|recovery)\./;
const OPERATORS: Operator[] = ['<=', '>=', '==', '!=', '<', '>'];

/** Whether a metric name is one thresholds know. */
export function isKnownMetric(metric: string): boolean {
  return LATENCY.test(metric) || PLAIN.has(metric) || /^errors\.[a-z0-9_.]+$/i.test(metric);
}

/** The metrics a threshold may name, for error messages and completion. */
export const METRIC_HELP = 'connect|rtt|fanout|reconnect.(p50|p90|p99|max|mean), recovery.p95, recovery.full, open, reach, missed, errors.count, errors.rate, errors.<class>, saturated';

const RATIO_METRICS = new Set(['reach', 'errors.rate', 'saturated']);

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
    return plain !== null ? `${metric} is a duration: give a unit, as in ${text}ms or ${text}s` : `"${text}" is not a duration (250ms, 2s)`;
  }
  if (duration) return `${metric} is not a duration; give a plain number`;
  if (RATIO_METRICS.has(metric)) {
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
    case '<': return actual < value;
    case '<=': return actual <= value;
    case '>': return actual > value;
    case '>=': return actual >= value;
    case '==': return actual === value;
    case '!=': return actual !== value;
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
    return { ...threshold, actual: known, passed: known !== null && compare(known, threshold.op, threshold.value) };
  });
}
