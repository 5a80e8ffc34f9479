/**
 * Per-broadcast records: who received each message, when, and how many were open when it
 * was sent. Receipts only push a latency into an array; percentiles are computed once, when
 * the record settles (every open user has it, or `settleMs` has passed).
 */

import { LatencyHistogram, type EncodedHistogram } from './histogram.ts';

/** One broadcast as the fleet saw it. */
export interface BroadcastRecord {
  topic: string;
  seq: number;
  /** Users open when it was sent (or when first seen, for broadcasts we did not trigger). */
  openAtSend: number;
  receivers: number;
  /** receivers / openAtSend, 0..1 (capped at 1). */
  reach: number;
  firstMs: number;
  p50Ms: number;
  p99Ms: number;
  lastMs: number;
  isSettled: boolean;
  /** Epoch ms it was sent (or first seen). */
  sentAtMs: number;
}

interface Pending {
  record: BroadcastRecord;
  latencies: number[];
  createdAt: number;
  firstReceiptAt: number;
}

function percentileOf(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Tracks broadcasts by topic and seq. */
export class BroadcastTracker {
  readonly settled: BroadcastRecord[] = [];
  private readonly pending = new Map<string, Pending>();
  /** Highest seq known per topic, from our own triggers and from receipts. */
  readonly latestSeq = new Map<string, number>();
  private readonly firstSeen = new Map<string, { seq: number; at: number }>();
  private readonly syntheticSeqs = new Map<string, number>();
  private lastEntry: Pending | null = null;
  private syntheticNext = 0;

  /** Receipt latencies of settled records, kept by a tracker of one part of several (to merge exactly). */
  private readonly histograms = new WeakMap<BroadcastRecord, LatencyHistogram>();

  constructor(
    private readonly settleMs = 5000,
    private readonly keep = 500,
    private readonly isDetailed = false,
  ) {}

  private fresh: BroadcastRecord[] = [];

  /** The records settled since the last call, oldest first. */
  drainSettled(): BroadcastRecord[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  /** A settled record's receipt latencies (detailed trackers only). */
  histogramOf(record: BroadcastRecord): EncodedHistogram | undefined {
    return this.histograms.get(record)?.encode();
  }

  /** Registers a broadcast we triggered, before its frames arrive. */
  expect(topic: string, seq: number, openAtSend: number, at: number): void {
    this.entry(topic, seq, openAtSend, at);
    this.latestSeq.set(topic, Math.max(this.latestSeq.get(topic) ?? 0, seq));
  }

  private entry(topic: string, seq: number, openAtSend: number, at: number): Pending {
    const key = `${seq}\u0000${topic}`;
    let entry = this.pending.get(key);
    if (!entry) {
      const record: BroadcastRecord = {
        topic,
        seq,
        openAtSend,
        receivers: 0,
        reach: 0,
        firstMs: 0,
        p50Ms: 0,
        p99Ms: 0,
        lastMs: 0,
        isSettled: false,
        sentAtMs: at,
      };
      entry = { record, latencies: [], createdAt: at, firstReceiptAt: 0 };
      if (!this.firstSeen.has(topic)) this.firstSeen.set(topic, { seq, at });
      this.pending.set(key, entry);
    }
    return entry;
  }

  /** Hot path: one user received `seq` of `topic` after `latencyMs`. */
  receive(topic: string, seq: number, latencyMs: number, at: number, openNow: number): void {
    // the receipts of one broadcast arrive back to back: remember the last record looked up
    const cached = this.lastEntry;
    const entry =
      cached && cached.record.seq === seq && cached.record.topic === topic && !cached.record.isSettled
        ? cached
        : (this.pending.get(`${seq}\u0000${topic}`) ?? this.lateOrNew(topic, seq, at, openNow));
    if (!entry) return;
    this.lastEntry = entry;
    if (entry.firstReceiptAt === 0) entry.firstReceiptAt = at;
    entry.record.receivers++;
    entry.latencies.push(latencyMs);
    if (seq > (this.latestSeq.get(topic) ?? 0)) this.latestSeq.set(topic, seq);
  }

  private lateOrNew(topic: string, seq: number, at: number, openNow: number): Pending | null {
    if (this.settled.some((r) => r.topic === topic && r.seq === seq)) return null; // after it settled
    return this.entry(topic, seq, openNow, at);
  }

  /**
   * The seq a user should have seen before its first receipt of `topic`: if it joined
   * before the topic's first broadcast, everything from that broadcast on counts.
   */
  baselineFor(topic: string, firstOpenAtMs: number): number | undefined {
    const first = this.firstSeen.get(topic);
    return first && firstOpenAtMs > 0 && firstOpenAtMs <= first.at ? first.seq - 1 : undefined;
  }

  /** For targets without a seq: one number per distinct message text, in order of first sight. */
  syntheticSeq(topic: string, data: Buffer | string): number {
    const key = `${topic}\u0000${typeof data === 'string' ? data : data.toString('utf8')}`;
    let seq = this.syntheticSeqs.get(key);
    if (seq === undefined) {
      if (this.syntheticSeqs.size > 10_000) this.syntheticSeqs.clear();
      seq = ++this.syntheticNext;
      this.syntheticSeqs.set(key, seq);
    }
    return seq;
  }

  /** For targets without a send time: ms since the first user received this message. */
  spreadMs(topic: string, seq: number, at: number): number {
    const entry = this.pending.get(`${seq}\u0000${topic}`);
    return entry && entry.firstReceiptAt > 0 ? at - entry.firstReceiptAt : 0;
  }

  /** Settles records whose time is up or that every open user has received. */
  settle(at: number, force = false): void {
    for (const [key, entry] of this.pending) {
      const isComplete = entry.record.receivers >= entry.record.openAtSend && entry.record.openAtSend > 0;
      if (!force && !isComplete && at - entry.createdAt < this.settleMs) continue;
      // a typed array sorts numbers natively: a JS comparator over 16,000 receipts took milliseconds of the sample
      const sorted = Float64Array.from(entry.latencies).sort();
      entry.latencies = [];
      const r = entry.record;
      r.firstMs = sorted[0] ?? 0;
      r.lastMs = sorted[sorted.length - 1] ?? 0;
      r.p50Ms = percentileOf(sorted, 50);
      r.p99Ms = percentileOf(sorted, 99);
      r.reach = r.openAtSend > 0 ? Math.min(1, r.receivers / r.openAtSend) : r.receivers > 0 ? 1 : 0;
      r.isSettled = true;
      if (this.isDetailed) {
        const histogram = new LatencyHistogram();
        for (const latency of sorted) histogram.record(latency);
        this.histograms.set(r, histogram);
      }
      this.pending.delete(key);
      this.settled.push(r);
      this.fresh.push(r);
      if (this.fresh.length > 100_000) this.fresh.shift();
      if (this.settled.length > this.keep) this.settled.shift();
    }
  }

  /** The lowest reach over settled broadcasts, 1 when there were none. */
  get minReach(): number {
    return this.settled.reduce((min, r) => Math.min(min, r.reach), 1);
  }

  get pendingCount(): number {
    return this.pending.size;
  }
}
