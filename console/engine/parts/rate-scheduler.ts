/**
 * Most sends one turn of the loop makes. A generator that cannot keep up falls behind its
 * schedule; without a cap it then sent everything due in one turn (at 50,000/s, a 100 ms stall
 * is 5,000 sends, and one more stall while sending those is more), holding the loop while replies
 * and snapshots waited, which made it fall further behind. Capped, what is left stays due, in order, for
 * the next turn, after the loop has read what came in: a saturated generator sends at the
 * rate it sustains and goes on measuring, and says it is saturated.
 */
export const MAX_SENDS_PER_TURN = 500;

/**
 * A fixed-rate schedule of intended send times. Latency is measured from the intended time,
 * not the actual one, so a stalled generator shows up in the figures instead of hiding them
 * (no coordinated omission). Pure: the clock is passed in.
 */
export class RateScheduler {
  private startedAt = 0;
  private issued = 0;
  perSec = 0;
  /** Sends skipped, since the rate was set, because they were due longer than the backlog ago. */
  skipped = 0;

  /** Sets the rate from `at` on; 0 stops the schedule. */
  setRate(perSec: number, at: number): void {
    this.perSec = Math.max(0, perSec);
    this.startedAt = at;
    this.issued = 0;
    this.skipped = 0;
  }

  /** The next intended send time, or Infinity when stopped. */
  nextDueAt(): number {
    return this.perSec > 0 ? this.startedAt + (this.issued * 1000) / this.perSec : Infinity;
  }

  /**
   * Intended times (same clock as `at`) of the sends due by `at`, oldest first, at most
   * `maxPerTurn` of them: the rest stay due ({@link nextDueAt} is then at or before `at`).
   * Sends due longer than `maxBacklogMs` ago are skipped (counted in {@link skipped}):
   * after a long stall the schedule goes on from the backlog's start instead of bursting it.
   */
  due(at: number, maxBacklogMs = 10_000, maxPerTurn = MAX_SENDS_PER_TURN): number[] {
    if (this.perSec <= 0) return [];
    const intervalMs = 1000 / this.perSec;
    const dueUntil = Math.floor((at - this.startedAt) / intervalMs) + 1;
    if (dueUntil <= this.issued) return [];
    // sends older than the backlog are skipped without being visited: a stall at a high rate
    // must not turn into a loop over millions of missed sends
    const firstKept = Math.max(this.issued, Math.ceil((at - maxBacklogMs - this.startedAt) / intervalMs));
    this.skipped += firstKept - this.issued;
    const last = Math.min(dueUntil, firstKept + Math.max(1, maxPerTurn));
    const times: number[] = [];
    for (let i = firstKept; i < last; i++) times.push(this.startedAt + i * intervalMs);
    this.issued = last;
    return times;
  }
}
