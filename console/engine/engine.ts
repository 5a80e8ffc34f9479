/**
 * The engine API the console and `run` use: create with options, `dispatch(command)`,
 * `subscribe`/`getSnapshot`, and `stop()`, which resolves once every socket is gone. One
 * shell (shell.ts) runs over fleet parts: this process's fleet, shard processes with
 * `workers`, or remote agents; each kind is loaded only when it is used, so a shell over
 * shards never loads the WebSocket client at all.
 */
import { resolveOptions, type EngineOptions, type ResolvedOptions } from './engine-options.ts';
import type { Engine } from './engine-api.ts';
import type { FleetPart } from './fleet-part.ts';
import { createShell } from './shell.ts';

export type { CommandResult, Engine, LiveCounts } from './engine-api.ts';

/** Starts `count` parts; if one fails, stops the others and rethrows. */
export async function startAll(count: number, start: (index: number) => Promise<FleetPart>): Promise<FleetPart[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => start(i)));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const parts = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failed) {
    // one part failed: the others must not linger holding sockets
    await Promise.all(parts.map((p) => p.stop()));
    throw failed.reason;
  }
  return parts;
}

/** The options each of `count` processes runs its share with. */
export function shareOptions(options: ResolvedOptions, count: number): EngineOptions {
  return {
    ...options, workers: 1, broadcastHttp: undefined, ratePerSec: options.ratePerSec / count, maxInFlight: Math.max(1, Math.ceil(options.maxInFlight / count)),
    // each process holds its share of what the host can
    hostLimit: options.hostLimit ? { ...options.hostLimit, capacity: Math.floor(options.hostLimit.capacity / count) } : undefined,
  };
}

/** Creates an engine; rejects with `EngineConfigError` or `ServerStartError` before any VU exists. */
export async function createEngine(input: EngineOptions = {}): Promise<Engine> {
  const options = resolveOptions(input);
  if (options.workers > 1) {
    const { startShard } = await import('./shard-process.ts');
    const count = options.workers;
    return createShell(options, (urls) => startAll(count, (i) => startShard(i, shareOptions(options, count), urls)), { partKind: 'shard', describe: `${count} generator processes` });
  }
  const { createLocalFleet } = await import('./local-fleet.ts');
  return createShell(options, async (urls) => [createLocalFleet(options, { urls, isDetailed: false })], { partKind: 'local' });
}
