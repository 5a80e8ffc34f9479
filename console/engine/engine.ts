/**
 * The engine's public API, in this one file (the types it hands out are re-exported from the
 * shell and the part contract that define them): create with options, `dispatch(command)`,
 * `subscribe`/`getSnapshot`, and `stop()`, which resolves once every socket is gone. One
 * shell (shell.ts) runs over fleet parts: this process's fleet, shard processes with
 * `workers`, or remote agents; each kind is loaded only when it is used, so a shell over
 * shards never loads the WebSocket client at all.
 */
import {
  AGENTS_DEFAULTS,
  AgentsError,
  EngineConfigError,
  resolveOptions,
  type AgentsOptions,
  type EngineOptions,
  type ResolvedOptions,
} from './engine-options.ts';
import type { FleetPart } from './parts/fleet-part.ts';
import { createShell, type Engine } from './shell.ts';

export type { CommandResult, LiveCounts } from './parts/fleet-part.ts';
export type { Engine } from './shell.ts';

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
    ...options,
    workers: 1,
    broadcastHttp: undefined,
    ratePerSec: options.ratePerSec / count,
    maxInFlight: Math.max(1, Math.ceil(options.maxInFlight / count)),
    // the held-bytes budget is the run's: each process holds its share
    heldBudgetBytes: Math.max(1, Math.floor(options.heldBudgetBytes / count)),
    // each process holds its share of what the host can
    hostLimit: options.hostLimit
      ? { ...options.hostLimit, capacity: Math.floor(options.hostLimit.capacity / count) }
      : undefined,
  };
}

/**
 * Creates an engine; rejects with `EngineConfigError` or `ServerStartError` before any VU exists.
 * `signal` (a stop) ends a start that waits on others: agents joining, then starting their fleets.
 */
export async function createEngine(input: EngineOptions = {}, signal?: AbortSignal): Promise<Engine> {
  const options = resolveOptions(input);
  if (options.agents) return createCoordinatedEngine(options, options.agents, signal);
  if (options.workers > 1) {
    const { startShard } = await import('./parts/shard-process.ts');
    const count = options.workers;
    return createShell(options, (urls) => startAll(count, (i) => startShard(i, shareOptions(options, count), urls)), {
      partKind: 'shard',
      describe: `${count} generator processes`,
      isLossFault: true,
    });
  }
  const { startLocalFleet } = await import('./parts/local-fleet.ts');
  return createShell(options, async (urls) => [await startLocalFleet(options, { urls, isDetailed: false })], {
    partKind: 'local',
  });
}

/** A run over remote agents: listen, wait for every agent, then the same shell as ever; a stop meanwhile ends it (`agents.stopped`). */
async function createCoordinatedEngine(
  options: ResolvedOptions,
  agents: AgentsOptions,
  signal?: AbortSignal,
): Promise<Engine> {
  const { startCoordinator } = await import('./parts/coordinator.ts');
  const { RemotePart } = await import('./parts/remote-part.ts');
  const isBundled = options.target === undefined && options.targets === undefined;
  const coordinator = await startCoordinator(agents);
  const isWildcard = coordinator.host === '0.0.0.0' || coordinator.host === '::';
  if (isBundled && isWildcard && options.serverHost === undefined) {
    await coordinator.close();
    throw new EngineConfigError(
      'config.option',
      'agents reach the bundled server where the coordinator listens: give --listen the address they ' +
        'dial (not 0.0.0.0), or a --target',
    );
  }
  // agents on other hosts reach the bundled servers where they reach the coordinator
  const shell = { ...options, serverHost: options.serverHost ?? (isBundled ? coordinator.host : undefined) };
  // a stop while agents start their fleets: the coordinator tells them the run is over, and each start ends
  const onAbort = (): void => void coordinator.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await createShell(
      shell,
      async (urls) => {
        const joined = await coordinator.waitFor(
          agents.count,
          agents.joinTimeoutMs ?? AGENTS_DEFAULTS.joinTimeoutMs,
          signal,
        );
        // users go where there is room: by each host's capacity when every agent could tell it
        const known = joined.every((a) => a.capacity !== null && a.capacity > 0);
        return startAll(joined.length, (i) =>
          RemotePart.start(
            joined[i]!.name,
            known ? joined[i]!.capacity! : 1,
            joined[i]!.channel,
            shareOptions(options, agents.count),
            urls,
            joined[i]!.address,
          ),
        );
      },
      {
        partKind: 'agent',
        describe: `${agents.count} agents`,
        onStopped: () => coordinator.close(),
        onLog: (log) => coordinator.setLog(log),
      },
    );
  } catch (error) {
    if (signal?.aborted && !(error instanceof AgentsError))
      throw new AgentsError('agents.stopped', 'stopped before the run started (while the agents started their fleets)');
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
