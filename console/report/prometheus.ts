/**
 * A run in Prometheus's text format, on prom-client and by its conventions: counters end in
 * `_total`, durations are in seconds, ratios are 0..1, and the four latencies are histograms
 * whose buckets are the engine's whole-run HDR counts (exact to HDR's resolution, 3
 * significant digits), so `histogram_quantile()` and rate() over buckets work as usual.
 *
 * Every figure is read from one scrape (a snapshot and the histograms of the same instant);
 * each exposition has a Registry of its own, never prom-client's global one.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LatencyHistogram, type EncodedHistogram } from '../engine/measure/histogram.ts';
import { LATENCY_NAMES, type EncodedHistograms, type LatencyName, type Totals } from '../engine/measure/metrics.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';

/** What one scrape reads: the latest snapshot and the whole-run histograms it was folded with. */
export interface Scrape {
  snapshot: Snapshot;
  histograms: EncodedHistograms['total'];
}

/**
 * Upper bounds of the latency buckets, seconds: from a loopback RTT (0.5 ms) to a handshake
 * or reconnect that gave up (30 s).
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

/** The histogram of each latency, by its threshold name. */
export const HISTOGRAM_NAMES: Record<LatencyName, { name: string; help: string }> = {
  connect: {
    name: 'sockstorm_connect_duration_seconds',
    help: 'WebSocket handshake time, from the TCP connect to open.',
  },
  rtt: { name: 'sockstorm_rtt_seconds', help: 'Round trip of a probe message, from its intended send time.' },
  fanout: {
    name: 'sockstorm_fanout_latency_seconds',
    help: 'Broadcast fan-out: from the trigger to each receiving user.',
  },
  reconnect: { name: 'sockstorm_reconnect_duration_seconds', help: 'From a drop to the same user open again.' },
};

const COUNTERS: Array<[name: string, help: string, key: keyof Totals]> = [
  ['sockstorm_connect_attempts_total', 'Handshakes started.', 'attempts'],
  ['sockstorm_connects_total', 'Handshakes that opened.', 'connects'],
  ['sockstorm_connect_failures_total', 'Handshakes that failed.', 'failures'],
  ['sockstorm_disconnects_total', 'Open connections that ended (chaos or unexpected).', 'disconnects'],
  ['sockstorm_killed_total', 'Connections cut by chaos.', 'killed'],
  ['sockstorm_messages_received_total', 'Frames received.', 'messagesIn'],
  ['sockstorm_messages_sent_total', 'Frames sent.', 'messagesOut'],
  ['sockstorm_received_bytes_total', 'Bytes received.', 'bytesIn'],
  ['sockstorm_sent_bytes_total', 'Bytes sent.', 'bytesOut'],
  ['sockstorm_probes_sent_total', 'RTT probes sent.', 'probesSent'],
  ['sockstorm_probes_received_total', 'RTT probes answered.', 'probesReceived'],
  ['sockstorm_broadcasts_received_total', 'Broadcast messages received, over all users.', 'broadcastsReceived'],
  ['sockstorm_missed_seq_total', 'Broadcast seqs a user never received, over all users.', 'missed'],
  [
    'sockstorm_sends_dropped_total',
    'Sends dropped because the user already held its send buffer unsent.',
    'sendDropped',
  ],
  [
    'sockstorm_cut_seq_total',
    'Broadcast deliveries the tool itself cut (kill, session end, remove, stop), over all users.',
    'cut',
  ],
  ['sockstorm_topics_evicted_total', 'Topics the fleet stopped tracking past its bound.', 'topicsEvicted'],
];

const VU_STATES = ['open', 'connecting', 'waiting', 'pending', 'closing', 'closed'] as const;

// the HDR index that holds a value, found through the histogram's own encoding (histogram.ts
// owns the library): the index of the one value recorded into an empty histogram
function indexOfSeconds(seconds: number): number {
  const probe = new LatencyHistogram();
  probe.record(seconds * 1000);
  return probe.encode().counts[0]!;
}

const BOUND_INDEXES = LATENCY_BUCKETS_SECONDS.map(indexOfSeconds);

/** Cumulative bucket counts of an encoded histogram at `LATENCY_BUCKETS_SECONDS`, with its count and sum in seconds. */
export function cumulativeBuckets(encoded: EncodedHistogram): { buckets: number[]; count: number; sumSeconds: number } {
  const { counts } = encoded;
  const buckets: number[] = [];
  let k = 0;
  let seen = 0;
  for (const bound of BOUND_INDEXES) {
    // HDR indexes grow with the value: every value at or below the bound sits at or below its index
    for (; k < counts.length && counts[k]! <= bound; k += 2) seen += counts[k + 1]!;
    buckets.push(seen);
  }
  for (; k < counts.length; k += 2) seen += counts[k + 1]!;
  // a histogram decoded without its sum (none travels so today) falls back on HDR's mean
  const sumUs = encoded.sumUs ?? (seen > 0 ? LatencyHistogram.decode(encoded).summary().mean * 1000 * seen : 0);
  return { buckets, count: seen, sumSeconds: sumUs / 1e6 };
}

type HistogramSample = { value: number; labels: Record<string, string | number>; metricName: string };

/**
 * A histogram whose samples are the engine's counts rather than prom-client observations:
 * prom-client has no API to set a histogram's buckets, so its export is overridden (the
 * registry reads `getForPromString()` of a histogram, `get()` for JSON).
 */
