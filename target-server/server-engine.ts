import type { ServerConfig } from './contract/wire.ts';
import type { FanoutEngine } from './server-hub.ts';

/** A live change an engine cannot make now; the old behaviour and listener stay as they were. */
export class ConfigRefusedError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly status = 409,
  ) {
    super(message);
  }
}

/** A WebSocket engine of the bundled server: listens, fans out, applies knobs, shuts down. */
export interface ServerEngine extends FanoutEngine {
  /** Listens on host:port (0 picks a free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Applies knobs that live in the engine rather than the hub (frame limit, idle, compression,
   * backpressure), before the hub takes them; rejects with {@link ConfigRefusedError} when
   * the change cannot be made now, having changed nothing.
   */
  applyConfig(patch: Partial<ServerConfig>): Promise<void>;
  /** Stops accepting, sends 1001 to every client, and resets what is left after `graceMs`. */
  close(graceMs: number): Promise<void>;
}
