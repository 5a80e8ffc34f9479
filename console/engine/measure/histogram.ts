/**
 * The one module that owns hdr-histogram-js. Latencies are recorded in microseconds (sub-ms
 * resolution for loopback RTTs) and read back in milliseconds. Histograms merge by adding
 * counts, never by averaging percentiles, and travel between processes as their non-zero HDR
 * counts (index and count pairs), which merge exactly.
 *
 * Only the package's plain JavaScript histogram is loaded: its index also loads a WebAssembly
 * build, pako and their encoders, which cost every generator process about 15 MiB of RSS.
 */
import Int32HistogramModule from 'hdr-histogram-js/dist/Int32Histogram.js';

const US_PER_MS = 1000;
const HIGHEST_US = 3_600_000_000; // one hour

/** Percentiles of one histogram, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

// the part of the JavaScript histogram this module uses
interface HdrHistogram {
  autoResize: boolean;
  readonly totalCount: number;
  readonly maxValue: number;
  readonly mean: number;
  recordValue(value: number): void;
  recordValueWithCount(value: number, count: number): void;
  add(other: HdrHistogram): void;
  reset(): void;
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
}

type HdrConstructor = new (lowest: number, highest: number, digits: number) => HdrHistogram;
// a CommonJS module with an `exports.default`: Node's import gives the exports, a bundler the class
const Int32Histogram = ((Int32HistogramModule as unknown as { default?: HdrConstructor }).default ??
  Int32HistogramModule) as unknown as HdrConstructor;

function build(): HdrHistogram {
  const histogram = new Int32Histogram(1, HIGHEST_US, 3);
  histogram.autoResize = true;
  return histogram;
}

/** A histogram as it travels: its sum (µs) and its non-zero counts as [index, count, …]. */
export interface EncodedHistogram {
  sumUs: number | null;
  counts: number[];
  /** The largest value recorded, µs, exactly (a bucket only bounds it). */
  maxUs?: number;
}

const EMPTY: LatencySummary = Object.freeze({ count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 });

/**
 * A latency histogram in milliseconds over an HDR histogram in microseconds. The snapshot
 * reads every histogram once a second, on the loop that also times the messages, so reading
 * is kept short: one pass over the counts for all percentiles, the mean from a running sum
 * (HDR's walks every recorded value: 5 ms a second over eight histograms, measured), and a
 * summary that is not read again until something new was recorded.
 */
export class LatencyHistogram {
  private readonly histogram: HdrHistogram;
  /** Sum of recorded values, µs; null for a decoded histogram, whose values came without it. */
  private sumUs: number | null = 0;
  /** The largest value recorded, µs, exactly: merged parts report the same max as one histogram. */
  private maxUs = 0;
  private cached: LatencySummary | null = EMPTY;
  /** Bumped on every change: what was read or encoded before it is stale. */
  private version = 0;
  private encoded: { version: number; value: EncodedHistogram } | null = null;

  constructor() {
    this.histogram = build();
  }

  /** Records one latency; negative values (clock skew) count as 0, huge ones are clamped. */
  record(ms: number): void {
    const us = Math.round(ms * US_PER_MS);
    const value = Math.min(Math.max(us, 0), HIGHEST_US);
    this.histogram.recordValue(value);
    if (value > this.maxUs) this.maxUs = value;
    if (this.sumUs !== null) this.sumUs += value;
    this.cached = null;
    this.version++;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencySummary {
    this.cached ??= this.read();
    return { ...this.cached };
  }

  // p50, p90 and p99 in one walk of the counts up to the max, as HDR computes each
  private read(): LatencySummary {
    const total = this.count;
    if (total === 0) return EMPTY;
    const h = this.histogram;
    const targets = [50, 90, 99].map((p) => Math.max(1, Math.ceil((p / 100) * total - 1e-9)));
    const found: number[] = [];
    const last = h.countsArrayIndex(this.histogram.maxValue);
    let seen = 0;
    for (let i = 0; i <= last && found.length < targets.length; i++) {
      seen += h.getCountAtIndex(i);
      while (found.length < targets.length && seen >= targets[found.length]!)
        found.push(h.highestEquivalentValue(h.valueFromIndex(i)));
    }
    const maxUs = this.maxUs;
    // a percentile is never above the largest value recorded (HDR's highest equivalent can be)
    const [p50, p90, p99] = targets.map((_, k) => Math.min(found[k] ?? maxUs, maxUs) / US_PER_MS) as [
      number,
      number,
      number,
    ];
    const mean = (this.sumUs ?? this.histogram.mean * total) / total / US_PER_MS;
    return { count: total, p50, p90, p99, max: maxUs / US_PER_MS, mean };
  }

  /**
   * The value of the `rank`-th smallest sample (1-based), ms, as the percentiles read it;
   * null when fewer were recorded.
   */
  valueAtRank(rank: number): number | null {
    if (rank < 1 || rank > this.count) return null;
    const h = this.histogram;
    const last = h.countsArrayIndex(h.maxValue);
    let seen = 0;
    for (let i = 0; i <= last; i++) {
      seen += h.getCountAtIndex(i);
      if (seen >= rank) return Math.min(h.highestEquivalentValue(h.valueFromIndex(i)), this.maxUs) / US_PER_MS;
    }
    return this.maxUs / US_PER_MS;
  }

  /** The value at each percentile (0..100], ms (a walk of the counts per point: for reports, not the hot path). */
  percentiles(points: readonly number[]): Array<[number, number]> {
    const total = this.count;
    if (total === 0) return [];
    return points.map((p) => [p, this.valueAtRank(Math.max(1, Math.ceil((p / 100) * total - 1e-9)))!]);
  }

  /** Adds another histogram's counts into this one. */
  add(other: LatencyHistogram): void {
    if (other.count === 0) return;
    this.histogram.add(other.histogram);
    this.maxUs = Math.max(this.maxUs, other.maxUs);
    this.sumUs = this.sumUs === null || other.sumUs === null ? null : this.sumUs + other.sumUs;
    this.cached = null;
    this.version++;
  }

  reset(): void {
    if (this.count === 0) return;
    this.histogram.reset();
    this.sumUs = 0;
    this.maxUs = 0;
    this.cached = EMPTY;
    this.version++;
  }

  /** The histogram as plain data, for another process; kept until the histogram changes. */
  encode(): EncodedHistogram {
    if (this.encoded?.version !== this.version) {
      const counts: number[] = [];
      const h = this.histogram;
      if (h.totalCount > 0) {
        const last = h.countsArrayIndex(h.maxValue);
        for (let i = 0; i <= last; i++) {
          const count = h.getCountAtIndex(i);
          if (count > 0) counts.push(i, count);
        }
      }
      this.encoded = { version: this.version, value: { sumUs: this.sumUs, counts, maxUs: this.maxUs } };
    }
    return this.encoded.value;
  }

  /** A histogram with exactly the counts of an encoded one (each index holds the same bucket). */
  static decode(encoded: EncodedHistogram): LatencyHistogram {
    const decoded = new LatencyHistogram();
    const h = decoded.histogram;
    for (let k = 0; k < encoded.counts.length; k += 2)
      h.recordValueWithCount(h.valueFromIndex(encoded.counts[k]!), encoded.counts[k + 1]!);
    decoded.sumUs = encoded.sumUs;
    decoded.maxUs = encoded.maxUs ?? h.maxValue;
    decoded.cached = null;
    decoded.version++;
    return decoded;
  }
}
