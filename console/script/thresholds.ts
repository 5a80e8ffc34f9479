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

/** Parses a threshold value: `250ms`, `2s`, `0.99`, `99%`, `0`. Durations only for time metrics. */
export function parseThresholdValue(metric: string, text: string): number | string {
  const duration = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (duration) {
    if (!DURATION_METRICS.test(metric)) return `${metric} is not a duration; give a plain number`;
    return Number(duration[1]) * (duration[2] === 's' ? 1000 : 1);
  }
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) return Number(percent[1]) / 100;
  if (/^-?\d+(?:\.\d+)?$/.test(text)) return Number(text);
  return `"${text}" is not a number, a duration (250ms, 2s) or a percentage`;
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
