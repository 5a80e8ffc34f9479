/**
 * A fixed-rate schedule of intended send times. Latency is measured from the intended time,
 * not the actual one, so a stalled generator shows up in the figures instead of hiding them
 * (no coordinated omission). Pure: the clock is passed in.
 */
export class RateScheduler {
  private startedAt = 0;
  private issued = 0;
  perSec = 0;

  /** Sets the rate from `at` on; 0 stops the schedule. */
  setRate(perSec: number, at: number): void {
    this.perSec = Math.max(0, perSec);
    this.startedAt = at;
    this.issued = 0;
  }

  /** The next intended send time, or Infinity when stopped. */
  nextDueAt(): number {
    return this.perSec > 0 ? this.startedAt + (this.issued * 1000) / this.perSec : Infinity;
  }

  /**
   * Intended times (same clock as `at`) of every send due by `at`. After a stall longer
   * than `maxBacklogMs` the schedule restarts instead of bursting a backlog.
   */
  due(at: number, maxBacklogMs = 10_000): number[] {
    if (this.perSec <= 0) return [];
    const intervalMs = 1000 / this.perSec;
    const dueCount = Math.floor((at - this.startedAt) / intervalMs) + 1 - this.issued;
    if (dueCount <= 0) return [];
    // sends older than the backlog are skipped without being visited: a stall at a high rate
    // must not turn into a loop over millions of missed sends
    const firstKept = Math.max(this.issued, Math.ceil((at - maxBacklogMs - this.startedAt) / intervalMs));
    const times: number[] = [];
    for (let i = firstKept; i < this.issued + dueCount; i++) times.push(this.startedAt + i * intervalMs);
    this.issued += dueCount;
    return times;
  }
}
