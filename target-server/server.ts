import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { startAdminApi } from './admin-api.ts';
import type { ListeningEvent, ServerConfig } from './contract/wire.ts';
import type { ServerEngine } from './server-engine.ts';
import { ServerHub } from './server-hub.ts';
import { loadNativeUws, UwsEngine } from './uws-engine.ts';
import { WsEngine } from './ws-engine.ts';

/** Options of the bundled server. */
export interface ServerOptions {
  /** @default 'uws' */
  engine?: 'uws' | 'ws';
  /** WebSocket bind address. @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Admin API bind address. @default '127.0.0.1' */
  adminHost?: string;
  /** @default 0 (a free port) */
  adminPort?: number;
  /** Bearer token of the admin API. @default 24 random bytes, hex */
  token?: string;
  /** Initial knobs; see {@link ServerConfig}. */
  config?: Partial<ServerConfig>;
}

/** A running server. */
export interface RunningServer {
  readonly info: ListeningEvent;
  readonly hub: ServerHub;
  /** Idempotent graceful shutdown, bounded by `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** Raised when the uWS engine is asked for but its native binary is not there. */
export class NativeUnavailableError extends Error {
  readonly code = 'UWS_NATIVE_UNAVAILABLE';
}

/** Starts the WebSocket engine and the admin API. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const hub = new ServerHub(options.config);
  const host = options.host ?? '127.0.0.1';
  let engine: ServerEngine;
  if ((options.engine ?? 'uws') === 'uws') {
    const loaded = loadNativeUws();
    if (!loaded.ok) {
      hub.stop();
      throw new NativeUnavailableError(
        `${loaded.reason}. Refusing to run the slow JavaScript fallback as "uws"; run with --engine ws ` +
          `for the JavaScript baseline.`,
      );
    }
    engine = new UwsEngine(loaded.uws, hub);
  } else {
    engine = new WsEngine(hub);
  }
  hub.engine = engine;
  const token = options.token ?? randomBytes(24).toString('hex');
  let admin: http.Server;
  let port: number;
  try {
    port = await engine.listen(host, options.port ?? 0);
    admin = await startAdminApi({
      hub,
      engine,
      host: options.adminHost ?? '127.0.0.1',
      port: options.adminPort ?? 0,
      token,
    });
  } catch (error) {
    await engine.close(0);
    hub.stop();
    throw error;
  }
  const info: ListeningEvent = {
    event: 'listening',
    host,
    port,
    adminPort: (admin.address() as { port: number }).port,
    engine: engine.name,
    native: engine.isNative,
    token,
    pid: process.pid,
  };
  let closing: Promise<void> | undefined;
  return {
    info,
    hub,
    close(graceMs = 500) {
      closing ??= (async () => {
        admin.close();
        admin.closeAllConnections();
        await engine.close(graceMs);
        hub.stop();
      })();
      return closing;
    },
  };
}
