/**
 * Messages between a coordinator and its shard processes (Node IPC): plain data only.
 */
import type { EngineCommand } from './commands.ts';
import type { CommandResult, LiveCounts } from './engine-api.ts';
import type { EngineOptions } from './engine-options.ts';
import type { Snapshot } from './snapshot.ts';

/** Coordinator → shard. */
export type ToShard =
  | { type: 'init'; options: EngineOptions }
  | { type: 'command'; id: number; command: EngineCommand }
  | { type: 'stop' };

/** Shard → coordinator. */
export type FromShard =
  | { type: 'ready' }
  | { type: 'failed'; message: string; code?: string }
  /** `live` is taken right after the command, so a coordinator's `await` never sees the state before it. */
  | { type: 'result'; id: number; result: CommandResult; live: LiveCounts }
  | { type: 'snapshot'; snapshot: Snapshot }
  | ({ type: 'live' } & LiveCounts)
  | { type: 'stopped'; snapshot: Snapshot };
