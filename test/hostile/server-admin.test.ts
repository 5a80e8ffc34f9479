// Hostile input, catalog rows 2, 4, 5 and 7: the admin API and the knobs cannot take the
// server down, wedge it, or lose its listener. Each test ends with the canary still served.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROADCAST_LIMITS } from '../../target-server/contract/wire.ts';
import { startCanaryServer, type CanaryServer } from '../helpers/canary.ts';
import { eventually, TestClient } from '../helpers/test-client.ts';

/**
 * A subscriber of `topic` on a raw socket that discards what it
 * reads: a fan-out target that costs this process almost nothing.
 */
async function rawSubscriber(url: string, topic: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `GET /?topics=${topic} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: ` +
      `Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise((resolve) => socket.once('data', resolve));
  socket.on('data', () => {});
  socket.on('error', () => {});
  return socket;
}

/**
 * A raw HTTP exchange: writes `request`, then `drip` one byte at
 * a time every `dripMs`; resolves with what came back and when.
 */
function rawHttp(
  port: number,
  request: string,
  options: { drip?: string; dripMs?: number; body?: Buffer } = {},
): Promise<{ response: string; ms: number; isClosed: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk) => {
      response += chunk.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, ms: performance.now() - started, isClosed: true });
    });
    socket.write(request);
    if (options.body) socket.write(options.body);
    let at = 0;
    if (options.drip)
      timer = setInterval(() => {
        if (!socket.destroyed && at < options.drip!.length) socket.write(options.drip![at++]!);
      }, options.dripMs ?? 500);
    setTimeout(() => socket.destroy(), 15_000).unref();
  });
}

function header(s: CanaryServer, method: string, path: string, extra: string): string {
  return (
    `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ` +
    `${s.server.info.token}\r\nContent-Type: application/json\r\n${extra}\r\n`
  );
}

describe.each(['uws', 'ws'] as const)('hostile admin requests (%s engine)', (engine) => {
  let s: CanaryServer;
  let adminPort: number;
  beforeAll(async () => {
    s = await startCanaryServer(engine);
    adminPort = s.server.info.adminPort;
  });
  afterAll(() => s.stop());

  it('refuses a body announced over 64 KiB at once, without reading it, and closes the connection', async () => {
    const { response, ms, isClosed } = await rawHttp(
      adminPort,
      header(s, 'POST', '/broadcast', 'Content-Length: 10000000\r\n'),
      {
        body: Buffer.alloc(1024, 32),
      },
    );
    expect(response).toMatch(/^HTTP\/1\.1 413/);
    expect(isClosed).toBe(true);
    expect(ms).toBeLessThan(5000);
    await s.assertAlive();
  });

  it('stops reading a chunked body at the limit and answers 413 while the sender is still sending', async () => {
    const chunk = `${(8192).toString(16)}\r\n${'x'.repeat(8192)}\r\n`;
    const { response, isClosed } = await rawHttp(
      adminPort,
      header(s, 'PUT', '/config', 'Transfer-Encoding: chunked\r\n'),
      {
        body: Buffer.from(chunk.repeat(12)),
      },
    );
    expect(response).toMatch(/^HTTP\/1\.1 413/);
    expect(isClosed).toBe(true);
    await s.assertAlive();
  });

  it('times out a body that drips in, with 408, instead of holding the connection', async () => {
    const { response, ms } = await rawHttp(adminPort, header(s, 'PUT', '/config', 'Content-Length: 100\r\n'), {
      drip: '{"workMs":0'.padEnd(100, ' '),
      dripMs: 400,
    });
    expect(response).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeLessThan(12_000);
    expect((await s.stats()).admin.refused['408']).toBeGreaterThanOrEqual(1);
    await s.assertAlive();
  }, 20_000);

  it('answers a __proto__ or constructor knob with 400 naming it, not 500', async () => {
    expect(await s.call('PUT', '/config', '{"__proto__":{"workMs":5}}')).toMatchObject({
      status: 400,
      body: { field: '__proto__' },
    });
    expect(await s.call('PUT', '/config', '{"constructor":1}')).toMatchObject({
      status: 400,
      body: { field: 'constructor' },
    });
    expect(await s.call('POST', '/broadcast', '{"__proto__":{"count":5},"topic":"canary"}')).toMatchObject({
      status: 200,
      body: { count: 1 },
    });
    expect((await s.stats()).config.workMs).toBe(0);
    await s.assertAlive();
  });

  it('refuses idleTimeout 1..7, which uWS would abort on, and accepts 0 and 8', async () => {
    for (const bad of [1, 5, 7, 961])
      expect(await s.call('PUT', '/config', JSON.stringify({ idleTimeout: bad }))).toMatchObject({
        status: 400,
        body: { field: 'idleTimeout' },
      });
    // structural on uWS: refused while the canary holds the port, which is fine here
    const ok = await s.call('PUT', '/config', '{"idleTimeout":8}');
    expect([200, 409]).toContain(ok.status);
    await s.assertAlive();
  });

  it('bounds a broadcast by count and by count × size, and stays responsive while a large one drains', async () => {
    expect(await s.call('POST', '/broadcast', '{"topic":"canary","count":1000000,"size":16777216}')).toMatchObject({
      status: 400,
      body: { field: 'count' },
    });
    expect(
      await s.call('POST', '/broadcast', `{"topic":"canary","count":${BROADCAST_LIMITS.maxCount},"size":1000}`),
    ).toMatchObject({
      status: 400,
      body: { field: 'count' },
    });
    // four subscribers that read and discard, so the drain is long enough to be seen (one drains
    // 100,000 messages in about 0.1 s, which a loaded suite could sleep through)
    const sinks = await Promise.all(Array.from({ length: 4 }, () => rawSubscriber(s.server.url, 'burst')));
    // answers served while the burst drains: polled from before the request, so a stall of this
    // process between two calls cannot hide the drain
    const seen: number[] = [];
    let isPolling = true;
    const polling = (async () => {
      while (isPolling) seen.push((await s.stats()).queued);
    })();
    const burst = await s.call(
      'POST',
      '/broadcast',
      `{"topic":"burst","count":${BROADCAST_LIMITS.maxCount},"size":512}`,
    );
    expect(burst).toMatchObject({ status: 200, body: { firstSeq: 1, lastSeq: BROADCAST_LIMITS.maxCount } });
    expect((await s.call('GET', '/healthz')).status).toBe(200);
    await eventually(async () => (await s.stats()).queued === 0 && seen.at(-1) === 0, 20_000);
    isPolling = false;
    await polling;
    expect(Math.max(...seen)).toBeGreaterThan(0);
    await s.assertAlive();
    for (const sink of sinks) sink.destroy();
  }, 30_000);

  it('counts a slow consumer cut for backpressure in /stats', async () => {
    const before = (await s.stats()).backpressureCloses;
    const slow = await TestClient.open(`${s.server.url}?topics=flood`);
    slow.ws.pause();
    (slow.ws as unknown as { _socket: net.Socket })._socket.pause();
    await s.call('POST', '/broadcast', '{"topic":"flood","count":400,"size":65536}');
    await eventually(async () => (await s.stats()).backpressureCloses > before, 15_000);
    slow.ws.terminate();
    await s.assertAlive();
  }, 20_000);

  it("takes an operator's undo of workMs within a second while messages pile up behind it", async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => TestClient.open(s.server.url)));
    expect((await s.call('PUT', '/config', '{"workMs":20}')).status).toBe(200);
    // 200 messages a second against a server that can do 50: the backlog grows every second
    const flood = setInterval(() => {
      for (const c of clients) for (let i = 0; i < 2; i++) c.send({ t: 'rtt', id: 0 });
    }, 100);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await s.stats()).queued).toBeGreaterThan(50);
    const started = performance.now();
    expect((await s.call('PUT', '/config', '{"workMs":0}')).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
    clearInterval(flood);
    await eventually(async () => (await s.stats()).queued === 0, 5000);
    await Promise.all(clients.map((c) => c.close()));
    await s.assertAlive();
  }, 20_000);
});

describe('hostile live changes of the uws engine', () => {
  let s: CanaryServer;
  beforeAll(async () => {
    s = await startCanaryServer('uws');
  });
  afterAll(() => s.stop());

  it(
    'refuses a structural knob while connections are open, keeping the listener and the old ' +
      'behaviour, and says so in /healthz',
    async () => {
      for (const patch of [
        '{"maxPayload":1024}',
        '{"idleTimeout":30}',
        '{"compression":true}',
        '{"maxBackpressure":4096}',
      ]) {
        const answer = await s.call('PUT', '/config', patch);
        expect(answer).toMatchObject({ status: 409, body: { error: 'refused' } });
        expect(answer.body.message).toContain('open connections');
      }
      expect((await s.stats()).config).toMatchObject({ maxPayload: 65536, idleTimeout: 120, compression: false });
      expect(await s.call('PUT', '/config', '{"workMs":1}')).toMatchObject({ status: 200 });
      await s.call('PUT', '/config', '{"workMs":0}');
      const fresh = await TestClient.open(s.server.url);
      fresh.send({ t: 'rtt', pad: 'x'.repeat(2048) });
      expect(await fresh.next()).toMatchObject({ t: 'rtt' });
      await fresh.close();
      expect((await s.stats()).isListening).toBe(true);
      await s.assertAlive();
    },
  );
});
