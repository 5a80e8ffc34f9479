/**
 * Recovery after a chaos action: how long until 95% and 100% of the target is open again,
 * the peak of handshakes per second, and the attempts and failures on the way. Pure state
 * fed with timestamps, so it is tested without sockets.
 */

/** One chaos action and how the fleet came back from it. */
export interface RecoveryRecord {
  action: string;
  /** Epoch ms of the action. */
  atMs: number;
  target: number;
  dropped: number;
  /** ms from the action until 95% of the target was open; null until then. */
  p95Ms: number | null;
  /** ms until the whole target was open; null until then. */
  fullMs: number | null;
  peakHandshakesPerSec: number;
  attempts: number;
  failures: number;
}

import { LatencyHistogram, type EncodedHistogram } from './histogram.ts';

/** A mass drop nobody asked for: more than this share of the open users within a second (and at least two). */
export const OUTAGE = { share: 0.05, minDrops: 2, windowMs: 1000, action: 'outage' } as const;

/** What a part records of its recoveries so that a shell can merge parts exactly. */
interface Detail {
  openAtAction: number;
  opens: LatencyHistogram;
  attemptsPerSecond: number[];
}

/** Tracks the recovery of the last chaos actions, and of outages nobody caused on purpose. */
export class RecoveryTracker {
  readonly records: RecoveryRecord[] = [];
  private current: RecoveryRecord | null = null;
  private readonly details = new WeakMap<RecoveryRecord, Detail>();
  private openAtStart = 0;

  /** With `isDetailed` (one part of several) it keeps each record's opens and attempts per second. */
  constructor(private readonly isDetailed = false) {}
  private startedAt = 0;
  private bucketSecond = -1;
  private bucketCount = 0;
  /**
   * Drops not yet seen. A server-side kill's drops can land before or after its answer, so
   * it starts unknown (Infinity) and is settled by `announce`.
   */
  private awaitedDrops = 0;
  private seenDrops = 0;
  /**
   * While drops are awaited: when the open count first came back to 95% and to the target after
   * the last drop seen. Users can all be back before the count is announced (a fast reconnect,
   * a late announcement), and no open is left to check on after it.
   */
  private backAt: { p95: number | null; full: number | null } = { p95: null, full: null };
  /** Unplanned drops of the last second, to tell an outage from a few stray closes. */
  private unplanned: { at: number; epochMs: number; drops: number; openBefore: number } | null = null;

  /**
   * Starts tracking a chaos action at `at` (monotonic ms) that drops `dropped` users; with
   * `isAnnouncedLater` the count comes later through {@link announce}.
   */
  start(
    action: string,
    at: number,
    epochMs: number,
    target: number,
    dropped: number,
    isAnnouncedLater = false,
    openNow = 0,
  ): void {
    this.current = {
      action,
      atMs: epochMs,
      target,
      dropped,
      p95Ms: null,
      fullMs: null,
      peakHandshakesPerSec: 0,
      attempts: 0,
      failures: 0,
    };
    this.records.push(this.current);
    // `openNow` is the open count after the drops, or before them when they are announced later
    this.openAtStart = openNow;
    if (this.isDetailed)
      this.details.set(this.current, { openAtAction: openNow, opens: new LatencyHistogram(), attemptsPerSecond: [] });
    if (this.records.length > 50) this.records.shift();
    this.startedAt = at;
    this.bucketSecond = -1;
    this.bucketCount = 0;
    this.awaitedDrops = isAnnouncedLater ? Infinity : 0;
    this.seenDrops = 0;
    this.backAt.p95 = null;
    this.backAt.full = null;
  }

  /** The number of drops of an action started with `isAnnouncedLater`. */
  announce(dropped: number): void {
    if (!this.current) return;
    this.current.dropped = dropped;
    this.awaitedDrops = Math.max(0, dropped - this.seenDrops);
    const detail = this.details.get(this.current);
    if (detail) detail.openAtAction = Math.max(0, this.openAtStart - dropped);
    if (this.awaitedDrops === 0 && this.current.fullMs === null) {
      if (this.backAt.p95 !== null) this.current.p95Ms ??= this.backAt.p95 - this.startedAt;
      if (this.backAt.full !== null) this.current.fullMs = this.backAt.full - this.startedAt;
    }
  }

