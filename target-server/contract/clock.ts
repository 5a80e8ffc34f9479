/**
 * The clock sockstorm's programs agree on (target-server/contract/ belongs to no one program:
 * every program may import it, and it imports nothing of theirs): the bundled server stamps a
 * fan-out's `ts` with it, and the generator reads fan-out latency, probes and records by it.
 */

/** Epoch milliseconds with sub-millisecond resolution: the clock of `ts`, probes and records. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
