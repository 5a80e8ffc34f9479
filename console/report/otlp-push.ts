/**
 * `--otlp URL`: the run's metrics pushed to an OpenTelemetry receiver (a Collector, Grafana
 * Alloy, Prometheus's own OTLP receiver) over OTLP/HTTP with the JSON encoding, every 10 s and
 * once more at the end with the final figures. The figures are those of `/metrics` (one scrape of
 * prometheus.ts: the same names, so one dashboard reads either path): counters as cumulative
 * monotonic sums (without Prometheus's `_total`, which a receiver adds back), gauges as gauges,
 * the four latencies as cumulative histograms whose buckets are the engine's HDR counts.
 *
 * Written here rather than with the OpenTelemetry SDK's exporter: the SDK's histograms are
 * filled by recording values one by one, and the engine's are merged HDR counts across parts,
 * which only a histogram data point given its buckets carries exactly; OTLP/HTTP JSON is plain
 * HTTP. Headers for the receiver (an API key) come from OTEL_EXPORTER_OTLP_METRICS_HEADERS or
 * OTEL_EXPORTER_OTLP_HEADERS (`k=v,k=v`), as the SDK reads them, so no secret is in argv.
 */
import type { Engine } from '../engine/engine.ts';
import { LATENCY_BUCKETS_SECONDS, PrometheusExposition, type MetricFigures } from './prometheus.ts';

/** How often figures are pushed while the run goes on, ms. */
export const OTLP_INTERVAL_MS = 10_000;
/** How long one push may take before it is given up, ms. */
const PUSH_TIMEOUT_MS = 5000;

type Attribute = { key: string; value: { stringValue: string } };

const attributes = (labels: Record<string, string | number | undefined>): Attribute[] =>
  Object.entries(labels)
    .filter(([key, value]) => key !== 'le' && value !== undefined)
    .map(([key, value]) => ({ key, value: { stringValue: String(value) } }));

const nanos = (epochMs: number): string => `${BigInt(Math.round(epochMs)) * 1_000_000n}`;

/** One metric of a scrape as an OTLP metric (proto3 JSON mapping: 64-bit integers as strings). */
function otlpMetric(figures: MetricFigures, startMs: number, nowMs: number): object {
  const times = { startTimeUnixNano: nanos(startMs), timeUnixNano: nanos(nowMs) };
  const unit = figures.name.endsWith('_seconds') ? 's' : figures.name.endsWith('_bytes') ? 'By' : '1';
  if (figures.type === 'histogram') {
    const bucket = (le: number | string): number =>
      figures.values.find((v) => v.metricName?.endsWith('_bucket') && v.labels.le === le)?.value ?? 0;
    const cumulative = [...LATENCY_BUCKETS_SECONDS.map(bucket), bucket('+Inf')];
    const count = cumulative[cumulative.length - 1]!;
    const sum = figures.values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    return {
      name: figures.name,
      description: figures.help,
      unit,
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [
          {
            ...times,
            count: String(count),
            sum,
            bucketCounts: cumulative.map((c, i) => String(c - (i > 0 ? cumulative[i - 1]! : 0))),
            explicitBounds: [...LATENCY_BUCKETS_SECONDS],
            attributes: [],
          },
        ],
      },
    };
  }
  const dataPoints = figures.values.map((v) => ({ ...times, asDouble: v.value, attributes: attributes(v.labels) }));
  if (figures.type === 'counter')
    return {
      name: figures.name.replace(/_total$/, ''),
      description: figures.help,
      unit,
      sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints },
    };
  return { name: figures.name, description: figures.help, unit, gauge: { dataPoints } };
}

/** An OTLP ExportMetricsServiceRequest for one scrape. */
export function otlpRequest(
  figures: MetricFigures[],
  startMs: number,
  nowMs: number,
  resource: Record<string, string>,
): object {
  return {
    resourceMetrics: [
      {
        resource: { attributes: attributes(resource) },
        scopeMetrics: [{ scope: { name: 'sockstorm' }, metrics: figures.map((f) => otlpMetric(f, startMs, nowMs)) }],
      },
    ],
  };
}

/** Headers the OpenTelemetry environment variables give (`k=v,k=v`, values URL-encoded). */
export function otlpHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const text = env.OTEL_EXPORTER_OTLP_METRICS_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS ?? '';
  const headers: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/** Where OTLP/HTTP metrics go: the URL as given when it names `/v1/metrics`, else that path under it. */
export function metricsUrl(base: string): string {
  const url = new URL(base);
  if (!url.pathname.endsWith('/v1/metrics')) url.pathname = `${url.pathname.replace(/\/$/, '')}/v1/metrics`;
  return url.toString();
}

/** A running push. */
export interface OtlpPush {
  /** Pushes the final figures once more and stops. */
  close(): Promise<void>;
  /** Pushes that failed (the receiver refused or did not answer): said once on stderr, never fatal. */
  readonly failures: number;
}

/** Pushes `engine`'s figures to `url` every {@link OTLP_INTERVAL_MS} and at close. */
export function startOtlpPush(
  engine: Engine,
  url: string,
  say: (text: string) => void,
  intervalMs = OTLP_INTERVAL_MS,
): OtlpPush {
  const exposition = new PrometheusExposition();
  const target = metricsUrl(url);
  const headers = { 'content-type': 'application/json', ...otlpHeaders() };
  const first = engine.getSnapshot();
  const startMs = first.atMs - first.elapsedMs;
  const resource = {
    'service.name': 'sockstorm',
    'service.instance.id': `${process.pid}`,
    'sockstorm.target': first.target.url,
  };
  let failures = 0;
  let pushing: Promise<void> = Promise.resolve();
  const push = (): Promise<void> => {
    pushing = pushing.then(async () => {
      try {
        const figures = await exposition.figures({ snapshot: engine.getSnapshot(), histograms: engine.histograms() });
        const response = await fetch(target, {
          method: 'POST',
          headers,
          body: JSON.stringify(otlpRequest(figures, startMs, Date.now(), resource)),
          signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
        });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      } catch (error) {
        if (failures++ === 0)
          say(
            `OTLP push to ${target} failed (${(error as Error).message}); the run goes on, and says how many failed at the end`,
          );
      }
    });
    return pushing;
  };
  const timer = setInterval(() => void push(), intervalMs);
  let closing: Promise<void> | null = null;
  return {
    get failures() {
      return failures;
    },
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await push();
        if (failures > 0) say(`${failures} OTLP pushes to ${target} failed`);
      })();
      return closing;
    },
  };
}
