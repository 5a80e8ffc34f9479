import type { Engine } from '../../console/engine/engine.ts';
import type { Snapshot } from '../../console/engine/measure/snapshot.ts';

/** Waits for a snapshot that satisfies `check`; on timeout the error shows the last one seen. */
export function nextSnapshot(engine: Engine, check: (s: Snapshot) => boolean, timeoutMs = 15_000): Promise<Snapshot> {
  return new Promise((resolve, reject) => {
    let last: Snapshot | null = null;
    const timer = setTimeout(() => {
      stop();
      reject(
        new Error(
          `no matching snapshot in time; last: ${JSON.stringify({
            fleet: last?.fleet,
            totals: last?.totals,
            errors: last?.errors,
            recovery: last?.recovery,
            server: last?.server && { connections: last.server.connections, closedByKill: last.server.closedByKill },
          })}`,
        ),
      );
    }, timeoutMs);
    const stop = engine.subscribe((s) => {
      last = s;
      if (!check(s)) return;
      clearTimeout(timer);
      stop();
      resolve(s);
    });
  });
}
