import { AdminClient } from '../../console/engine/bundled/admin-client.ts';
import { startBundledServer, type BundledServer } from '../../console/engine/bundled/bundled-server.ts';
import type { ServerStats } from '../../target-server/contract/wire.ts';
import { TestClient } from './test-client.ts';

/** A bundled server with a canary client that must keep working through whatever a test throws at the server. */
export interface CanaryServer {
  server: BundledServer;
  admin: AdminClient;
  canary: TestClient;
  /** Raw admin call: status and parsed body. */
  call(
    method: string,
    path: string,
    body?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  stats(): Promise<ServerStats>;
  /** Fails unless the canary's echo and a broadcast to it still arrive, and /healthz says the listener is up. */
  assertAlive(): Promise<void>;
  /** Checks the canary twice a second until `stop()`, which resolves with how many checks passed and the failures. */
  watch(): { stop(): Promise<{ checks: number; failures: string[] }> };
  /** The storm's target: the server's URLs and token. */
  readonly target: { url: string; adminUrl: string; token: string };
  stop(): Promise<void>;
}

let probeId = 0;

/** Starts a server of `engine` and connects the canary (subscribed to "canary"). */
export async function startCanaryServer(engine: 'uws' | 'ws'): Promise<CanaryServer> {
  const server = await startBundledServer({ engine });
  const admin = new AdminClient(server.adminUrl, server.info.token);
  const canary = await TestClient.open(`${server.url}?topics=canary`);
  async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${server.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.info.token}`, ...headers },
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: response.status, body: parsed as any };
  }
  async function stats(): Promise<ServerStats> {
    const result = await admin.stats();
    if (!result.ok) throw new Error(`/stats failed: ${result.message}`);
    return result.value;
  }
  const self: CanaryServer = {
    server,
    admin,
    canary,
    call,
    stats,
    target: { url: server.url, adminUrl: server.adminUrl, token: server.info.token },
    watch() {
      let checks = 0;
      let isRunning = true;
      const failures: string[] = [];
      const watching = (async () => {
        while (isRunning) {
          try {
            await self.assertAlive();
            checks++;
          } catch (error) {
            failures.push((error as Error).message);
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })();
      return {
        async stop() {
          isRunning = false;
          await watching;
          return { checks, failures };
        },
      };
    },
    async assertAlive() {
      if (server.child.exitCode !== null || server.child.signalCode !== null) {
        throw new Error(`the server died (${server.child.exitCode ?? server.child.signalCode}): ${server.stderr()}`);
      }
      const id = ++probeId;
      const from = canary.frames.length;
      canary.send({ t: 'rtt', id });
      await canary.next((f) => f.t === 'rtt' && f.id === id, 5000, from);
      const sent = await admin.broadcast({ topic: 'canary', count: 1, size: 4 });
      if (!sent.ok) throw new Error(`the canary's broadcast was refused: ${sent.message}`);
      await canary.next((f) => f.t === 'bcast' && f.topic === 'canary' && f.seq === sent.value.firstSeq, 5000, from);
      const health = await call('GET', '/healthz');
      if (health.status !== 200 || health.body.listening !== true)
        throw new Error(`/healthz: ${health.status} ${JSON.stringify(health.body)}`);
    },
    async stop() {
      await canary.close();
      await server.stop();
    },
  };
  return self;
}
