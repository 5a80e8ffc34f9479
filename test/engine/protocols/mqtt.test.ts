import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/test-client.ts';
import { useEngines } from '../../helpers/engines.ts';
import { nextSnapshot } from '../../helpers/next-snapshot.ts';
import mqttPacket from 'mqtt-packet';
import { mqttCodec } from '../../../console/engine/protocols/mqtt.ts';

// A real MQTT broker (aedes) behind a WebSocket server speaking the `mqtt` subprotocol. With a
// 2 s keepalive the broker drops a client silent for 3 s: holding 1,000 users for 4.5 s proves
// the preset's PINGREQ keeps them.
const engines = useEngines();
let broker: Aedes;
let wss: WebSocketServer;
let url: string;
const sentByClients = new Map<number, number>();

beforeAll(async () => {
  broker = await Aedes.createBroker({
    authenticate: (_client, username, _password, done) => done(null, username === 'good'),
  });
  wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (socket) => {
    // what clients send, by MQTT packet type (the first byte's high nibble: 4 PUBACK, 6 PUBREL, 7 PUBCOMP)
    socket.on('message', (data: Buffer) => {
      const type = data[0]! >> 4;
      sentByClients.set(type, (sentByClients.get(type) ?? 0) + 1);
    });
    broker.handle(createWebSocketStream(socket) as never);
  });
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
  it('holds 1,000 users past twice the keepalive, fans a publish out to every subscriber, and ' +
    'recovers a kill', async () => {
    const engine = await engines.start(options());
    await engine.dispatch({ type: 'protocol', name: 'mqtt', keepaliveS: 2 });
    await engine.dispatch({
      type: 'connect-payload',
      template: '{"clientId":"u{{vu}}","username":"good","password":"x"}',
    });
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
    const refused = await nextSnapshot(
      engine,
      (s) => (s.errors['mqtt.connack_4'] ?? s.errors['mqtt.connack_5'] ?? 0) >= 5,
      10_000,
    );
    expect(refused.fleet.open).toBe(0);
    expect(refused.errors['other.unknown']).toBeUndefined();
  }, 30_000);

  it('speaks QoS 2 both ways: a publish at qos2 reaches qos2 subscribers once each, and every ' +
    'delivery is completed (PUBCOMP)', async () => {
    sentByClients.clear();
    const completed = new Map<string, number>();
    const onAck = (_: unknown, client: { id: string }) => completed.set(client.id, (completed.get(client.id) ?? 0) + 1);
    broker.on('ack', onAck as never);
    try {
      const engine = await engines.start({ ...options(), broadcastSend: 'publish qos2 q2 {"ts":{{now}},"n":{{n}}}' });
      await engine.dispatch({
        type: 'connect-payload',
        template: '{"clientId":"q{{vu}}","username":"good","password":"x"}',
      });
      await engine.dispatch({ type: 'on-open', template: 'subscribe qos2 q2' });
      await engine.dispatch({ type: 'set-target', count: 100 });
      await eventually(() => engine.live().open === 100, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await engine.dispatch({ type: 'broadcast', count: 3, sizeBytes: 8 });
      const s = await nextSnapshot(engine, (snap) => snap.broadcastsSettled >= 3, 15_000);
      expect(s.broadcasts.map((b) => [b.topic, b.receivers])).toEqual([
        ['q2', 100],
        ['q2', 100],
        ['q2', 100],
      ]);
      expect(s.totals.broadcastsReceived).toBe(300);
      expect(s.totals.missed).toBe(0);
      expect(s.errors).toEqual({});
      // each subscriber completed each of the 3 deliveries with a PUBCOMP (no PUBACK), and the
      // publisher released each of its 3 publishes (PUBREL) after the broker's PUBREC
      await eventually(() => completed.size === 100 && [...completed.values()].every((n) => n === 3), 10_000);
      expect([sentByClients.get(7), sentByClients.get(6), sentByClients.get(4) ?? 0]).toEqual([300, 3, 0]);
    } finally {
      broker.removeListener('ack', onAck as never);
    }
  }, 30_000);
});

describe('the MQTT codec on its own', () => {
  it(
    'delivers a QoS 2 PUBLISH once while its PUBREL is pending, answers each copy with PUBREC, and ' +
      'takes the id again after PUBCOMP',
    () => {
      const codec = mqttCodec({});
      const state = codec.init();
      const publish = (dup: boolean) =>
        mqttPacket.generate({
          cmd: 'publish',
          topic: 't',
          payload: 'hi',
          qos: 2,
          messageId: 5,
          dup,
          retain: false,
        } as never);
      const kinds = (frame: Buffer) =>
        codec
          .decode(state, frame, true)
          .map((e) => (e.kind === 'reply' ? `reply ${(e.frames[0] as Buffer)[0]! >> 4}` : e.kind));
      expect(kinds(publish(false))).toEqual(['message', 'reply 5']);
      expect(kinds(publish(true))).toEqual(['reply 5']);
      expect(kinds(mqttPacket.generate({ cmd: 'pubrel', messageId: 5 } as never))).toEqual(['reply 7']);
      expect(kinds(publish(false))).toEqual(['message', 'reply 5']);
      // QoS 1 is acknowledged with PUBACK, every time
      expect(
        kinds(
          mqttPacket.generate({
            cmd: 'publish',
            topic: 't',
            payload: 'x',
            qos: 1,
            messageId: 9,
            dup: false,
            retain: false,
          } as never),
        ),
      ).toEqual(['message', 'reply 4']);
    },
  );

  it(
    'says what it holds of a packet spanning frames, and since when: a packet begun after another ' +
      'ended in the same frame starts anew',
    async () => {
      const codec = mqttCodec({});
      const state = codec.init() as { heldBytes: number; heldSinceMs: number };
      const a = mqttPacket.generate({
        cmd: 'publish',
        topic: 't',
        payload: 'a'.repeat(100),
        qos: 0,
        retain: false,
        dup: false,
      } as never);
      const b = mqttPacket.generate({
        cmd: 'publish',
        topic: 't',
        payload: 'b'.repeat(100),
        qos: 0,
        retain: false,
        dup: false,
      } as never);
      expect(codec.decode(state, a.subarray(0, 50), true)).toEqual([]);
      const since = state.heldSinceMs;
      expect(state.heldBytes).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(codec.decode(state, a.subarray(50, 60), true)).toEqual([]);
      expect(state.heldSinceMs).toBe(since);
      expect(codec.decode(state, Buffer.concat([a.subarray(60), b.subarray(0, 20)]), true)).toMatchObject([
        { kind: 'message', text: 'a'.repeat(100) },
      ]);
      expect(state.heldSinceMs).toBeGreaterThan(since);
      expect(codec.decode(state, b.subarray(20), true)).toMatchObject([{ kind: 'message', text: 'b'.repeat(100) }]);
      expect(state.heldBytes).toBe(0);
    },
  );
});
