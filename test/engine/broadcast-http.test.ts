// `--broadcast-http` against real HTTP servers on loopback: the request as rendered, and each
// way it fails said with its cause: a refused port, an error status, no answer. A port that
// browsers (and so fetch) refuse, such as 6666, is a port like any other.
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpTrigger } from '../../console/engine/broadcast-trigger.ts';

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
    const outcome = await httpTrigger(`POST ${s.base}/publish {"n":{{n}},"topic":"{{topic}}","size":{{size}}}`).fire(order);
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
    expect(await httpTrigger(`POST ${failing.base}/x`).fire(order)).toEqual({ ok: false, message: 'broadcast request answered HTTP 503' });
    expect(failing.seen).toHaveLength(1);
    const silent = (await server(null))!;
    expect(await httpTrigger(`POST ${silent.base}/x`, 300).fire(order)).toEqual({ ok: false, message: 'broadcast request failed: no answer within 300 ms' });
  });
});
