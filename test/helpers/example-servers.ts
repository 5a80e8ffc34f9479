/**
 * The minimal servers `examples/targets/*.storm` describe in their headers, built from the real
 * npm servers (socket.io, graphql-ws with graphql, aedes over a `ws` stream, `ws`) on loopback
 * port 0, each on the path its header's command names. A test runs each shipped script's own
 * command against its server.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { Server as SocketIoServer } from 'socket.io';
import { createWebSocketStream, type WebSocket, WebSocketServer } from 'ws';

/** A running example server. */
export interface ExampleServer {
  port: number;
  close(): Promise<void>;
}

async function listen(http: HttpServer): Promise<number> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return (http.address() as AddressInfo).port;
}

const closeHttp = (http: HttpServer): Promise<void> =>
  new Promise((resolve) => {
    http.closeAllConnections();
    http.close(() => resolve());
  });

/** socketio.storm: auth `user-N`, "join" puts a user in the room, "relay" goes to the room as "tick". */
export async function socketioApp(): Promise<ExampleServer> {
  const http = createServer();
  const io = new SocketIoServer(http, { transports: ['websocket'] });
  io.use((socket, next) =>
    /^user-\d+$/.test(String(socket.handshake.auth?.token)) ? next() : next(new Error('unauthorized')),
  );
  io.on('connection', (socket) => {
    socket.on('join', (message: { room?: string }) => socket.join(String(message?.room)));
    socket.on('relay', (message: unknown) => io.to('ticker').emit('tick', message));
  });
  const port = await listen(http);
  return { port, close: () => new Promise((resolve) => io.close(() => resolve())) };
}

/**
 * graphql.storm: connection_init with a `user-N` token, `subscription {
 * ticks { ts n } }` fed by `mutation { tick }` over HTTP POST /graphql.
 */
export async function graphqlApp(): Promise<ExampleServer> {
  // graphql-ws's ws adapter loads graphql as CommonJS: the schema must come from the same copy
  const require = createRequire(import.meta.url);
  const { buildSchema, graphql } = require('graphql') as typeof import('graphql');
  const { useServer } = require('graphql-ws/use/ws') as typeof import('graphql-ws/use/ws');
  const waiting = new Set<(tick: unknown) => void>();
  let n = 0;
  const schema = buildSchema(
    'type Tick { ts: Float! n: Int! } type Query { ok: Boolean } type Mutation { tick: Int! } type ' +
      'Subscription { ticks: Tick! }',
  );
  const rootValue = {
    tick: () => {
      const tick = { ticks: { ts: Date.now(), n: ++n } };
      const all = [...waiting];
      waiting.clear();
      for (const resolve of all) resolve(tick);
      return n;
    },
  };
  async function* ticks(): AsyncGenerator<unknown> {
    for (;;) yield await new Promise((resolve) => waiting.add(resolve));
  }
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/graphql') return res.writeHead(404).end();
      const { query } = JSON.parse(body) as { query: string };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(await graphql({ schema, source: query, rootValue })));
    });
  });
  const wss = new WebSocketServer({ server: http, path: '/graphql' });
  useServer(
    {
      schema,
      roots: { subscription: { ticks } },
      onConnect: (ctx) => /^user-\d+$/.test(String(ctx.connectionParams?.token)),
    },
    wss,
  );
  const port = await listen(http);
  return {
    port,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await closeHttp(http);
    },
  };
}

/**
 * mqtt.storm: a broker (aedes) over WebSocket on /mqtt with the
 * mqtt subprotocol, accepting user `load` with password `secret`.
 */
export async function mqttBroker(): Promise<ExampleServer> {
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) =>
      done(null, username === 'load' && password?.toString() === 'secret'),
  });
  const http = createServer();
  const wss = new WebSocketServer({
    server: http,
    path: '/mqtt',
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (socket) => broker.handle(createWebSocketStream(socket) as never));
  const port = await listen(http);
  return {
    port,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await closeHttp(http);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/**
 * subscribe.storm: raw JSON on /ws; `{"event":"subscribe","channel":C}`
 * starts a stream of `{"channel":C,…}` every `everyMs`.
 */
export async function tickerStream(everyMs = 100): Promise<ExampleServer> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  const channels = new Map<WebSocket, string>();
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { event?: string; channel?: string };
      if (message.event === 'subscribe' && message.channel) channels.set(socket, message.channel);
    });
    socket.on('close', () => channels.delete(socket));
  });
  let n = 0;
  const timer = setInterval(() => {
    n++;
    for (const [socket, channel] of channels) socket.send(JSON.stringify({ channel, n, price: 100 + (n % 7) }));
  }, everyMs);
  const port = await listen(http);
  return {
    port,
    async close() {
      clearInterval(timer);
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await closeHttp(http);
    },
  };
}