class RecordedHistogram extends Histogram<string> {
  private readonly exportName: string;
  private readonly exportHelp: string;

  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly read: () => EncodedHistogram,
  ) {
    super({ name, help, buckets: [...LATENCY_BUCKETS_SECONDS], registers: [registry] });
    this.exportName = name;
    this.exportHelp = help;
  }

  getForPromString(): { name: string; help: string; type: 'histogram'; values: HistogramSample[]; aggregator: 'sum' } {
    const { buckets, count, sumSeconds } = cumulativeBuckets(this.read());
    const name = this.exportName;
    const values: HistogramSample[] = LATENCY_BUCKETS_SECONDS.map((le, i) => ({
      value: buckets[i]!,
      labels: { le },
      metricName: `${name}_bucket`,
    }));
    values.push({ value: count, labels: { le: '+Inf' }, metricName: `${name}_bucket` });
    values.push(
      { value: sumSeconds, labels: {}, metricName: `${name}_sum` },
      { value: count, labels: {}, metricName: `${name}_count` },
    );
    return { name, help: this.exportHelp, type: 'histogram', values, aggregator: 'sum' };
  }

  override get(): ReturnType<Histogram<string>['get']> {
    // prom-client's typings describe `type` as an enum the runtime does not use
    return Promise.resolve(this.getForPromString() as unknown as Awaited<ReturnType<Histogram<string>['get']>>);
  }
}

/** One metric of a scrape as prom-client's JSON gives it: what an OTLP push reads (otlp-push.ts). */
export interface MetricFigures {
  name: string;
  help: string;
  type: string;
  values: Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }>;
}

/** The Prometheus exposition of one endpoint: its own registry, filled from each scrape. */
export class PrometheusExposition {
  readonly registry = new Registry();
  private scrape: Scrape | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    const now = (): Scrape => this.scrape!;
    const counter = (name: string, help: string, read: (s: Scrape) => number): void => {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(finite(read(now())));
        },
      });
    };
    const gauge = (name: string, help: string, read: (s: Scrape) => number | null): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          const value = read(now());
          // an unknown figure (no recovery yet, no broadcast settled) is absent, not 0
          if (value === null) this.remove();
          else this.set(finite(value));
        },
      });
    };
    for (const [name, help, key] of COUNTERS) counter(name, help, (s) => s.snapshot.totals[key]);
    new Counter({
      name: 'sockstorm_errors_total',
      help: 'Failures by stable error class (see the README).',
      labelNames: ['class'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [errorClass, n] of Object.entries(now().snapshot.errors)) this.inc({ class: errorClass }, finite(n));
      },
    });
    counter(
      'sockstorm_generator_saturated_seconds_total',
      'Snapshot seconds in which the generator itself was saturated.',
      (s) => s.snapshot.saturatedIntervals,
    );
    for (const latency of LATENCY_NAMES) {
      const { name, help } = HISTOGRAM_NAMES[latency];
      new RecordedHistogram(this.registry, name, `${help} Whole run.`, () => now().histograms[latency]);
    }
    new Gauge({
      name: 'sockstorm_vus',
      help: 'Virtual users by state.',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const fleet = now().snapshot.fleet;
        for (const state of VU_STATES) this.set({ state }, fleet[state]);
      },
    });
    gauge('sockstorm_target_vus', 'The fleet target.', (s) => s.snapshot.fleet.target);
    gauge(
      'sockstorm_peak_vus',
      'The most users open at once so far, kept at each open (over several parts, the sum of their peaks).',
      (s) => s.snapshot.fleet.peakOpen,
    );
    gauge(
      'sockstorm_generator_loop_delay_p99_seconds',
      "The generator's event-loop delay p99 over the last second.",
      (s) => s.snapshot.health.loopDelayP99Ms / 1000,
    );
    gauge(
      'sockstorm_generator_utilization_ratio',
      "The generator's event-loop utilisation over the last second, 0..1.",
      (s) => s.snapshot.health.utilization,
    );
    gauge(
      'sockstorm_generator_cpu_ratio',
      "The generator's CPU over the last second, in cores (1 = one core busy).",
      (s) => s.snapshot.health.cpuPercent / 100,
    );
    gauge(
      'sockstorm_generator_resident_memory_bytes',
      "The generator's resident memory (all its processes).",
      (s) => s.snapshot.health.rssBytes,
    );
    gauge(
      'sockstorm_generator_saturated',
      "1 when the last second was saturated (its latencies are the generator's), else 0.",
      (s) => (s.snapshot.health.isSaturated ? 1 : 0),
    );
    gauge('sockstorm_recovery_p95_seconds', 'From the last chaos action to 95% of the target open again.', (s) =>
      seconds(s.snapshot.recovery?.p95Ms),
    );
    gauge('sockstorm_recovery_full_seconds', 'From the last chaos action to the whole target open again.', (s) =>
      seconds(s.snapshot.recovery?.fullMs),
    );
    gauge('sockstorm_broadcast_min_reach_ratio', 'Lowest reach over settled broadcasts, 0..1.', (s) =>
      s.snapshot.broadcastsSettled > 0 ? s.snapshot.minReach : null,
    );
  }

  /** The exposition of one scrape; scrapes are rendered one at a time. */
  render(scrape: Scrape): Promise<string> {
    const rendered = this.queue.then(async () => {
      this.scrape = scrape;
      try {
        return await this.registry.metrics();
      } finally {
        this.scrape = null;
      }
    });
    this.queue = rendered.catch(() => {});
    return rendered;
  }

  /** The figures of one scrape, metric by metric, with the same queue as `render`. */
  figures(scrape: Scrape): Promise<MetricFigures[]> {
    const read = this.queue.then(async () => {
      this.scrape = scrape;
      try {
        return (await this.registry.getMetricsAsJSON()) as unknown as MetricFigures[];
      } finally {
        this.scrape = null;
      }
    });
    this.queue = read.catch(() => {});
    return read;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

function seconds(valueMs: number | null | undefined): number | null {
  return valueMs === null || valueMs === undefined ? null : valueMs / 1000;
}
