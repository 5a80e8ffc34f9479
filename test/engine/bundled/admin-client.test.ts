// The admin client against a real bundled server and against plain HTTP servers on loopback:
// what it answers, each failure as a value, and one kept-alive connection for a run's polls.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, TIMED_OUT } from '../../../console/engine/bundled/admin-client.ts';
import { type BundledServer, startBundledServer } from '../../../console/engine/bundled/bundled-server.ts';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** An HTTP server on 127.0.0.1, port 0, that answers with `handler`; counts the connections it accepts. */
async function plain(handler: http.RequestListener): Promise<{ base: string; connections: () => number }> {
  let connections = 0;
  const server = http.createServer(handler).on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { base: `http://127.0.0.1:${port}`, connections: () => connections };
}

describe('AdminClient', () => {
  let bundled: BundledServer;
  beforeAll(async () => {
    bundled = await startBundledServer({ engine: 'uws' });
  });
  afterAll(() => bundled.stop());

  it("reads the bundled server's /stats and carries out a broadcast", async () => {
    const admin = new AdminClient(bundled.adminUrl, bundled.info.token);
    const stats = await admin.stats();
    expect(stats.ok && stats.value.engine).toBe('uws');
    const sent = await admin.broadcast({ topic: 'admin-client', count: 2, size: 4 });
    expect(sent).toEqual({ ok: true, value: { topic: 'admin-client', count: 2, firstSeq: 1, lastSeq: 2 } });
  });

  it("answers a wrong token with the server's status and words, and a bad body likewise", async () => {
    const stranger = new AdminClient(bundled.adminUrl, 'not-the-token');
    const refused = await stranger.stats();
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.status).toBe(401);
    const admin = new AdminClient(bundled.adminUrl, bundled.info.token);
    const invalid = await admin.kill(150, 'close');
    expect(!invalid.ok && invalid.status).toBe(400);
    expect(!invalid.ok && invalid.message).toMatch(/percent/);
  });

  it('polls over one kept-alive connection', async () => {
    const server = await plain((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const admin = new AdminClient(server.base, 'token');
    for (let i = 0; i < 5; i++) expect((await admin.stats()).ok).toBe(true);
    expect(server.connections()).toBe(1);
  });

  it('says a refused port, a server that never answers and an answer that is not JSON as values', async () => {
    const silent = await plain(() => {});
    const timedOut = await new AdminClient(silent.base, 'token', 200).stats();
    expect(timedOut).toEqual({ ok: false, status: 0, message: TIMED_OUT });

    const closed = await plain(() => {});
    const port = Number(new URL(closed.base).port);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const refused = await new AdminClient(closed.base, 'token').stats();
    expect(refused).toEqual({ ok: false, status: 0, message: `connect ECONNREFUSED 127.0.0.1:${port}` });

    const html = await plain((_req, res) => res.writeHead(502, 'Bad Gateway').end('<html>'));
    expect(await new AdminClient(html.base, 'token').stats()).toEqual({
      ok: false,
      status: 502,
      message: 'Bad Gateway',
    });
  });
});
