import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../console/engine/bundled/admin-client.ts';
import { startBundledServer, type BundledServer } from '../../console/engine/bundled/bundled-server.ts';
import { eventually, TestClient } from '../helpers/test-client.ts';

describe.each(['uws', 'ws'] as const)('target-server (%s engine)', (engine) => {
  let server: BundledServer;
  let admin: AdminClient;
  const clients: TestClient[] = [];

  async function open(path = ''): Promise<TestClient> {
    const client = await TestClient.open(`${server.url}${path}`);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startBundledServer({ engine });
    admin = new AdminClient(server.adminUrl, server.info.token);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await eventually(async () => {
      const stats = await admin.stats();
      return stats.ok && stats.value.connections === 0;
    });
    await admin.configure({ workMs: 0, rejectPercent: 0, acceptDelayMs: 0 });
  });
  afterAll(() => server.stop());

  it('announces itself with engine and native flag', () => {
    expect(server.info.engine).toBe(engine);
    expect(server.info.native).toBe(engine === 'uws');
  });

  it('echoes a frame that is not a server op unchanged', async () => {
    const client = await open();
    client.send({ t: 'rtt', id: 7, at: 123.5 });
    expect(await client.next()).toEqual({ t: 'rtt', id: 7, at: 123.5 });
  });

  it('delivers an admin broadcast to a subscriber with seq and ts', async () => {
    const client = await open();
    client.send({ t: 'sub', topic: 'news' });
    await eventually(async () => {
      const stats = await admin.stats();
      return stats.ok && stats.value.subscribers.news === 1;
    });
    const before = Date.now();
    const sent = await admin.broadcast({ topic: 'news', count: 1, size: 8 });
    expect(sent.ok && sent.value.firstSeq).toBe(1);
    const frame = await client.next((f) => f.t === 'bcast');
    expect(frame).toMatchObject({ t: 'bcast', topic: 'news', seq: 1, data: 'xxxxxxxx' });
    // ts is the server's epoch clock (timeOrigin + performance.now(), fixed at its start) and
    // Date.now() this process's wall clock: once in a loaded suite they disagreed by 1.9 ms,
    // as a clock adjusted after the server started would make them; the check is of ts's unit
    // and time, so 5 ms either way
    expect(frame.ts).toBeGreaterThanOrEqual(before - 5);
    expect(frame.ts).toBeLessThanOrEqual(Date.now() + 5);
  });

  it('numbers 100 broadcasts 1..100 without gaps, subscribed at upgrade', async () => {
    const client = await open('?topics=burst');
    await admin.broadcast({ topic: 'burst', count: 100, size: 4 });
    const frames = await client.count((f) => f.t === 'bcast', 100);
    expect(frames.map((f) => f.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('fans a client pub out to every subscriber of its topic and to nobody else', async () => {
    const subscribers = await Promise.all([open('?topics=room'), open('?topics=room'), open('?topics=room')]);
    const outsider = await open('?topics=other');
    subscribers[0]!.send({ t: 'pub', topic: 'room', data: { hello: 1 } });
    for (const client of subscribers) {
      expect(await client.next((f) => f.t === 'bcast')).toMatchObject({ topic: 'room', seq: 1, data: { hello: 1 } });
    }
    outsider.send({ t: 'rtt', id: 1 });
    await outsider.next((f) => f.t === 'rtt');
    expect(outsider.frames.filter((f) => f.t === 'bcast')).toHaveLength(0);
  });

  it.each([
    { mode: 'close', code: 1001 },
    { mode: 'reset', code: 1006 },
  ] as const)('kills exactly half of 20 connections in $mode mode (client sees $code)', async ({ mode, code }) => {
    const all = await Promise.all(Array.from({ length: 20 }, () => open()));
    const result = await admin.kill(50, mode);
    expect(result.ok && result.value.killed).toBe(10);
    await eventually(() => all.filter((c) => c.closeCode !== undefined).length === 10);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const codes = all.map((c) => c.closeCode).filter((c) => c !== undefined);
    expect(codes).toEqual(Array(10).fill(code));
    const stats = await admin.stats();
    expect(stats.ok && stats.value.connections).toBe(10);
  });

  it('adds workMs of synchronous work to every message', async () => {
    const client = await open();
    expect((await admin.configure({ workMs: 20 })).ok).toBe(true);
    const started = performance.now();
    client.send({ t: 'rtt', id: 1 });
    await client.next();
    expect(performance.now() - started).toBeGreaterThanOrEqual(20);
  });

  it('refuses every upgrade with 503 at rejectPercent 100', async () => {
    await admin.configure({ rejectPercent: 100 });
    const attempts = await Promise.allSettled([open(), open(), open()]);
    expect(attempts.map((a) => a.status === 'rejected' && (a.reason as { statusCode?: number }).statusCode)).toEqual([
      503, 503, 503,
    ]);
    const stats = await admin.stats();
    expect(stats.ok && stats.value.upgradesRejected).toBeGreaterThanOrEqual(3);
  });

  it('answers bad frames with an error, counts them, and keeps the connection', async () => {
    const client = await open();
    const before = await admin.stats();
    client.send('{not json');
    expect(await client.next()).toMatchObject({ t: 'error', code: 'bad-json' });
    client.send({ t: 42 });
    expect(await client.next((f) => f.t === 'error' && f.code === 'bad-op')).toBeTruthy();
    client.send({ t: 'sub' });
    await client.count((f) => f.t === 'error', 3);
    const after = await admin.stats();
    expect(after.ok && before.ok && after.value.badFrames - before.value.badFrames).toBe(3);
    expect(client.ws.readyState).toBe(1);
  });

  // uWS drops an oversized frame's connection at once, without a close frame (the client sees
  // 1006); ws answers 1009. Either way only the offender goes and the server counts it.
  const oversizedCode = engine === 'uws' ? 1006 : 1009;

  it('closes only the offender on an oversized frame or invalid UTF-8', async () => {
    const before = await admin.stats();
    const bystander = await open();
    const big = await open();
    const invalid = await open();
    big.ws.send('x'.repeat(70 * 1024));
    invalid.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect(await big.closed).toBe(oversizedCode);
    expect([1007, 1006]).toContain(await invalid.closed);
    bystander.send({ t: 'rtt', id: 2 });
    expect(await bystander.next()).toEqual({ t: 'rtt', id: 2 });
    await eventually(async () => {
      const stats = await admin.stats();
      return stats.ok && before.ok && stats.value.badFrames - before.value.badFrames === 2;
    });
  });

  it.each(['loop', 'batched', 'publish'] as const)(
    'fans out in %s mode to every subscriber, in order',
    async (fanout) => {
      expect((await admin.configure({ fanout })).ok).toBe(true);
      const topic = `mode-${fanout}`;
      const subscribers = await Promise.all(Array.from({ length: 30 }, () => open(`?topics=${topic}`)));
      await admin.broadcast({ topic, count: 5, size: 4 });
      for (const client of subscribers) {
        const frames = await client.count((f) => f.t === 'bcast', 5);
        expect(frames.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5]);
      }
      await admin.configure({ fanout: 'publish' });
    },
  );

  it('counts in /stats exactly what the clients saw', async () => {
    const before = await admin.stats();
    const a = await open('?topics=count');
    const b = await open('?topics=count');
    await admin.broadcast({ topic: 'count', count: 5, size: 10 });
    a.send({ t: 'rtt', id: 1 });
    await a.next((f) => f.t === 'rtt');
    await a.count((f) => f.t === 'bcast', 5);
    await b.count((f) => f.t === 'bcast', 5);
    const after = await admin.stats();
    if (!after.ok || !before.ok) throw new Error('stats failed');
    expect(after.value.connections).toBe(2);
    expect(after.value.subscribers.count).toBe(2);
    expect(after.value.seq.count).toBe(5);
    expect(after.value.messagesIn - before.value.messagesIn).toBe(1);
    expect(after.value.messagesOut - before.value.messagesOut).toBe(a.frames.length + b.frames.length);
  });
});

describe('target-server admin API', () => {
  let server: BundledServer;
  beforeAll(async () => {
    server = await startBundledServer({ engine: 'uws' });
  });
  afterAll(() => server.stop());

  async function call(method: string, path: string, body?: string, token: string | null = server.info.token) {
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
    const response = await fetch(`${server.adminUrl}${path}`, { method, headers, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('answers 401 without a token and with a wrong one', async () => {
    expect((await call('GET', '/stats', undefined, null)).status).toBe(401);
    expect((await call('GET', '/stats', undefined, 'wrong')).status).toBe(401);
    expect((await call('GET', '/healthz')).status).toBe(200);
  });

  it('answers 400 to malformed JSON and names the field of an out-of-range value', async () => {
    expect(await call('POST', '/kill', '{oops')).toMatchObject({ status: 400, body: { error: 'bad-json' } });
    expect(await call('POST', '/kill', '{"percent":150}')).toMatchObject({ status: 400, body: { field: 'percent' } });
    expect(await call('PUT', '/config', '{"workMs":-1}')).toMatchObject({ status: 400, body: { field: 'workMs' } });
    expect(await call('PUT', '/config', '{"fanout":"magic"}')).toMatchObject({
      status: 400,
      body: { field: 'fanout' },
    });
    expect(await call('PUT', '/config', '{"nope":1}')).toMatchObject({ status: 400, body: { field: 'nope' } });
  });

  it('answers 404 to an unknown route', async () => {
    expect((await call('GET', '/nope')).status).toBe(404);
  });

  it(
    'applies a new frame limit while no socket holds the port, and refuses it with the old listener ' +
      'intact once one does',
    async () => {
      expect((await call('PUT', '/config', '{"maxPayload":1024}')).status).toBe(200);
      const client = await TestClient.open(server.url);
      client.ws.send('x'.repeat(2048));
      expect(await client.closed).toBe(1006);
      // the server closed that connection: its TIME_WAIT holds the port, so the listener cannot move
      const refused = await call('PUT', '/config', '{"maxPayload":65536}');
      expect(refused).toMatchObject({ status: 409, body: { error: 'refused', field: 'maxPayload' } });
      expect(String(refused.body.message)).toContain('--engine ws');
      expect(await call('GET', '/healthz')).toMatchObject({ status: 200, body: { listening: true } });
      expect((await call('GET', '/stats')).body.config).toMatchObject({ maxPayload: 1024 });
      const fresh = await TestClient.open(server.url);
      fresh.ws.send(JSON.stringify({ t: 'rtt', pad: 'x'.repeat(512) }));
      expect((await fresh.next()).t).toBe('rtt');
      await fresh.close();
    },
  );
});
