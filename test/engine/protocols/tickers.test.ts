import { createServer, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { Server as SocketIoServer } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Engine } from '../../../console/engine/engine.ts';
import type { EngineOptions } from '../../../console/engine/engine-options.ts';
import type { EngineCommand } from '../../../console/engine/commands.ts';
import { useEngines } from '../../helpers/engines.ts';
import { nextSnapshot } from '../../helpers/next-snapshot.ts';
import { eventually } from '../../helpers/test-client.ts';

// Real servers from npm that publish on their own schedule, every 250 ms, while 40 users ramp in
// at 20 a second and while a fifth of them is killed. Socket.IO and graphql-ws write each tick to
// their subscribers one by one, 4 ms apart (a tick is in flight for 160 ms); aedes takes 300 ms to
// grant a subscription (a user is open, and not yet subscribed, for that long). Each server keeps
// a ledger of the first and last tick it wrote to each user: the ticks in between a user did not
// receive were cut by the kill, and the fleet must count exactly those as `cut`, none as missed.

const TICK_MS = 250;
const USERS = 40;
const engines = useEngines();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The first and last tick a server wrote to each user, by the user's number. */
class Ledger {
  private readonly spans = new Map<number, { first: number; last: number }>();
  private readonly seqs = new Set<number>();
  readonly writes: Array<[number, number]> = [];
  wrote(vu: number, seq: number): void {
    this.seqs.add(seq);
    this.writes.push([vu, seq]);
    const span = this.spans.get(vu);
    if (!span) this.spans.set(vu, { first: seq, last: seq });
    else span.last = Math.max(span.last, seq);
  }
  /** Ticks each user should have seen, from its first to its last, over every user. */
  get owed(): number {
    let n = 0;
    for (const { first, last } of this.spans.values()) n += last - first + 1;
    return n;
  }
  get users(): number {
    return this.spans.size;
  }
  /** Ticks written to anyone. */
  get ticks(): number {
    return this.seqs.size;
  }
}

/**
 * A tick every 250 ms until stopped; `onTick` runs as a tick starts (the test kills there, with the tick in flight).
 */
function ticker(publish: (seq: number) => void): { stop(): void; onTick: (() => void) | null } {
  let seq = 0;
  const state = {
    onTick: null as (() => void) | null,
    stop: () => clearInterval(timer),
  };
  const timer = setInterval(() => {
    seq++;
    const hook = state.onTick;
    state.onTick = null;
    hook?.();
    publish(seq);
  }, TICK_MS);
  return state;
}

/** Writes to each of `targets` in turn, 4 ms apart. */
function oneByOne<T>(targets: T[], write: (target: T) => void): void {
  targets.forEach((target, i) => {
    setTimeout(() => write(target), i * 4);
  });
}

const tickJson = (seq: number) => ({ seq, ts: Date.now() });

async function listen(http: HttpServer): Promise<number> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return (http.address() as AddressInfo).port;
}

interface TickServer {
  url: string;
  ledger: Ledger;
  ticks: ReturnType<typeof ticker>;
}

async function socketIoTicker(): Promise<TickServer> {
  const http = createServer();
  const io = new SocketIoServer(http, { transports: ['websocket'] });
  const ledger = new Ledger();
  const ticks = ticker((seq) =>
    oneByOne([...io.of('/').sockets.values()], (socket) => {
      if (!socket.connected) return;
      socket.emit('tick', tickJson(seq));
      ledger.wrote(Number(socket.handshake.auth.vu), seq);
    }),
  );
  const port = await listen(http);
  closers.push(async () => {
    ticks.stop();
    await new Promise((resolve) => io.close(resolve));
  });
  return { url: `ws://127.0.0.1:${port}/`, ledger, ticks };
}

async function graphqlTicker(): Promise<TickServer> {
  // graphql-ws's ws adapter loads graphql as CommonJS: the schema must come from the same copy
  const require = createRequire(import.meta.url);
  const { buildSchema } = require('graphql') as typeof import('graphql');
  const { useServer } = require('graphql-ws/use/ws') as typeof import('graphql-ws/use/ws');
  const ledger = new Ledger();
  const subscribers = new Set<{ vu: number; push(value: unknown): void }>();
  // each subscriber has its own queue, so a tick is never lost between two of its yields
  async function* tickStream(_: unknown, context: { vu: number }): AsyncGenerator<unknown> {
    const queue: unknown[] = [];
    let wake: (() => void) | null = null;
    const subscriber = {
      vu: context.vu,
      push(value: unknown) {
        queue.push(value);
        wake?.();
      },
    };
    subscribers.add(subscriber);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift();
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      subscribers.delete(subscriber);
    }
  }
  const ticks = ticker((seq) =>
    oneByOne([...subscribers], (subscriber) => {
      if (!subscribers.has(subscriber)) return;
      subscriber.push({ ticks: tickJson(seq) });
      ledger.wrote(subscriber.vu, seq);
    }),
  );
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  const schema = buildSchema(
    'type Tick { ts: Float! seq: Int! } type Query { ok: Boolean } type Subscription { ticks: Tick! }',
  );
  useServer(
    {
      schema,
      roots: { subscription: { ticks: tickStream } },
      context: (ctx) => ({ vu: Number((ctx.connectionParams as { vu?: number } | undefined)?.vu) }),
    },
    wss,
  );
  const port = await listen(http);
  closers.push(async () => {
    ticks.stop();
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => http.close(resolve));
  });
  return { url: `ws://127.0.0.1:${port}/graphql`, ledger, ticks };
}

