// LeanClient against a real `ws` server on loopback: messages both ways on every length path,
// the closing handshake, subprotocols, what the upgrade request carries, and wss://.
// Hostile servers (hand-made frames) are in lean-client-hostile.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCert } from '../../helpers/tls-cert.ts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ServerOptions, type WebSocket, WebSocketServer } from 'ws';
import { classifyError } from '../../../console/engine/measure/classify-error.ts';
import { LeanClient, type LeanOptions } from '../../../console/engine/users/lean-client.ts';
import { Recorder } from '../../helpers/lean-recorder.ts';
import { eventually } from '../../helpers/test-client.ts';

const clients: LeanClient[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function dial(
  url: string,
  protocols: string[] = [],
  options: LeanOptions = {},
): { client: LeanClient; sink: Recorder } {
  const sink = new Recorder();
  const client = new LeanClient(url, protocols, options, sink);
  clients.push(client);
  return { client, sink };
}

function closeWss(wss: WebSocketServer, server?: https.Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => (server ? server.close(() => resolve()) : resolve()));
    });
}

/** A ws server on 127.0.0.1:0; `received` gets every message it hears as [string | Buffer, isBinary]. */
async function wsServer(options: ServerOptions = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise((resolve) => wss.once('listening', resolve));
  cleanups.push(closeWss(wss));
  const received: Array<{ data: string | Buffer; isBinary: boolean }> = [];
  const peers: WebSocket[] = [];
  wss.on('connection', (ws) => {
    peers.push(ws);
    ws.on('message', (data, isBinary) =>
      received.push({ data: isBinary ? (data as Buffer) : data.toString(), isBinary }),
    );
  });
  const port = (wss.address() as net.AddressInfo).port;
  return { wss, port, url: `ws://127.0.0.1:${port}`, received, peer: () => eventually(() => peers[0]) };
}

