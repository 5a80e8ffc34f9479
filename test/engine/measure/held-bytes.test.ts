// Targets that start packets spanning frames and never finish them: half an MQTT PUBLISH held
// 32.6 MiB per user, and Socket.IO binary events whose last attachment never comes about 10 MiB
// per user, with `errors none`. Now what the users hold is under one budget for the fleet and a
// deadline per partial packet; every snapshot's fleet.heldBytes stays within the budget, and
// each dropped packet is counted under its preset's held_budget or held_deadline class.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Engine } from '../../../console/engine/engine.ts';
import { HeldBytes, type HeldCause, type HeldPartial } from '../../../console/engine/measure/held-bytes.ts';
import { useEngines } from '../../helpers/engines.ts';
import { eventually } from '../../helpers/test-client.ts';

const engines = useEngines();
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const USERS = 10;
const KIB = 1024;

/** A `ws` server speaking the `mqtt` subprotocol by hand: CONNACK to the CONNECT, then `after(socket)`. */
async function mqttServer(after: (send: (data: Buffer) => void) => void): Promise<string> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (ws) => {
    ws.once('message', () => {
      ws.send(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false } as never));
      after((data) => ws.send(data));
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(resolve);
      }),
  );
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
}

/** The largest fleet.heldBytes any snapshot showed, from now on. */
function watchHeld(engine: Engine): () => number {
  let max = 0;
  engine.subscribe((s) => {
    max = Math.max(max, s.fleet.heldBytes);
  });
  return () => max;
}

describe('HeldBytes', () => {
  it('counts what owners hold, drops the one whose frame passes the budget, and sweeps those past the deadline', () => {
    let now = 0;
    const drops: Array<[string, HeldCause]> = [];
    type Owner = { name: string; codecState: HeldPartial };
    const held = new HeldBytes<Owner>(
      { budgetBytes: 100, deadlineMs: 1000 },
      (owner, cause) => {
        drops.push([owner.name, cause]);
        owner.codecState.heldBytes = 0;
      },
      () => now,
    );
    const a: Owner = { name: 'a', codecState: { heldBytes: 60, heldSinceMs: 0 } };
    const b: Owner = { name: 'b', codecState: { heldBytes: 30, heldSinceMs: 0 } };
    held.note(a, a.codecState);
    held.note(b, b.codecState);
    expect(held.heldBytes).toBe(90);
    b.codecState.heldBytes = 50;
    held.note(b, b.codecState);
    expect(drops).toEqual([['b', 'budget']]);
    expect(held.heldBytes).toBe(60);
    b.codecState = { heldBytes: 20, heldSinceMs: 900 };
    held.note(b, b.codecState);
    now = 1000;
    held.sweep();
    expect(drops).toEqual([
      ['b', 'budget'],
      ['a', 'deadline'],
    ]);
    expect(held.heldBytes).toBe(20);
    held.forget(b);
    expect(held.heldBytes).toBe(0);
    held.stop();
  });
});

