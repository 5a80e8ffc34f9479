import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCert } from '../helpers/tls-cert.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createEngine, type Engine } from '../../console/engine/engine.ts';
import { dialSources, LOOPBACK_POOL, sourcesNotice, spreadSources } from '../../console/engine/users/sources.ts';
import { eventually } from '../helpers/test-client.ts';

let engine: Engine | null = null;
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  await engine?.stop();
  engine = null;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function wsServer(
  options: ConstructorParameters<typeof WebSocketServer>[0] = {},
): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise((resolve) => wss.once('listening', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
  return { wss, url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/` };
}

describe('engine against bad targets', () => {
  it('classifies an oversized frame from the server as a protocol error and reconnects', async () => {
    const { wss, url } = await wsServer();
    let connections = 0;
    wss.on('connection', (ws) => {
      if (++connections <= 3) ws.send('x'.repeat(4096));
    });
    engine = await createEngine({ target: url, maxPayloadBytes: 1024, reconnect: { kind: 'fixed', delayMs: 50 } });
    await engine.dispatch({ type: 'set-target', count: 3 });
    await eventually(() => engine!.getSnapshot().errors['protocol.WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'] === 3, 10_000);
    await eventually(() => engine!.live().open === 3, 10_000);
  });

  it('classifies a handshake that never answers as handshake.timeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as net.AddressInfo).port;
    engine = await createEngine({
      target: `ws://127.0.0.1:${port}/`,
      handshakeTimeoutMs: 300,
      reconnect: { kind: 'off' },
    });
    await engine.dispatch({ type: 'set-target', count: 4 });
    await eventually(() => engine!.getSnapshot().errors['handshake.timeout'] === 4, 10_000);
    expect(engine.getSnapshot().totals.failures).toBe(4);
  });

  it('keeps counting when the target dies mid-run: drops as close.1006, then refused reconnects', async () => {
    const { wss, url } = await wsServer();
    engine = await createEngine({ target: url, reconnect: { kind: 'fixed', delayMs: 100 } });
    await engine.dispatch({ type: 'set-target', count: 10 });
    await eventually(() => engine!.live().open === 10, 10_000);
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await eventually(() => (engine!.getSnapshot().errors['tcp.refused'] ?? 0) >= 10, 10_000);
    const s = engine.getSnapshot();
    expect(s.errors['close.1006']).toBe(10);
    expect(s.totals.disconnects).toBe(10);
    expect(s.isStopped).toBe(false);
  });

  it('answers garbage frames with nothing worse than counting them', async () => {
    const { wss, url } = await wsServer();
    wss.on('connection', (ws) => {
      ws.send('{"t":"bcast","seq":"x"}');
      ws.send('not json at all');
      ws.send(Buffer.from([0, 1, 2]));
    });
    engine = await createEngine({ target: url, snapshotIntervalMs: 200 });
    await engine.dispatch({ type: 'set-target', count: 5 });
    await eventually(() => engine!.getSnapshot().totals.messagesIn === 15, 10_000);
    expect(engine.getSnapshot().errors).toEqual({});
    expect(engine.live().open).toBe(5);
  });

  it('offers subprotocols and headers, and connects to wss:// with --insecure only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-tls-'));
    await makeCert(dir);
    const server = https.createServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
    });
    const seen: Array<{ protocol: string; token: string | undefined }> = [];
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) =>
      seen.push({ protocol: ws.protocol, token: req.headers['x-token'] as string | undefined }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate();
          server.close(() => resolve());
        }),
    );
    const url = `wss://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    engine = await createEngine({ target: url, reconnect: { kind: 'off' } });
    await engine.dispatch({ type: 'set-target', count: 2 });
    await eventually(() => engine!.getSnapshot().totals.failures === 2, 10_000);
    expect(Object.keys(engine.getSnapshot().errors)).toEqual(['tls.depth_zero_self_signed_cert']);
    await engine.stop();
    engine = await createEngine({ target: url, insecure: true, protocols: ['chat.v2'], headers: { 'x-token': 'abc' } });
    await engine.dispatch({ type: 'set-target', count: 2 });
    await eventually(() => engine!.live().open === 2, 10_000);
    expect(seen).toEqual([
      { protocol: 'chat.v2', token: 'abc' },
      { protocol: 'chat.v2', token: 'abc' },
    ]);
  });

  it('spreads users over several targets round-robin', async () => {
    const a = await wsServer();
    const b = await wsServer();
    engine = await createEngine({ targets: [a.url, b.url] });
    await engine.dispatch({ type: 'set-target', count: 10 });
    await eventually(() => engine!.live().open === 10, 10_000);
    expect([a.wss.clients.size, b.wss.clients.size]).toEqual([5, 5]);
    expect(engine.getSnapshot().target.endpoints).toBe(2);
  });

  it('spreads users over several loopback source addresses and shows them per address', async () => {
    const { wss, url } = await wsServer();
    const sources = new Set<string>();
    wss.on('connection', (_ws, req) => sources.add(req.socket.remoteAddress!));
    engine = await createEngine({ target: url, localAddresses: ['127.0.0.2', '127.0.0.3'], snapshotIntervalMs: 200 });
    await engine.dispatch({ type: 'set-target', count: 10 });
    await eventually(() => engine!.live().open === 10, 10_000);
    await eventually(() => engine!.getSnapshot().fleet.bySource['127.0.0.2'] === 5, 5000);
    expect(engine.getSnapshot().fleet.bySource).toEqual({ '127.0.0.2': 5, '127.0.0.3': 5 });
    expect([...sources].sort()).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it(
    "dials from the host's own address against a target that is not the bundled server, and says " +
      'nothing of sources',
    async () => {
      const { wss, url } = await wsServer();
      const sources = new Map<string, number>();
      wss.on('connection', (_ws, req) =>
        sources.set(req.socket.remoteAddress!, (sources.get(req.socket.remoteAddress!) ?? 0) + 1),
      );
      engine = await createEngine({ target: url, snapshotIntervalMs: 200 });
      await engine.dispatch({ type: 'set-target', count: 20 });
      await eventually(() => engine!.live().open === 20, 10_000);
      expect([...sources]).toEqual([['127.0.0.1', 20]]);
      expect(engine.getSnapshot().fleet.bySource).toEqual({});
      expect(engine.getSnapshot().events.some((e) => e.text.includes('users dial from'))).toBe(false);
    },
  );

  it(
    'spreads users of the bundled server over the loopback pool, says so, and keeps per-address ' +
      'counts out of the fleet view',
    async () => {
      engine = await createEngine({ snapshotIntervalMs: 200 });
      await engine.dispatch({ type: 'set-target', count: 2 * LOOPBACK_POOL });
      await eventually(() => engine!.live().open === 2 * LOOPBACK_POOL, 10_000);
      expect(engine.getSnapshot().fleet.bySource).toEqual({});
      const said = `users dial from ${LOOPBACK_POOL} loopback addresses (127.0.0.1-127.0.0.${LOOPBACK_POOL})`;
      await eventually(() => engine!.getSnapshot().events.some((e) => e.text.startsWith(said)), 5000);
    },
  );
});

describe('dialSources', () => {
  it(
    'keeps given addresses, pools only the bundled server on IPv4 loopback on Linux, and leaves ' +
      'everything else to the kernel',
    () => {
      expect(dialSources(['ws://127.0.0.1:9/'], ['127.0.0.9'], false, 'linux')).toEqual(['127.0.0.9']);
      expect(dialSources(['ws://127.0.0.1:9/', 'ws://127.1.2.3:9/'], [], true, 'linux')).toHaveLength(LOOPBACK_POOL);
      expect(dialSources(['ws://127.0.0.1:9/'], [], false, 'linux')).toEqual([]);
      expect(dialSources(['ws://127.0.0.1:9/'], [], true, 'darwin')).toEqual([]);
      expect(dialSources(['ws://127.0.0.1:9/', 'ws://198.18.0.2:9/'], [], true, 'linux')).toEqual([]);
      expect(dialSources(['ws://localhost:9/'], [], true, 'linux')).toEqual([]);
      expect(dialSources(['ws://[::1]:9/'], [], true, 'linux')).toEqual([]);
      expect(dialSources([], [], true, 'linux')).toEqual([]);
    },
  );
});

describe('spreadSources', () => {
  it(
    'spreads a loopback target over as many addresses as keep each in the short half of its ports, ' +
      'and only when one address cannot hold it',
    () => {
      expect(spreadSources(['ws://127.0.0.1:9/'], [], 28_232, 28_232, 'linux')).toEqual([]);
      expect(spreadSources(['ws://127.0.0.1:9/'], [], 30_000, 28_232, 'linux')).toEqual([
        '127.0.0.1',
        '127.0.0.2',
        '127.0.0.3',
      ]);
      expect(spreadSources(['ws://127.0.0.1:9/'], ['127.0.0.9'], 30_000, 28_232, 'linux')).toEqual([]);
      expect(spreadSources(['ws://198.18.0.2:9/'], [], 30_000, 28_232, 'linux')).toEqual([]);
      expect(spreadSources(['ws://127.0.0.1:9/'], [], 30_000, 28_232, 'darwin')).toEqual([]);
      expect(spreadSources(['ws://127.0.0.1:9/'], [], 10_000_000, 28_232, 'linux')).toHaveLength(LOOPBACK_POOL);
    },
  );

  it('names the addresses and what a per-address limit sees', () => {
    expect(sourcesNotice(['127.0.0.1', '127.0.0.2', '127.0.0.3'], 30_000, 28_232)).toBe(
      'users dial from 3 addresses (127.0.0.1-127.0.0.3) (30000 users to one destination need more ' +
        'ports than one address has (28232); --source-addresses to choose): a per-address limit on the ' +
        'target sees up to 10000 users from each',
    );
    expect(sourcesNotice(['127.0.0.2', '127.0.0.3'], 15, null)).toBe(
      'users dial from 2 addresses (127.0.0.2, 127.0.0.3) (--source-addresses): a per-address limit on ' +
        'the target sees up to 8 users from each',
    );
  });
});

describe('engine behaviours', () => {
  it('pauses reading on slowed users and resumes them after the duration', async () => {
    engine = await createEngine({ ratePerSec: 5000, snapshotIntervalMs: 200 });
    await engine.dispatch({ type: 'set-target', count: 20 });
    await eventually(() => engine!.live().open === 20, 10_000);
    const result = await engine.dispatch({ type: 'slow', percent: 50, forMs: 1500 });
    expect(result.message).toContain('slow 10 VUs');
    await engine.dispatch({ type: 'broadcast', count: 1, sizeBytes: 8 });
    // the 10 readers that are not paused get it; the paused ones only after they resume
    await eventually(() => engine!.getSnapshot().totals.broadcastsReceived === 10, 3000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(engine.getSnapshot().totals.broadcastsReceived).toBe(10);
    await eventually(
      () => engine!.getSnapshot().totals.broadcastsReceived === 20 && engine!.getSnapshot().fleet.slowed === 0,
      5000,
    );
  });

  it('sends application messages from a template at a fixed rate', async () => {
    const { wss, url } = await wsServer();
    const received: string[] = [];
    wss.on('connection', (ws) => ws.on('message', (data) => received.push(data.toString())));
    engine = await createEngine({ target: url });
    await engine.dispatch({ type: 'set-target', count: 2 });
    await eventually(() => engine!.live().open === 2, 10_000);
    await engine.dispatch({ type: 'messages', perSec: 50, template: '{"t":"chat","vu":{{vu}}}' });
    await eventually(() => received.length >= 10, 5000);
    await engine.dispatch({ type: 'messages', perSec: 0, template: '' });
    expect(received.slice(0, 4).map((m) => JSON.parse(m).t)).toEqual(['chat', 'chat', 'chat', 'chat']);
    expect(new Set(received.map((m) => JSON.parse(m).vu)).size).toBe(2);
  });

  it('fills each message as it is sent and counts what an echo sends back: deep frames as bad packets', async () => {
    const { wss, url } = await wsServer();
    const received: string[] = [];
    const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
    wss.on('connection', (ws) => {
      ws.send(deep);
      ws.send(`{"x":${deep}}`);
      // a probe's echo spelled with an escape is still one
      ws.send(`{"t":"\\u0072tt","at":${Date.now()}}`);
      ws.on('message', (data) => {
        received.push(data.toString());
        ws.send(data);
      });
    });
    engine = await createEngine({ target: url });
    await engine.dispatch({ type: 'set-target', count: 2 });
    await eventually(() => engine!.live().open === 2, 10_000);
    const template = '{"t":"msg","vu":{{vu}},"n":{{n}},"at":{{now}},"k":"{{topic}}"}';
    await engine.dispatch({ type: 'messages', perSec: 100, template });
    await eventually(() => received.length >= 20, 5000);
    await engine.dispatch({ type: 'messages', perSec: 0, template: '' });
    const sent = received.map((m) => JSON.parse(m) as { vu: number; n: number; at: number; k: string });
    expect(sent.map((m) => m.n)).toEqual(sent.map((_, i) => i));
    expect(new Set(sent.map((m) => m.vu)).size).toBe(2);
    expect(sent.every((m) => m.k === '{{topic}}' && Math.abs(m.at - Date.now()) < 10_000)).toBe(true);
    await eventually(() => engine!.getSnapshot().totals.messagesIn === 6 + received.length, 5000);
    const snapshot = engine.getSnapshot();
    expect(snapshot.totals.messagesOut).toBe(received.length);
    expect(snapshot.errors).toEqual({ 'raw.bad_packet': 4 });
    expect(snapshot.totals.probesReceived).toBe(2);
  });
});
