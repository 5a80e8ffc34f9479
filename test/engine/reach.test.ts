import type { AddressInfo, Socket } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_TOPICS, MAX_TOPICS_PER_USER } from '../../console/engine/measure/topic-lru.ts';
import { useEngines } from '../helpers/engines.ts';
import { nextSnapshot } from '../helpers/next-snapshot.ts';
import { eventually } from '../helpers/test-client.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const engines = useEngines();
const servers: WebSocketServer[] = [];
const tcp = new WeakMap<WebSocket, Socket>();
afterEach(async () => {
  for (const wss of servers.splice(0)) {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
});

async function startServer(): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws, req) => tcp.set(ws, req.socket));
  servers.push(wss);
  await new Promise((resolve) => wss.once('listening', resolve));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/` };
}

// the bundled server's fan-out form: the fleet reads topic, seq and send time off its head
const frame = (topic: string, seq: number) =>
  `{"t":"bcast","topic":"${topic}","seq":${seq},"ts":${Date.now()},"data":null}`;

/** Sends to every client, 500 messages to a TCP write, waiting while a client's buffer is full. */
async function sendAll(wss: WebSocketServer, count: number, make: (i: number) => string): Promise<void> {
  const clients = [...wss.clients];
  for (let i = 0; i < count; i += 500) {
    for (const client of clients) tcp.get(client)!.cork();
    for (let j = i; j < Math.min(count, i + 500); j++) {
      const text = make(j);
      for (const client of clients) client.send(text);
    }
    for (const client of clients) tcp.get(client)!.uncork();
    while (clients.some((c) => c.bufferedAmount > 1 << 20)) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('reach and missed against a server that publishes on its own', () => {
  it(
    'leaves a broadcast owed to users the server itself dropped, and counts the seqs they missed ' +
      'while down as missed, not cut',
    async () => {
      const { wss, url } = await startServer();
      const engine = await engines.start(
        { target: url, ratePerSec: 2000, snapshotIntervalMs: 250, reconnect: { kind: 'fixed', delayMs: 400 } },
        20,
      );
      await eventually(() => wss.clients.size === 20, 5000);
      const tick = (seq: number) => sendAll(wss, 1, () => frame('ticks', seq));
      await tick(1);
      await tick(2);
      await nextSnapshot(engine, (s) => s.totals.broadcastsReceived === 40);
      // the server's own drop (an idle timeout, a restart): 5 users gone for 400 ms while 2 ticks go out
      for (const client of [...wss.clients].slice(0, 5)) client.terminate();
      await eventually(() => engine.live().open === 15 && wss.clients.size === 15, 5000);
      await tick(3);
      await tick(4);
      await eventually(() => engine.live().open === 20 && wss.clients.size === 20, 5000);
      await tick(5);
      const s = await nextSnapshot(engine, (snap) => snap.broadcastsSettled === 5);
      expect(s.broadcasts.map((b) => [b.seq, b.openAtSend, b.receivers, b.reach])).toEqual([
        [1, 1, 20, 1],
        [2, 20, 20, 1],
        [3, 15, 15, 1],
        [4, 15, 15, 1],
        // the 5 back are ready again from their first receipt (nothing acknowledges a subscription here)
        [5, 15, 20, 1],
      ]);
      expect(s.totals).toMatchObject({ missed: 5 * 2, cut: 0, disconnects: 5, killed: 0 });
    },
  );

  it(`keeps the topic state of a target publishing on 100,000 topic names to 20 users within its ` +
    `bounds (${MAX_TOPICS} for the fleet, ${MAX_TOPICS_PER_USER} a user), and counts what it drops`, async () => {
    const { wss, url } = await startServer();
    const engine = await engines.start({ target: url, ratePerSec: 2000, snapshotIntervalMs: 250 }, 20);
    await eventually(() => wss.clients.size === 20, 5000);
    const held = async () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    // 1,000 topics first, so the heap below already holds what a few topics cost
    await sendAll(wss, 1000, (i) => frame(`warm-${i}`, 1));
    await nextSnapshot(engine, (snap) => snap.totals.broadcastsReceived === 20 * 1000);
    const before = await held();
    const topics = 100_000;
    await sendAll(wss, topics, (i) => frame(`topic-${i}`, 1));
    const s = await nextSnapshot(engine, (snap) => snap.totals.broadcastsReceived === 20 * 1000 + 20 * topics, 60_000);
    await nextSnapshot(engine, () => true);
    // unbounded, what the users and the fleet kept of 100,000 topics came to 144 MiB; bounded, to a few
    expect((await held()) - before).toBeLessThan(32 * 2 ** 20);
    // the fleet's table held at most MAX_TOPICS of 101,000 topics: it dropped the rest (a user that read
    // a topic after it was dropped made it again, to be dropped again)
    expect(s.totals.topicsEvicted).toBeGreaterThanOrEqual(topics + 1000 - MAX_TOPICS);
    expect(s.totals.userTopicsEvicted).toBeGreaterThanOrEqual(20 * (topics + 1000 - MAX_TOPICS - MAX_TOPICS_PER_USER));
    expect(s.totals.missed).toBe(0);
    expect(s.errors).toEqual({});
  }, 90_000);
});