describe('LeanClient against a ws server', { timeout: 15_000 }, () => {
  it('sends and receives text and binary on the 7-bit, 16-bit and 64-bit length paths', async () => {
    const server = await wsServer();
    const { client, sink } = dial(server.url);
    await sink.nth('open');
    const peer = await server.peer();
    // 'é' is two bytes in UTF-8, so the text's length in bytes differs from its length in chars
    const texts = ['hi', 'é'.repeat(100), 'é'.repeat(35_000)];
    const binaries = [
      Buffer.from([0, 1, 2]),
      Buffer.alloc(200, 7),
      Buffer.from(Array.from({ length: 70_000 }, (_, i) => i & 0xff)),
    ];
    expect(texts.map((text) => Buffer.byteLength(text))).toEqual([2, 200, 70_000]);
    for (let i = 0; i < 3; i++) {
      client.send(texts[i]!);
      client.send(binaries[i]!);
      peer.send(texts[i]!);
      peer.send(binaries[i]!);
    }
    await eventually(() => server.received.length === 6);
    expect(server.received).toEqual(
      texts.flatMap((text, i) => [
        { data: text, isBinary: false },
        { data: binaries[i], isBinary: true },
      ]),
    );
    await sink.nth('message', 6);
    const messages = sink.of('message');
    for (let i = 0; i < 3; i++) {
      expect(messages[2 * i]!.isBinary).toBe(false);
      expect(messages[2 * i]!.data.toString()).toBe(texts[i]);
      expect(messages[2 * i + 1]!.isBinary).toBe(true);
      expect(messages[2 * i + 1]!.data.equals(binaries[i]!)).toBe(true);
    }
    expect(sink.of('error')).toEqual([]);
  });

  it('hears the server close 4403 "nope" and answers with a close frame', async () => {
    const server = await wsServer();
    const { sink } = dial(server.url);
    await sink.nth('open');
    const peer = await server.peer();
    // ws's server only reports the code of a close frame it received back; without one it says 1006
    const serverSaw = new Promise<number>((resolve) => peer.once('close', (code) => resolve(code)));
    peer.close(4403, 'nope');
    const closed = await sink.nth('close');
    expect(closed.code).toBe(4403);
    expect(closed.reason.toString()).toBe('nope');
    expect(await serverSaw).toBe(4403);
    expect(sink.kinds()).toEqual(['open', 'close']);
  });

  it('closes with close(1000, "bye"), which the server sees, and hears its answer', async () => {
    const server = await wsServer();
    const { client, sink } = dial(server.url);
    await sink.nth('open');
    const peer = await server.peer();
    const serverSaw = new Promise<[number, string]>((resolve) =>
      peer.once('close', (code, reason) => resolve([code, reason.toString()])),
    );
    client.close(1000, 'bye');
    expect(client.readyState).toBe(2);
    expect(await serverSaw).toEqual([1000, 'bye']);
    const closed = await sink.nth('close');
    expect([closed.code, closed.reason.toString()]).toEqual([1000, 'bye']);
    expect(client.readyState).toBe(3);
    expect(sink.of('error')).toEqual([]);
  });

  it('terminate() drops the connection: close 1006, no error', async () => {
    const server = await wsServer();
    const { client, sink } = dial(server.url);
    await sink.nth('open');
    const peer = await server.peer();
    const serverSaw = new Promise<number>((resolve) => peer.once('close', (code) => resolve(code)));
    client.terminate();
    const closed = await sink.nth('close');
    expect(closed.code).toBe(1006);
    expect(closed.reason.length).toBe(0);
    expect(await serverSaw).toBe(1006);
    expect(sink.kinds()).toEqual(['open', 'close']);
  });

  it('offers subprotocols a and b, and opens when the server picks b', async () => {
    const offered: string[][] = [];
    const server = await wsServer({
      handleProtocols: (protocols) => {
        offered.push([...protocols]);
        return 'b';
      },
    });
    const { sink } = dial(server.url, ['a', 'b']);
    await sink.nth('open');
    expect(offered).toEqual([['a', 'b']]);
    expect((await server.peer()).protocol).toBe('b');
    expect(sink.of('error')).toEqual([]);
  });

  it('sends the path, query, Host, custom headers and Basic credentials from the URL', async () => {
    const server = await wsServer();
    const requests: Array<{ url?: string; headers: Record<string, unknown> }> = [];
    server.wss.on('connection', (_ws, req) => requests.push({ url: req.url, headers: req.headers }));
    const { sink } = dial(`ws://us%40er:p%3Ass@127.0.0.1:${server.port}/some/path?q=1&r=two%20words`, [], {
      headers: { 'X-Custom': 'value-1' },
    });
    await sink.nth('open');
    await eventually(() => requests.length === 1);
    const { url, headers } = requests[0]!;
    expect(url).toBe('/some/path?q=1&r=two%20words');
    expect(headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(headers['x-custom']).toBe('value-1');
    expect(headers.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
  });

  // with credentials in the URL and an Authorization in options.headers,
  // ws (Node's http.request) sends only the given header
  it('lets an Authorization in options.headers win over credentials in the URL, as ws does', async () => {
    const server = await wsServer();
    const seen: unknown[] = [];
    server.wss.on('connection', (_ws, req) => seen.push(req.headers.authorization));
    const { sink } = dial(`ws://u:p@127.0.0.1:${server.port}/`, [], { headers: { Authorization: 'Bearer token' } });
    await sink.nth('open');
    await eventually(() => seen.length === 1);
    expect(seen).toEqual(['Bearer token']);
  });

  // ws unescapes credentials with querystring.unescape, which keeps a bad escape as it is
  it('keeps a malformed %-escape in URL credentials as it is, as ws does', async () => {
    const server = await wsServer();
    const seen: unknown[] = [];
    server.wss.on('connection', (_ws, req) => seen.push(req.headers.authorization));
    const { sink } = dial(`ws://a%zz:b@127.0.0.1:${server.port}/`);
    await sink.nth('open');
    await eventually(() => seen.length === 1);
    expect(seen).toEqual([`Basic ${Buffer.from('a%zz:b').toString('base64')}`]);
  });

  it('defaults the path to / with no query', async () => {
    const server = await wsServer();
    const urls: Array<string | undefined> = [];
    server.wss.on('connection', (_ws, req) => urls.push(req.url));
    const { sink } = dial(server.url);
    await sink.nth('open');
    await eventually(() => urls.length === 1);
    expect(urls).toEqual(['/']);
  });
});

describe('LeanClient over wss://', { timeout: 20_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-lean-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function tlsServer(): Promise<{ url: string; received: string[] }> {
    await makeCert(dir);
    const server = https.createServer({
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
    });
    const wss = new WebSocketServer({ server });
    const received: string[] = [];
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        received.push(data.toString());
        ws.send(`echo:${data.toString()}`);
      }),
    );
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(closeWss(wss, server));
    return { url: `wss://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, received };
  }

  it('refuses a self-signed certificate with a tls. class, and opens and echoes with rejectUnauthorized false', async () => {
    const { url, received } = await tlsServer();
    const strict = dial(url, [], { rejectUnauthorized: true });
    const failed = await strict.sink.nth('error');
    expect(classifyError(failed.error)).toMatch(/^tls\./);
    expect((await strict.sink.nth('close')).code).toBe(1006);
    expect(strict.sink.kinds()).toEqual(['error', 'close']);

    const { client, sink } = dial(url, [], { rejectUnauthorized: false });
    await sink.nth('open');
    client.send('over tls');
    const echoed = await sink.nth('message');
    expect([echoed.data.toString(), echoed.isBinary]).toEqual(['echo:over tls', false]);
    expect(received).toEqual(['over tls']);
    expect(sink.of('error')).toEqual([]);
  });
});
