import type { ServerConfig } from './protocol.ts';
import type { FanoutEngine } from './server-hub.ts';

/** A WebSocket engine of the bundled server: listens, fans out, applies knobs, shuts down. */
export interface ServerEngine extends FanoutEngine {
  /** Listens on host:port (0 picks a free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Applies knobs that live in the engine rather than the hub (frame limit, idle, compression). */
  applyConfig(patch: Partial<ServerConfig>): void;
  /** Stops accepting, sends 1001 to every client, and resets what is left after `graceMs`. */
  close(graceMs: number): Promise<void>;
}