  /** A drop landed; until every announced drop is seen the fleet is not called recovered. */
  onDrop(): void {
    this.seenDrops++;
    if (this.awaitedDrops > 0) this.awaitedDrops--;
    this.backAt.p95 = null;
    this.backAt.full = null;
  }

  /**
   * An open user dropped without a chaos action (the target closed it, or the network did):
   * `open` is the open count without it. A second in which more than 5% drop so starts an
   * `outage` record, from the first of those drops, with the same figures as a chaos action.
   */
  onUnplannedDrop(at: number, epochMs: number, open: number, target: number): void {
    const record = this.current;
    if (record?.action === OUTAGE.action && record.fullMs === null) {
      record.dropped++;
      return;
    }
    if (!this.unplanned || at - this.unplanned.at > OUTAGE.windowMs)
      this.unplanned = { at, epochMs, drops: 0, openBefore: open + 1 };
    const window = this.unplanned;
    window.drops++;
    if (window.drops < OUTAGE.minDrops || window.drops <= window.openBefore * OUTAGE.share) return;
    this.start(
      OUTAGE.action,
      window.at,
      window.epochMs,
      target,
      window.drops,
      false,
      Math.max(0, window.openBefore - window.drops),
    );
    this.unplanned = null;
  }

  onAttempt(at: number): void {
    const record = this.current;
    if (!record || record.fullMs !== null) return;
    record.attempts++;
    const second = Math.floor((at - this.startedAt) / 1000);
    if (second !== this.bucketSecond) {
      this.bucketSecond = second;
      this.bucketCount = 0;
    }
    this.bucketCount++;
    record.peakHandshakesPerSec = Math.max(record.peakHandshakesPerSec, this.bucketCount);
    const detail = this.details.get(record);
    if (detail) detail.attemptsPerSecond[second] = (detail.attemptsPerSecond[second] ?? 0) + 1;
  }

  /** A user opened (before {@link check} with the new count). */
  onOpen(at: number): void {
    const record = this.current;
    if (record && record.fullMs === null) this.details.get(record)?.opens.record(at - this.startedAt);
  }

  /** A record's detail as plain data (records of a detailed tracker only). */
  detailOf(
    record: RecoveryRecord,
  ): { openAtAction: number; opens: EncodedHistogram; attemptsPerSecond: number[] } | undefined {
    const detail = this.details.get(record);
    return (
      detail && {
        openAtAction: detail.openAtAction,
        opens: detail.opens.encode(),
        attemptsPerSecond: Array.from(detail.attemptsPerSecond, (n) => n ?? 0),
      }
    );
  }

  onFailure(): void {
    if (this.current && this.current.fullMs === null) this.current.failures++;
  }

  /** Checks the open count against the target (after each open, and on the tick). */
  check(at: number, open: number): void {
    const record = this.current;
    if (!record || record.fullMs !== null) return;
    if (this.awaitedDrops > 0) {
      // only once a drop has been seen: before any, the count has not moved yet
      if (this.seenDrops > 0 && this.backAt.p95 === null && open >= Math.ceil(record.target * 0.95))
        this.backAt.p95 = at;
      if (this.seenDrops > 0 && this.backAt.full === null && open >= record.target) this.backAt.full = at;
      return;
    }
    const elapsed = at - this.startedAt;
    if (record.p95Ms === null && open >= Math.ceil(record.target * 0.95)) record.p95Ms = elapsed;
    if (open >= record.target) record.fullMs = elapsed;
  }

  /** The last action's record, if any. */
  get last(): RecoveryRecord | null {
    return this.current;
  }

  /** Whether the last action has fully recovered (true when there was none). */
  get isRecovered(): boolean {
    return this.current === null || this.current.fullMs !== null;
  }
}
