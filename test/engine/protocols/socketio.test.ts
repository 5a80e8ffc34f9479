import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/test-client.ts';
import { useEngines } from '../../helpers/engines.ts';
import { nextSnapshot } from '../../helpers/next-snapshot.ts';

// A real Socket.IO v4 server with short pings: a user that does not answer them is dropped
// within 600 ms, so holding 1,000 users for 1.5 s proves the preset keeps the session alive.
const engines = useEngines();
let io: Server;
let url: string;
let binaryIo: Server;
let binaryUrl: string;
let relayed = 0;

beforeAll(async () => {
  const http = createServer();
  io = new Server(http, { pingInterval: 300, pingTimeout: 300, transports: ['websocket'] });
  io.use((socket, next) => (socket.handshake.auth?.token === 'good' ? next() : next(new Error('bad token'))));
  io.on('connection', (socket) => {
    socket.on('relay', (message: unknown) => {
      relayed++;
      io.emit('tick', message);
    });
    socket.on('hello', (_: unknown, ack?: (answer: unknown) => void) => ack?.({ ok: true }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  // binary events on a server of their own with Socket.IO's default pings: it shares this process's
  // loop with the generator, and 42 MB of attachments kept both busy past the 300 ms pings above
  const binaryHttp = createServer();
  binaryIo = new Server(binaryHttp, { transports: ['websocket'] });
  binaryIo.on('connection', (socket) => {
    // a binary event: its header, then two attachments as binary frames
    socket.on('relay-binary', (message: { ts: number; n: number }) =>
      binaryIo.emit('blob', { ...message, head: Buffer.from([1, 2, 3]), tail: Buffer.alloc(70_000, 7) }),
    );
  });
  await new Promise<void>((resolve) => binaryHttp.listen(0, '127.0.0.1', resolve));
  binaryUrl = `ws://127.0.0.1:${(binaryHttp.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => io.close(resolve));
  await new Promise((resolve) => binaryIo.close(resolve));
});

const options = () => ({
  target: url,
  protocol: 'socketio' as const,
  ratePerSec: 5000,
  snapshotIntervalMs: 250,
  broadcastSend: 'relay {"ts":{{now}},"n":{{n}}}',
  framePaths: { tsPath: 'ts', seqPath: 'n' },
  reconnect: { kind: 'fixed' as const, delayMs: 50 },
});

describe('the Socket.IO preset against a real socket.io server', () => {
  it('holds 1,000 users past twice the ping interval, broadcasts through the protocol, and recovers a ' +
    'kill with the connect sequence redone', async () => {
    const engine = await engines.start(options());
    await engine.dispatch({ type: 'connect-payload', template: '{"token":"good"}' });
    await engine.dispatch({ type: 'set-target', count: 1000 });
    await eventually(() => engine.live().open === 1000, 20_000);
    expect(io.engine.clientsCount).toBe(1000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const held = await nextSnapshot(engine, () => true);
    expect(held.fleet.open).toBe(1000);
    expect(held.totals.disconnects).toBe(0);
    expect(held.errors).toEqual({});
    await engine.dispatch({ type: 'broadcast', count: 1, sizeBytes: 8 });
    const reached = await nextSnapshot(engine, (s) => s.broadcastsSettled >= 1, 10_000);
    expect(relayed).toBe(1);
    expect(reached.broadcasts[0]).toMatchObject({ receivers: 1000, reach: 1 });
    expect(reached.latency.fanout.count).toBe(1000);
    const killed = await engine.dispatch({ type: 'kill', percent: 20, mode: 'reset', victims: 'random' });
    expect(killed.message).toContain('dropped 200');
    await eventually(() => engine.live().isRecovered && engine.live().open === 1000, 20_000);
    const after = await nextSnapshot(engine, (s) => s.recovery?.fullMs != null);
    expect(after.recovery).toMatchObject({ dropped: 200, attempts: 200, failures: 0 });
    expect(io.engine.clientsCount).toBe(1000);
  }, 60_000);

  it('counts session ends as churn, and classifies a wrong auth payload as socketio.connect_error', async () => {
    const engine = await engines.start({ ...options(), reconnect: { kind: 'fixed', delayMs: 100 } });
    await engine.dispatch({ type: 'connect-payload', template: '{"token":"good"}' });
    await engine.dispatch({ type: 'session', lifetimeMs: 400, jitterMs: 0 });
    await engine.dispatch({ type: 'check', check: { name: 'has-n', path: 'n', op: 'exists' } });
    await engine.dispatch({ type: 'set-target', count: 20 });
    const churned = await nextSnapshot(engine, (s) => s.totals.churn >= 20, 10_000);
    expect(churned.totals.disconnects).toBe(0);
    expect(churned.errors).toEqual({});
    await engine.dispatch({ type: 'session', lifetimeMs: 0, jitterMs: 0 });
    await engine.dispatch({ type: 'connect-payload', template: '{"token":"wrong"}' });
    await engine.dispatch({ type: 'set-target', count: 25 });
    const refused = await nextSnapshot(engine, (s) => (s.errors['socketio.connect_error'] ?? 0) >= 5, 10_000);
    expect(refused.errors['other.unknown']).toBeUndefined();
  }, 30_000);

  it("times probes by the server's acks (probe RATE/s EVENT JSON reply ack)", async () => {
    const engine = await engines.start(options());
    await engine.dispatch({ type: 'connect-payload', template: '{"token":"good"}' });
    await engine.dispatch({ type: 'set-target', count: 10 });
    await eventually(() => engine.live().open === 10, 10_000);
    const { parseLine } = await import('../../../console/script/parse.ts');
    const step = parseLine('probe 50/s hello {"ping":true} reply ack');
    expect(step?.kind).toBe('engine');
    if (step?.kind === 'engine') expect((await engine.dispatch(step.command)).ok).toBe(true);
    const s = await nextSnapshot(engine, (snap) => snap.latency.rtt.count >= 30, 10_000);
    expect(s.totals.probesReceived).toBe(s.latency.rtt.count);
    expect(s.latency.rtt.p50).toBeGreaterThan(0);
  }, 30_000);

  it('decodes binary events (a header and its attachments, user by user) for fan-out and checks', async () => {
    const engine = await engines.start({
      ...options(),
      target: binaryUrl,
      broadcastSend: 'relay-binary {"ts":{{now}},"n":{{n}}}',
    });
    await engine.dispatch({
      type: 'check',
      check: { name: 'head-is-bytes', path: 'head.type', op: '==', value: 'Buffer' },
    });
    await engine.dispatch({ type: 'set-target', count: 200 });
    await eventually(() => engine.live().open === 200, 10_000);
    await engine.dispatch({ type: 'broadcast', count: 3, sizeBytes: 8 });
    const s = await nextSnapshot(engine, (snap) => snap.broadcastsSettled >= 3, 15_000);
    expect(s.broadcasts.map((b) => [b.topic, b.receivers])).toEqual([
      ['blob', 200],
      ['blob', 200],
      ['blob', 200],
    ]);
    expect(s.totals.missed).toBe(0);
    expect(s.checks['head-is-bytes']).toEqual({ passes: 600, fails: 0 });
    expect(s.errors).toEqual({});
  }, 30_000);
});

describe('the Socket.IO codec on its own', () => {
  const frame = (text: string) => Buffer.from(text);
  it('joins a binary event from its header and attachments, and refuses what it must not buffer for', async () => {
    const codec = (await import('../../../console/engine/protocols/socketio.ts')).socketIoCodec({});
    const state = codec.init();
    const header = '452-["blob",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]';
    expect(codec.decode(state, frame(header), false)).toEqual([]);
    expect(codec.decode(state, Buffer.from([1, 2]), true)).toEqual([]);
    expect(codec.decode(state, Buffer.from([3]), true)).toEqual([
      { kind: 'message', text: '{"type":"Buffer","base64":"AQI="}', topic: 'blob' },
    ]);
    // an attachment with no event, a header announcing 1,000, and a text packet cutting one off
    expect(codec.decode(state, Buffer.from([9]), true)).toMatchObject([
      { kind: 'error', errorClass: 'socketio.bad_packet' },
    ]);
    expect(codec.decode(state, frame('451000-["blob",{"_placeholder":true,"num":0}]'), false)).toMatchObject([
      {
        kind: 'error',
        errorClass: 'socketio.bad_packet',
        message: 'a binary event announcing 1000 attachments (at most 10)',
      },
    ]);
    expect(codec.decode(state, frame(header), false)).toEqual([]);
    expect(codec.decode(state, frame('42["tick",{"n":1}]'), false)).toEqual([
      {
        kind: 'error',
        errorClass: 'socketio.bad_packet',
        message: 'a binary event was cut off by a text packet before its attachments',
        isFatal: false,
      },
      { kind: 'message', text: '{"n":1}', topic: 'tick' },
    ]);
  });

  it('holds a binary event as HeldPartial bytes, and after a drop skips the attachments still to come', async () => {
    const codec = (await import('../../../console/engine/protocols/socketio.ts')).socketIoCodec({});
    const state = codec.init() as { heldBytes: number };
    const header =
      '453-["blob",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]';
    codec.decode(state, frame(header), false);
    codec.decode(state, Buffer.alloc(100), true);
    expect(state.heldBytes).toBe(header.length - 1 + 100);
    expect(codec.dropHeld!(state, 'deadline')).toMatchObject([
      { kind: 'error', errorClass: 'socketio.held_deadline', isFatal: false },
    ]);
    expect(state.heldBytes).toBe(0);
    // its last two attachments come late: skipped; a third is a stray
    expect(codec.decode(state, Buffer.alloc(100), true)).toEqual([]);
    expect(codec.decode(state, Buffer.alloc(100), true)).toEqual([]);
    expect(codec.decode(state, Buffer.alloc(1), true)).toMatchObject([
      { kind: 'error', errorClass: 'socketio.bad_packet' },
    ]);
  });
});
