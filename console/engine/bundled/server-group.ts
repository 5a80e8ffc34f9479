/**
 * Several bundled server processes, each on its own port (this uWS build does not share a
 * port with SO_REUSEPORT): one process holds up to its own fd limit, so a host holds more
 * connections against several, and each port is a destination with its own ephemeral ports.
 */
import { AdminClient, type AdminApi } from './admin-client.ts';
import { AdminGroup } from './admin-group.ts';
import { startBundledServer, type BundledServer, type ServerCrash } from './bundled-server.ts';
import type { ServerConfig } from '../../../target-server/contract/wire.ts';

/** Running bundled servers behind one admin face. */
export interface ServerGroup {
  readonly servers: BundledServer[];
  readonly urls: string[];
  readonly admin: AdminApi;
  readonly engine: 'uws' | 'ws';
  /** Calls `listener` for each server of the group that crashes. */
  onCrash(listener: (crash: ServerCrash) => void): void;
  stop(): Promise<void>;
}

/** Starts `count` bundled servers; if one fails, stops the others and rethrows. */
export async function startServerGroup(
  count: number,
  engine: 'uws' | 'ws',
  where: { host?: string; config?: Partial<ServerConfig> } = {},
): Promise<ServerGroup> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startBundledServer({ engine, ...where })),
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }
  const clients = servers.map((s) => new AdminClient(s.adminUrl, s.info.token));
  return {
    servers,
    urls: servers.map((s) => s.url),
    admin: clients.length === 1 ? clients[0]! : new AdminGroup(clients),
    engine,
    onCrash: (listener) => {
      for (const server of servers) server.onCrash(listener);
    },
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
