/**
 * The engine API the console and `run` use: create with options, `dispatch(command)`,
 * `subscribe`/`getSnapshot`, and `stop()`, which resolves once every socket is gone. The
 * fleet runs in this process, or over shard processes with `workers`; each is loaded only
 * when it is used, so a coordinator never loads the WebSocket client at all.
 */
import { resolveOptions, type EngineOptions } from './engine-options.ts';
import type { Engine } from './engine-api.ts';

export type { CommandResult, Engine, LiveCounts } from './engine-api.ts';

/** Creates an engine; rejects with `EngineConfigError` or `ServerStartError` before any VU exists. */
export async function createEngine(input: EngineOptions = {}): Promise<Engine> {
  const options = resolveOptions(input);
  if (options.workers > 1 && !options.isShard) return (await import('./sharded-engine.ts')).createShardedEngine(options);
  return (await import('./local-engine.ts')).createLocalEngine(options);
}
