// `--broadcast-http` against real HTTP servers on loopback: the request as rendered, and each
// way it fails said with its cause: a refused port, an error status, no answer. A port that
// browsers (and so fetch) refuse, such as 6666, is a port like any other.
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpTrigger, MAX_ANSWER_BYTES } from '../../../console/engine/bundled/broadcast-trigger.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

interface Seen {
  method: string;
  url: string;
  type: string | undefined;
  body: string;
}

/** An HTTP server on 127.0.0.1 (port 0 unless told) that answers `status` (or never) and keeps what it was sent. */
async function server(status: number | null, port = 0): Promise<{ base: string; seen: Seen[] } | null> {
  const seen: Seen[] = [];
  const s = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, type: req.headers['content-type'], body });
      if (status !== null) res.writeHead(status).end('{}');
    });
  });
  const listening = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!listening) return null;
  servers.push(s);
  return { base: `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`, seen };
}

const order = { topic: 'news', count: 2, sizeBytes: 16 };

describe('the HTTP broadcast trigger', () => {
  it('sends one rendered request per message and reports success', async () => {
    const s = (await server(204))!;
    const outcome = await httpTrigger(`POST ${s.base}/publish {"n":{{n}},"topic":"{{topic}}","size":{{size}}}`).fire(
      order,
    );
    expect(outcome).toEqual({ ok: true, firstSeq: null, lastSeq: null });
    expect(s.seen).toEqual([
      { method: 'POST', url: '/publish', type: 'application/json', body: '{"n":1,"topic":"news","size":16}' },
      { method: 'POST', url: '/publish', type: 'application/json', body: '{"n":2,"topic":"news","size":16}' },
    ]);
  });

  it('reaches a port that fetch refuses as unsafe (the first free of 6666, 6665, 6667-6669, 10080)', async () => {
    let s: Awaited<ReturnType<typeof server>> = null;
    for (const port of [6666, 6665, 6667, 6668, 6669, 10080]) {
      s = await server(200, port);
      if (s) break;
    }
    expect(s).not.toBeNull();
    expect(await httpTrigger(`GET ${s!.base}/tick`).fire({ ...order, count: 1 })).toMatchObject({ ok: true });
    expect(s!.seen.map((r) => [r.method, r.url, r.body])).toEqual([['GET', '/tick', '']]);
  });

  it('says a refused port with its address, an error status with its number, and silence with its timeout', async () => {
    const closed = (await server(200))!;
    const port = closed.base.split(':').at(-1);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    expect(await httpTrigger(`POST ${closed.base}/x`).fire(order)).toEqual({
      ok: false,
      message: `broadcast request failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
    const failing = (await server(503))!;
    expect(await httpTrigger(`POST ${failing.base}/x`).fire(order)).toEqual({
      ok: false,
      message: 'broadcast request answered HTTP 503',
    });
    expect(failing.seen).toHaveLength(1);
    const silent = (await server(null))!;
    expect(await httpTrigger(`POST ${silent.base}/x`, 300).fire(order)).toEqual({
      ok: false,
      message: 'broadcast request failed: no answer within 300 ms',
    });
  });

  it('holds a dripping answer to one deadline for the whole request, not an idle timeout a byte a second resets', async () => {
    const s = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200);
      const timer = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    servers.push(s);
    const base = `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
    expect(await httpTrigger(`POST ${base}/x`, 300).fire(order)).toEqual({
      ok: false,
      message: 'broadcast request failed: answered HTTP 200, but its body did not end within 300 ms',
    });
  });

  it(
    `takes the status of an answer whose body runs past ${MAX_ANSWER_BYTES} bytes, drained and ` +
      `dropped, without waiting for its end`,
    async () => {
      let written = 0;
      const s = http.createServer((req, res) => {
        req.resume();
        res.writeHead(202);
        const chunk = Buffer.alloc(64 * 1024, 120);
        // an answer that never ends, as fast as the client reads it
        const more = (): void => {
          while (!res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) return;
          }
        };
        res.on('drain', more);
        more();
      });
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      servers.push(s);
      const base = `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
      expect(await httpTrigger(`POST ${base}/x`, 10_000).fire({ ...order, count: 1 })).toEqual({
        ok: true,
        firstSeq: null,
        lastSeq: null,
      });
      expect(written).toBeGreaterThan(MAX_ANSWER_BYTES);
    },
  );

  it('aborts a request in flight when its signal aborts (the run stops), and any later one at once', async () => {
    const silent = (await server(null))!;
    const stop = new AbortController();
    const trigger = httpTrigger(`POST ${silent.base}/x`, 30_000, stop.signal);
    const outcome = trigger.fire(order);
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop.abort();
    expect(await outcome).toEqual({
      ok: false,
      message: 'broadcast request failed: the run stopped before it was answered',
    });
    expect(await trigger.fire(order)).toEqual({
      ok: false,
      message: 'broadcast request failed: the run stopped before it was answered',
    });
  });
});
