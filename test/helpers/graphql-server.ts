import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

/** A real graphql-ws server whose `ticks` subscription is fed by any HTTP request (the way a mutation would). */
export interface GraphqlTickServer {
  url: string;
  /** `--broadcast-http` for one tick to every subscriber. */
  trigger: string;
  /** Subscribers waiting for the next tick. */
  waiting(): number;
  close(): Promise<void>;
}

/**
 * Starts it on loopback; `onConnect` may refuse a connection_init (a wrong token). The server
 * pings every `keepAliveMs` and terminates a client whose pong has not come by the next ping:
 * the test's 300 ms makes users outlive several pings quickly; the bench keeps graphql-ws's 12 s,
 * since 300 ms with 10,000 users on 2 cores terminated hundreds whose pongs queued behind the ramp.
 */
export async function startGraphqlTickServer(
  onConnect?: (params: unknown) => boolean,
  keepAliveMs = 12_000,
): Promise<GraphqlTickServer> {
  // graphql-ws's ws adapter loads graphql as CommonJS: the schema must come from the same copy
  const require = createRequire(import.meta.url);
  const { buildSchema } = require('graphql') as typeof import('graphql');
  const { useServer } = require('graphql-ws/use/ws') as typeof import('graphql-ws/use/ws');
  const waiting = new Set<(value: unknown) => void>();
  let n = 0;
  const http = createServer((req, res) => {
    const tick = { ticks: { ts: Date.now(), n: ++n } };
    const all = [...waiting];
    waiting.clear();
    for (const resolve of all) resolve(tick);
    res.end('{}');
    req.resume();
  });
  async function* ticks(): AsyncGenerator<unknown> {
    for (;;) yield await new Promise((resolve) => waiting.add(resolve));
  }
  const wss = new WebSocketServer({ server: http });
  const schema = buildSchema(
    'type Tick { ts: Float! n: Int! } type Query { ok: Boolean } type Subscription { ticks: Tick! }',
  );
  useServer(
    {
      schema,
      roots: { subscription: { ticks } },
      ...(onConnect ? { onConnect: (ctx) => onConnect(ctx.connectionParams) } : {}),
    },
    wss,
    keepAliveMs,
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/graphql`,
    trigger: `POST http://127.0.0.1:${port}/tick {}`,
    waiting: () => waiting.size,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
