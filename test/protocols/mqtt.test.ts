import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/test-client.ts';
import { useEngines } from '../helpers/engines.ts';
import { nextSnapshot } from '../helpers/next-snapshot.ts';

// A real MQTT broker (aedes) behind a WebSocket server speaking the `mqtt` subprotocol. With a
// 2 s keepalive the broker drops a client silent for 3 s: holding 1,000 users for 4.5 s proves
// the preset's PINGREQ keeps them.
const engines = useEngines();
let broker: Aedes;
let wss: WebSocketServer;
let url: string;

beforeAll(async () => {
  broker = await Aedes.createBroker({ authenticate: (_client, username, _password, done) => done(null, username === 'good') });
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });
  wss.on('connection', (socket) => broker.handle(createWebSocketStream(socket) as never));
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
  await new Promise<void>((resolve) => broker.close(() => resolve()));
});

const options = () => ({
  target: url,
  protocol: 'mqtt' as const,
  ratePerSec: 5000,
  snapshotIntervalMs: 250,
  reconnect: { kind: 'fixed' as const, delayMs: 50 },
  broadcastSend: 'publish ticks {"ts":{{now}},"n":{{n}}}',
  framePaths: { tsPath: 'ts', seqPath: 'n' },
});

describe('the MQTT preset against a real broker (aedes over WebSocket)', () => {
  it('holds 1,000 users past twice the keepalive, fans a publish out to every subscriber, and recovers a kill', async () => {
    const engine = await engines.start(options());
    await engine.dispatch({ type: 'protocol', name: 'mqtt', keepaliveS: 2 });
    await engine.dispatch({ type: 'connect-payload', template: '{"clientId":"u{{vu}}","username":"good","password":"x"}' });
    await engine.dispatch({ type: 'on-open', template: 'subscribe ticks' });
    await engine.dispatch({ type: 'set-target', count: 1000 });
    await eventually(() => engine.live().open === 1000, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const held = await nextSnapshot(engine, () => true);
    expect(held.fleet.open).toBe(1000);
    expect(held.totals.disconnects).toBe(0);
    expect(held.errors).toEqual({});
    expect(broker.connectedClients).toBe(1000);
    await engine.dispatch({ type: 'broadcast', count: 1, sizeBytes: 8 });
    const reached = await nextSnapshot(engine, (s) => s.broadcastsSettled >= 1, 10_000);
    expect(reached.broadcasts[0]).toMatchObject({ receivers: 1000, reach: 1 });
    await engine.dispatch({ type: 'kill', percent: 20, mode: 'reset', victims: 'random' });
    await eventually(() => engine.live().isRecovered && engine.live().open === 1000, 20_000);
    const after = await nextSnapshot(engine, (s) => s.recovery?.fullMs != null);
    expect(after.recovery).toMatchObject({ dropped: 200, attempts: 200, failures: 0 });
  }, 60_000);

  it('classifies a refused CONNECT by its return code', async () => {
    const engine = await engines.start(options());
    await engine.dispatch({ type: 'connect-payload', template: '{"username":"bad","password":"x"}' });
    await engine.dispatch({ type: 'set-target', count: 5 });
    const refused = await nextSnapshot(engine, (s) => (s.errors['mqtt.connack_4'] ?? s.errors['mqtt.connack_5'] ?? 0) >= 5, 10_000);
    expect(refused.fleet.open).toBe(0);
    expect(refused.errors['other.unknown']).toBeUndefined();
  }, 30_000);
});
