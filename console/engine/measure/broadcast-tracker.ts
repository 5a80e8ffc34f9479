/**
 * Per-broadcast records: who received each message, when, and how many users it was owed to.
 * A user is owed a broadcast when it was ready for its topic when the broadcast was sent (first
 * seen): subscribed and acknowledged, or receiving the topic already. Users the tool itself cut
 * before delivery are counted as `cut` and owed nothing. Receipts only push a latency into an
 * array; percentiles are computed once, when the record settles (every user owed it has it, or
 * `settleMs` has passed). Topics live in a bounded table (topic-lru.ts).
 */

import { LatencyHistogram, type EncodedHistogram } from './histogram.ts';
import { MAX_PENDING_BROADCASTS, MAX_TOPICS, TopicLru, topicKey } from './topic-lru.ts';

/** One broadcast as the fleet saw it. */
export interface BroadcastRecord {
  topic: string;
  seq: number;
  /** Users it was owed to: ready for its topic when it was sent (or first seen), less those cut before delivery. */
  openAtSend: number;
  /** Every user that received it. */
  receivers: number;
  /**
   * Receivers it was owed to (the reach numerator; a user that became ready after the send is a receiver, not owed).
   */
  reached: number;
  /**
   * Users ready when it was sent that the tool itself cut (kill, session end, remove, stop) before they received it.
   */
  cut: number;
  /** reached / openAtSend, 0..1 (capped at 1). */
  reach: number;
  firstMs: number;
  p50Ms: number;
  p99Ms: number;
  lastMs: number;
  isSettled: boolean;
  /** Epoch ms it was sent (or first seen). */
  sentAtMs: number;
}

/** A topic of the fleet's table. */
export interface TopicEntry {
  readonly name: string;
  /** A small number of its own, for keys. */
  readonly id: number;
  /** Users ready for it now. */
  readyCount: number;
  /** The highest seq of it known (the target's own numbers only); NaN before one. */
  latestSeq: number;
  /** Its records not settled yet, oldest first. */
  readonly pending: Pending[];
  /** Its last settled seqs: a receipt of one of them is late, not a new broadcast. */
  readonly recent: number[];
  /** Set when the table dropped it: what users hold of it is stale. */
  isEvicted: boolean;
}

interface Pending {
  record: BroadcastRecord;
  entry: TopicEntry;
  latencies: number[];
  createdAt: number;
  firstReceiptAt: number;
  /** Its place in the order records were made: users ready at a stamp up to it were owed it. */
  index: number;
  /** Its receivers at the last settle pass. */
  receiversAtPass: number;
}

/** What cutting one user from a topic's records in flight came to. */
export interface CutCount {
  count: number;
  /** The highest seq it was cut from, or NaN. */
  lastSeq: number;
}

const RECENT_SEQS = 8;
const NO_CUT: CutCount = { count: 0, lastSeq: Number.NaN };

