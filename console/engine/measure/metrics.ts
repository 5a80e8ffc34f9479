/**
 * Counters and histograms of one run. The hot path only bumps numbers and records into HDR
 * histograms; `fold()` turns a second's worth into rates and interval percentiles.
 */
import { LatencyHistogram, type EncodedHistogram, type LatencySummary } from './histogram.ts';

/** Cumulative counts of a run. */
export interface Totals {
  attempts: number;
  connects: number;
  failures: number;
  disconnects: number;
  killed: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  probesSent: number;
  probesReceived: number;
  broadcastsReceived: number;
  /** Fan-out seqs users were owed and never received (gaps in a topic's seq). */
  missed: number;
  /** Fan-out deliveries the tool itself cut: in flight to a user it cut, or sent while that user was down. */
  cut: number;
  /** Topics the fleet stopped tracking past its bound (topic-lru.ts). */
  topicsEvicted: number;
  /** Topics users stopped tracking past their own bound, while the fleet still tracked them. */
  userTopicsEvicted: number;
  /** Sessions that ended as planned (`session D`) and came back: not drops, not errors. */
  churn: number;
  /** Sends dropped because the user already held its send budget unsent (the target was not reading). */
  sendDropped: number;
}

/** Per-second rates over the last interval. */
export interface Rates {
  connectsPerSec: number;
  attemptsPerSec: number;
  disconnectsPerSec: number;
  messagesInPerSec: number;
  messagesOutPerSec: number;
  bytesInPerSec: number;
  bytesOutPerSec: number;
}

/** Whole-run and interval histograms, encoded, by name. */
export interface EncodedHistograms {
  total: Record<LatencyName, EncodedHistogram>;
  interval: Record<LatencyName, EncodedHistogram>;
}

/** The four latency histograms, by their threshold names. */
export const LATENCY_NAMES = ['connect', 'rtt', 'fanout', 'reconnect'] as const;
export type LatencyName = (typeof LATENCY_NAMES)[number];

/** Rates of an interval with nothing in it. */
export function zeroRates(): Rates {
  return {
    connectsPerSec: 0,
    attemptsPerSec: 0,
    disconnectsPerSec: 0,
    messagesInPerSec: 0,
    messagesOutPerSec: 0,
    bytesInPerSec: 0,
    bytesOutPerSec: 0,
  };
}

/** Totals of a run that has counted nothing yet. */
export function zeroTotals(): Totals {
  return {
    attempts: 0,
    connects: 0,
    failures: 0,
    disconnects: 0,
    killed: 0,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    probesSent: 0,
    probesReceived: 0,
    broadcastsReceived: 0,
    missed: 0,
    cut: 0,
    topicsEvicted: 0,
    userTopicsEvicted: 0,
    churn: 0,
    sendDropped: 0,
  };
}

/** Distinct error classes counted before new ones are folded into their family's `.other`. */
export const MAX_ERROR_CLASSES = 100;

/** All counters and histograms of a run. */
export class Metrics {
  readonly totals: Totals = zeroTotals();
  readonly errors = new Map<string, number>();
  /** Whole-run histograms. */
  readonly latency: Record<LatencyName, LatencyHistogram> = {
    connect: new LatencyHistogram(),
    rtt: new LatencyHistogram(),
    fanout: new LatencyHistogram(),
    reconnect: new LatencyHistogram(),
  };
  /** Histograms of the current interval, reset by `fold()`. */
  private readonly interval: Record<LatencyName, LatencyHistogram> = {
    connect: new LatencyHistogram(),
    rtt: new LatencyHistogram(),
    fanout: new LatencyHistogram(),
    reconnect: new LatencyHistogram(),
  };
  private last: Totals = zeroTotals();
  private lastFoldAt = performance.now();

  /** Hot path: records into the interval only; `fold()` adds each interval to the whole run. */
  record(name: LatencyName, ms: number): void {
    this.interval[name].record(ms);
  }

  /**
   * Counts a failure by class. A target chooses some classes (`close.<code>` takes about 2,000
   * codes, `handshake.http_<status>` 900): past {@link MAX_ERROR_CLASSES} a new one is counted
   * as its family's `.other` (`close.other`), so the counts stay readable and bounded.
   */
  countError(errorClass: string): void {
    const counted =
      this.errors.has(errorClass) || this.errors.size < MAX_ERROR_CLASSES
        ? errorClass
        : `${errorClass.split('.', 1)[0]}.other`;
    this.errors.set(counted, (this.errors.get(counted) ?? 0) + 1);
  }

  /**
   * Closes the interval: rates since the last fold and the interval's percentiles; with
   * `isEncoding`, also every histogram (whole run and interval) as plain counts, for a
   * coordinator that merges shards by counts.
   */
  fold(isEncoding = false): {
    rates: Rates;
    interval: Record<LatencyName, LatencySummary>;
    encoded: EncodedHistograms | null;
  } {
    const at = performance.now();
    const seconds = Math.max(0.001, (at - this.lastFoldAt) / 1000);
    const t = this.totals;
    const l = this.last;
    const rates: Rates = {
      connectsPerSec: (t.connects - l.connects) / seconds,
      attemptsPerSec: (t.attempts - l.attempts) / seconds,
      disconnectsPerSec: (t.disconnects - l.disconnects) / seconds,
      messagesInPerSec: (t.messagesIn - l.messagesIn) / seconds,
      messagesOutPerSec: (t.messagesOut - l.messagesOut) / seconds,
      bytesInPerSec: (t.bytesIn - l.bytesIn) / seconds,
      bytesOutPerSec: (t.bytesOut - l.bytesOut) / seconds,
    };
    const interval = {} as Record<LatencyName, LatencySummary>;
    const encoded: EncodedHistograms | null = isEncoding
      ? { total: {} as Record<LatencyName, EncodedHistogram>, interval: {} as Record<LatencyName, EncodedHistogram> }
      : null;
    for (const name of LATENCY_NAMES) {
      this.latency[name].add(this.interval[name]);
      if (encoded) {
        encoded.total[name] = this.latency[name].encode();
        encoded.interval[name] = this.interval[name].encode();
      }
      interval[name] = this.interval[name].summary();
      this.interval[name].reset();
    }
    this.last = { ...t };
    this.lastFoldAt = at;
    return { rates, interval, encoded };
  }

  /** Whole-run percentiles of every histogram. */
  summaries(): Record<LatencyName, LatencySummary> {
    const out = {} as Record<LatencyName, LatencySummary>;
    for (const name of LATENCY_NAMES) out[name] = this.latency[name].summary();
    return out;
  }
}
