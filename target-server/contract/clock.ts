/** Epoch milliseconds with sub-millisecond resolution: the clock of `ts`, probes and records. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
