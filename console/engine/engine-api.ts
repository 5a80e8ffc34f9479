/**
 * The engine as the console, `run` and a coordinator see it, whatever runs the fleet: this
 * process, shard processes, or (later) remote agents. Commands and snapshots are plain data.
 */
import type { EngineCommand } from './commands.ts';
import type { EncodedHistograms } from './measure/metrics.ts';
import type { Snapshot } from './measure/snapshot.ts';

/** Counts that change between snapshots. */
export interface LiveCounts {
  open: number;
  target: number;
  isRecovered: boolean;
  /** Connections cut by chaos so far (ours and the server's). */
  killed: number;
  /** The reconnect policy in force, as the command language writes it (the engine's answer; parts leave it out). */
  policy?: string;
}

/** What `dispatch` answers. */
export interface CommandResult {
  ok: boolean;
  message: string;
  /** How many users a part's kill or slow touched. */
  count?: number;
}

/** The engine as the console and `run` see it. */
export interface Engine {
  dispatch(command: EngineCommand): Promise<CommandResult>;
  subscribe(listener: (snapshot: Snapshot) => void): () => void;
  getSnapshot(): Snapshot;
  /** Live counts between snapshots, for `await` and a coordinator: cheap, plain data. */
  live(): LiveCounts;
  /** The whole-run latency histograms as of the latest snapshot, by counts (for a Prometheus scrape). */
  histograms(): EncodedHistograms['total'];
  /** Idempotent: ends every VU (close, then terminate stragglers), stops the bundled server. */
  stop(): Promise<void>;
  readonly targetUrl: string;
}