async function mqttTicker(): Promise<TickServer> {
  const ledger = new Ledger();
  const broker = await Aedes.createBroker({
    // a broker that takes its time to grant a subscription: the user is open, not yet subscribed
    authorizeSubscribe: (_client, subscription, done) => setTimeout(() => done(null, subscription), 300),
  });
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (socket) => {
    // the ledger reads what the broker writes to each connection; the user is named by its CONNECT
    let vu = -1;
    const incoming = mqttPacket.parser({ protocolVersion: 4 });
    incoming.on('packet', (packet) => {
      if (packet.cmd === 'connect') vu = Number(String((packet as { clientId: string }).clientId).slice(1));
    });
    socket.on('message', (data: Buffer) => incoming.parse(data));
    const outgoing = mqttPacket.parser({ protocolVersion: 4 });
    outgoing.on('packet', (packet) => {
      if (packet.cmd === 'publish' && (packet as { topic: string }).topic === 'ticks') {
        ledger.wrote(vu, (JSON.parse(String((packet as { payload: Buffer }).payload)) as { seq: number }).seq);
      }
    });
    const send = socket.send.bind(socket);
    socket.send = ((data: Buffer, ...rest: unknown[]) => {
      if (socket.readyState === socket.OPEN) outgoing.parse(Buffer.from(data));
      return (send as (...args: unknown[]) => void)(data, ...rest);
    }) as typeof socket.send;
    broker.handle(createWebSocketStream(socket) as never);
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const ticks = ticker((seq) =>
    broker.publish(
      {
        cmd: 'publish',
        topic: 'ticks',
        payload: Buffer.from(JSON.stringify(tickJson(seq))),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => {},
    ),
  );
  closers.push(async () => {
    ticks.stop();
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, ledger, ticks };
}

const PRESETS: Array<{
  name: string;
  start: () => Promise<TickServer>;
  options: Partial<EngineOptions>;
  session: EngineCommand[];
}> = [
  {
    name: 'socket.io',
    start: socketIoTicker,
    options: { protocol: 'socketio', framePaths: { seqPath: 'seq', tsPath: 'ts' } },
    session: [{ type: 'connect-payload', template: '{"vu":{{vu}}}' }],
  },
  {
    name: 'graphql-ws',
    start: graphqlTicker,
    options: { protocol: 'graphql-ws', framePaths: { seqPath: 'ticks.seq', tsPath: 'ticks.ts' } },
    session: [
      { type: 'connect-payload', template: '{"vu":{{vu}}}' },
      { type: 'on-open', template: '{"query":"subscription { ticks { ts seq } }"}' },
    ],
  },
  {
    name: 'aedes (MQTT)',
    start: mqttTicker,
    options: { protocol: 'mqtt', framePaths: { seqPath: 'seq', tsPath: 'ts' } },
    session: [
      { type: 'connect-payload', template: '{"clientId":"u{{vu}}"}' },
      { type: 'on-open', template: 'subscribe ticks' },
    ],
  },
];

async function waitTicks(n: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, n * TICK_MS + 50));
}

describe.each(PRESETS)(
  'reach against a $name server that publishes on its own schedule',
  ({ start, options, session }) => {
    it('reads 100% reach and 0 missed through the ramp and a 20% kill, and counts as cut exactly the ' +
      'ticks the killed users did not get', async () => {
      const server = await start();
      const engine: Engine = await engines.start({
        target: server.url,
        ratePerSec: 20,
        snapshotIntervalMs: 250,
        reconnect: { kind: 'fixed', delayMs: 100 },
        ...options,
      });
      for (const command of session) await engine.dispatch(command);
      await engine.dispatch({ type: 'set-target', count: USERS });
      await eventually(() => engine.live().open === USERS, 15_000);
      // every user has had a tick before the kill
      await waitTicks(3);
      expect(server.ledger.users).toBe(USERS);
      const killed = new Promise<string>((resolve) => {
        // 60 ms into a tick: Socket.IO and graphql-ws have written it to about 15 users, not yet to the rest
        server.ticks.onTick = () =>
          setTimeout(
            () =>
              void engine
                .dispatch({ type: 'kill', percent: 20, mode: 'reset', victims: 'random' })
                .then((r) => resolve(r.message)),
            60,
          );
      });
      expect(await killed).toContain(`dropped ${USERS / 5}`);
      await eventually(() => engine.live().open === USERS && engine.live().isRecovered, 15_000);
      await waitTicks(4);
      server.ticks.stop();
      const ticks = server.ledger.ticks;
      await nextSnapshot(engine, (snap) => snap.broadcastsSettled >= ticks, 15_000);
      // one sample more: every receipt of the last tick is in it
      const s = await nextSnapshot(engine, () => true);
      expect(s.broadcastsSettled).toBe(ticks);
      expect(s.minReach).toBe(1);
      expect(s.totals.killed).toBe(USERS / 5);
      expect(s.totals.missed).toBe(0);
      // what each user was written from its first tick to its last, less what it received, is what the kill cut
      expect(s.totals.cut).toBe(server.ledger.owed - s.totals.broadcastsReceived);
      expect(s.totals.cut).toBeGreaterThan(0);
      expect(s.errors).toEqual({});
    }, 40_000);
  },
);
