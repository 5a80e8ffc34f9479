/**
 * `sockstorm tune probe`: opens real connections from this process to the bundled server
 * until the first failure or the bound, and reports how many it held, how fast, and the
 * error class that stopped it.
 */
import { createEngine } from '../console/engine/engine.ts';

/** What a probe found. */
export interface ProbeResult {
  held: number;
  bound: number;
  seconds: number;
  connectsPerSec: number;
  /** The error class of the first failure, or null when the bound was reached. */
  stoppedBy: string | null;
  errors: Record<string, number>;
}

/** Probes up to `bound` connections, within `timeoutMs`. */
export async function probeHost(bound: number, timeoutMs = 55_000, serverEngine: 'uws' | 'ws' = 'uws'): Promise<ProbeResult> {
  const engine = await createEngine({ serverEngine, ratePerSec: 1_000_000, maxInFlight: 500, reconnect: { kind: 'off' }, snapshotIntervalMs: 250 });
  const started = performance.now();
  try {
    await engine.dispatch({ type: 'set-target', count: bound });
    let held = 0;
    let failures = 0;
    // a failure usually means a limit was hit: stop growing and count what is open
    while (performance.now() - started < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const live = engine.live();
      held = live.open;
      failures = Object.values(engine.getSnapshot().errors).reduce((sum, n) => sum + n, 0);
      if (held >= bound || failures > 0 || engine.getSnapshot().totals.failures > 0) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const snapshot = engine.getSnapshot();
    held = Math.max(held, engine.live().open);
    const seconds = (performance.now() - started) / 1000;
    const stoppedBy = Object.entries(snapshot.errors).sort((a, b) => b[1] - a[1])[0]?.[0] ?? (held >= bound ? null : 'timeout');
    return { held, bound, seconds, connectsPerSec: held / seconds, stoppedBy, errors: snapshot.errors };
  } finally {
    await engine.stop();
  }
}
