/**
 * The one module that owns hdr-histogram-js. Latencies are recorded in microseconds (sub-ms
 * resolution for loopback RTTs) and read back in milliseconds. Histograms merge by adding
 * counts, never by averaging percentiles, and travel between shards as compressed base64.
 */
import * as hdr from 'hdr-histogram-js';

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

/** A latency histogram in milliseconds over an HDR histogram in microseconds. */
export class LatencyHistogram {
  private readonly histogram: hdr.Histogram;

  constructor(histogram?: hdr.Histogram) {
    this.histogram = histogram ?? hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: 3,
      autoResize: true,
    });
  }

  /** Records one latency; negative values (clock skew) count as 0, huge ones are clamped. */
  record(ms: number): void {
    const us = Math.round(ms * US_PER_MS);
    this.histogram.recordValue(us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentile(p: number): number {
    return this.count === 0 ? 0 : this.histogram.getValueAtPercentile(p) / US_PER_MS;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    return {
      count: this.count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.histogram.maxValue / US_PER_MS,
      mean: this.histogram.mean / US_PER_MS,
    };
  }

  /** Adds another histogram's counts into this one. */
  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  reset(): void {
    this.histogram.reset();
  }

  /** Compressed base64, for sending an interval histogram across threads or processes. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(hdr.decodeFromCompressedBase64(encoded));
  }
}