describe('a target that never finishes a packet', () => {
  it(
    'MQTT, half a PUBLISH to every user: held within the budget, each dropped as mqtt.held_budget or ' +
      'mqtt.held_deadline, the user failed',
    async () => {
      // a 900 KiB PUBLISH, of which three 100 KiB frames are sent: each user would hold 300 KiB
      const publish = mqttPacket.generate({
        cmd: 'publish',
        topic: 't',
        payload: Buffer.alloc(900 * KIB, 1),
        qos: 0,
        retain: false,
        dup: false,
      } as never);
      const url = await mqttServer((send) => {
        for (let i = 0; i < 3; i++) send(publish.subarray(i * 100 * KIB, (i + 1) * 100 * KIB));
      });
      const budget = 1024 * KIB;
      const engine = await engines.start({
        target: url,
        protocol: 'mqtt',
        heldBudgetBytes: budget,
        heldDeadlineMs: 2000,
        snapshotIntervalMs: 100,
        reconnect: { kind: 'off' },
      });
      const maxHeld = watchHeld(engine);
      await engine.dispatch({ type: 'set-target', count: USERS });
      const dropped = (): number => {
        const errors = engine.getSnapshot().errors;
        return (errors['mqtt.held_budget'] ?? 0) + (errors['mqtt.held_deadline'] ?? 0);
      };
      await eventually(() => dropped() === USERS && engine.getSnapshot().fleet.heldBytes === 0, 15_000);
      const s = engine.getSnapshot();
      // 3,000 KiB asked to be held: at most three users' fit, the others were dropped at the budget
      expect(s.errors['mqtt.held_budget']).toBeGreaterThanOrEqual(USERS - 3);
      expect(s.errors['mqtt.held_deadline']).toBeGreaterThanOrEqual(1);
      expect(Object.keys(s.errors).sort()).toEqual(['mqtt.held_budget', 'mqtt.held_deadline']);
      expect(maxHeld()).toBeGreaterThan(0);
      expect(maxHeld()).toBeLessThanOrEqual(budget);
      expect(s.fleet.open).toBe(0);
    },
  );

  it('MQTT, a PUBLISH announced over --max-payload: refused at its header as mqtt.packet_too_large', async () => {
    const publish = mqttPacket.generate({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.alloc(2048 * KIB, 1),
      qos: 0,
      retain: false,
      dup: false,
    } as never);
    const url = await mqttServer((send) => send(publish.subarray(0, 64 * KIB)));
    const engine = await engines.start({
      target: url,
      protocol: 'mqtt',
      maxPayloadBytes: 1024 * KIB,
      snapshotIntervalMs: 100,
      reconnect: { kind: 'off' },
    });
    await engine.dispatch({ type: 'set-target', count: USERS });
    await eventually(() => engine.getSnapshot().errors['mqtt.packet_too_large'] === USERS, 15_000);
    expect(engine.getSnapshot().fleet.heldBytes).toBe(0);
  });

  it(
    'Socket.IO, binary events whose last attachment never comes (a real socket.io server): held ' +
      'within the budget, dropped, and the users go on to the next event',
    async () => {
      const http = createServer();
      const io = new Server(http, { transports: ['websocket'] });
      const placeholders = Array.from({ length: 10 }, (_, num) => ({ _placeholder: true, num }));
      io.on('connection', (socket) => {
        // written on the server's own transport: a header announcing ten attachments, then nine of 100 KiB
        socket.conn.send(`510-${JSON.stringify(['blob', ...placeholders])}`);
        for (let i = 0; i < 9; i++) socket.conn.send(Buffer.alloc(100 * KIB, i));
        setTimeout(() => socket.emit('tick', { x: 1 }), 3000);
      });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise((resolve) => io.close(resolve)));
      const budget = 2048 * KIB;
      const engine = await engines.start({
        target: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`,
        protocol: 'socketio',
        heldBudgetBytes: budget,
        heldDeadlineMs: 1500,
        snapshotIntervalMs: 100,
        reconnect: { kind: 'off' },
      });
      await engine.dispatch({ type: 'check', check: { name: 'tick', path: 'x', op: '==', value: '1' } });
      const maxHeld = watchHeld(engine);
      await engine.dispatch({ type: 'set-target', count: USERS });
      // the event after the dropped one reaches every user
      await eventually(() => engine.getSnapshot().checks.tick?.passes === USERS, 15_000);
      const s = engine.getSnapshot();
      expect(s.errors['socketio.held_budget']! + s.errors['socketio.held_deadline']!).toBe(USERS);
      expect(s.errors['socketio.held_budget']).toBeGreaterThanOrEqual(USERS - 2);
      // the attachments that came after a drop were skipped, not counted as strays
      expect(Object.keys(s.errors).sort()).toEqual(['socketio.held_budget', 'socketio.held_deadline']);
      expect(s.checks.tick).toEqual({ passes: USERS, fails: 0 });
      expect(s.fleet.open).toBe(USERS);
      expect(s.fleet.heldBytes).toBe(0);
      expect(maxHeld()).toBeGreaterThan(0);
      expect(maxHeld()).toBeLessThanOrEqual(budget);
    },
  );
});