function percentileOf(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// FNV-1a over a message's text, twice with different seeds: a synthetic seq is keyed by the
// two hashes, not by the message (a 1 MiB message as a key is 1 MiB held per message)
function hashes(data: Buffer | string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  const n = data.length;
  if (typeof data === 'string') {
    for (let i = 0; i < n; i++) {
      const c = data.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const c = data[i]!;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
  }
  return `${a >>> 0}:${b >>> 0}:${n}`;
}

/** Tracks broadcasts by topic and seq. */
export class BroadcastTracker {
  readonly settled: BroadcastRecord[] = [];
  private readonly pending = new Set<Pending>();
  private readonly topics = new TopicLru<TopicEntry>(MAX_TOPICS, (_, entry) => {
    entry.isEvicted = true;
  });
  private readonly syntheticSeqs = new Map<string, number>();
  private lastEntry: Pending | null = null;
  private syntheticNext = 0;
  private nextTopicId = 0;
  /** Records made so far: the last one's index. */
  private made = 0;

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

  /** Topics dropped from the table for its bound. */
  get topicsEvicted(): number {
    return this.topics.evicted;
  }

  /** Topics in the table now (at most {@link MAX_TOPICS}). */
  get topicCount(): number {
    return this.topics.size;
  }

  /** The table's entry for a topic, made when there is none (the least recently used may go). */
  topic(name: string): TopicEntry {
    const key = topicKey(name);
    let entry = this.topics.get(key);
    if (!entry) {
      entry = {
        name: key,
        id: ++this.nextTopicId,
        readyCount: 0,
        latestSeq: Number.NaN,
        pending: [],
        recent: [],
        isEvicted: false,
      };
      this.topics.set(key, entry);
    }
    return entry;
  }

  /** The stamp of a user that becomes ready now: it is owed every record made from now on. */
  get readyStamp(): number {
    return this.made + 1;
  }

  /** Registers a broadcast we triggered, before its frames arrive. */
  expect(topic: string, seq: number, at: number): void {
    const entry = this.topic(topic);
    if (!(seq <= entry.latestSeq)) entry.latestSeq = seq;
    if (!this.find(entry, seq)) this.make(entry, seq, at);
  }

  private find(entry: TopicEntry, seq: number): Pending | undefined {
    const pending = entry.pending;
    // receipts are of the newest records: look from the end
    for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.record.seq === seq) return pending[i];
    return undefined;
  }

  private make(entry: TopicEntry, seq: number, at: number): Pending {
    if (this.pending.size >= MAX_PENDING_BROADCASTS) this.settleOne(this.pending.values().next().value as Pending);
    const record: BroadcastRecord = {
      topic: entry.name,
      seq,
      openAtSend: entry.readyCount,
      receivers: 0,
      reached: 0,
      cut: 0,
      reach: 0,
      firstMs: 0,
      p50Ms: 0,
      p99Ms: 0,
      lastMs: 0,
      isSettled: false,
      sentAtMs: at,
    };
    const made: Pending = {
      record,
      entry,
      latencies: [],
      createdAt: at,
      firstReceiptAt: 0,
      index: ++this.made,
      receiversAtPass: 0,
    };
    entry.pending.push(made);
    this.pending.add(made);
    return made;
  }

  /**
   * Hot path: a user ready since `readyStamp` (0: not owed anything) received `seq` of a topic.
   * `latencyMs` is from the server's send time; null: from the first receipt of the same
   * message (a target without a send time). Returns the latency to record.
   */
  receive(entry: TopicEntry, seq: number, latencyMs: number | null, at: number, readyStamp: number): number {
    // the receipts of one broadcast arrive back to back: remember the last record looked up
    const cached = this.lastEntry;
    let found =
      cached && cached.entry === entry && cached.record.seq === seq && !cached.record.isSettled
        ? cached
        : this.find(entry, seq);
    if (!found) {
      if (entry.recent.includes(seq)) return latencyMs ?? 0; // after it settled
      found = this.make(entry, seq, at);
    }
    this.lastEntry = found;
    if (found.firstReceiptAt === 0) found.firstReceiptAt = at;
    const latency = latencyMs ?? at - found.firstReceiptAt;
    const r = found.record;
    r.receivers++;
    if (readyStamp > 0 && readyStamp <= found.index) r.reached++;
    found.latencies.push(latency);
    return latency;
  }

  /**
   * The tool cut a user ready since `readyStamp` whose last seq of the topic was `afterSeq`
   * (null: none): each record in flight it was owed and had not received counts it as cut.
   */
  cut(entry: TopicEntry, afterSeq: number | null, readyStamp: number): CutCount {
    let result = NO_CUT;
    for (const p of entry.pending) {
      const r = p.record;
      if (readyStamp > p.index || (afterSeq !== null && r.seq <= afterSeq)) continue;
      r.cut++;
      r.openAtSend--;
      if (result === NO_CUT) result = { count: 0, lastSeq: r.seq };
      result.count++;
      result.lastSeq = Math.max(result.lastSeq, r.seq);
    }
    return result;
  }

  /** For targets without a seq: one number per distinct message text, in order of first sight. */
  syntheticSeq(entry: TopicEntry, data: Buffer | string): number {
    const key = `${entry.id}:${hashes(data)}`;
    let seq = this.syntheticSeqs.get(key);
    if (seq === undefined) {
      if (this.syntheticSeqs.size > 10_000) this.syntheticSeqs.clear();
      seq = ++this.syntheticNext;
      this.syntheticSeqs.set(key, seq);
    }
    return seq;
  }

  /**
   * Settles records whose time is up, or that every user owed them has received and that took
   * no receipt since the last pass (users not owed one may still be receiving it: a user ready
   * from its first receipt is not owed that first one, and a large fan-out takes a while).
   */
  settle(at: number, force = false): void {
    for (const p of this.pending) {
      const r = p.record;
      const isComplete =
        r.reached >= r.openAtSend && (r.openAtSend > 0 || r.cut > 0) && r.receivers === p.receiversAtPass;
      p.receiversAtPass = r.receivers;
      if (force || isComplete || at - p.createdAt >= this.settleMs) this.settleOne(p);
    }
  }

  private settleOne(p: Pending): void {
    // a typed array sorts numbers natively: a JS comparator over 16,000 receipts took milliseconds of the sample
    const sorted = Float64Array.from(p.latencies).sort();
    p.latencies = [];
    const r = p.record;
    r.firstMs = sorted[0] ?? 0;
    r.lastMs = sorted[sorted.length - 1] ?? 0;
    r.p50Ms = percentileOf(sorted, 50);
    r.p99Ms = percentileOf(sorted, 99);
    r.reach = reachOf(r);
    r.isSettled = true;
    if (this.isDetailed) {
      const histogram = new LatencyHistogram();
      for (const latency of sorted) histogram.record(latency);
      this.histograms.set(r, histogram);
    }
    this.pending.delete(p);
    const list = p.entry.pending;
    list.splice(list.indexOf(p), 1);
    p.entry.recent.push(r.seq);
    if (p.entry.recent.length > RECENT_SEQS) p.entry.recent.shift();
    if (this.lastEntry === p) this.lastEntry = null;
    this.settled.push(r);
    // a part's sample takes what settled since the last one; past this many a second, the rest is not sent
    if (this.fresh.length < 100_000) this.fresh.push(r);
    if (this.settled.length > this.keep) this.settled.shift();
  }

  /** The lowest reach over settled broadcasts, 1 when there were none. */
  get minReach(): number {
    return this.settled.reduce((min, r) => Math.min(min, r.reach), 1);
  }
}

/**
 * A record's reach: the share of the users it was owed that received it. Owed to nobody, it
 * reached everyone owed when the only users owed were cut, or anyone received it; else 0.
 */
export function reachOf(r: Pick<BroadcastRecord, 'openAtSend' | 'reached' | 'receivers' | 'cut'>): number {
  if (r.openAtSend > 0) return Math.min(1, r.reached / r.openAtSend);
  return r.cut > 0 || r.receivers > 0 ? 1 : 0;
}
