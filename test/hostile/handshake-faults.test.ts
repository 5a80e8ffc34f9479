// Hostile input, catalog row 15: every failure a target can cause has a class of its own
// (with advice), never other.unknown. Each fault is a real TCP server on loopback that
// misbehaves in one way.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { adviceFor } from '../../console/engine/measure/classify-error.ts';
import { useEngines } from '../helpers/engines.ts';
import { eventually } from '../helpers/test-client.ts';

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function acceptOf(request: string): string {
  const key = /sec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? '';
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** A TCP server that answers each upgrade request with `answer(request)` (or handles the socket itself). */
async function faultServer(onRequest: (socket: net.Socket, request: string) => void): Promise<string> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      if (!buffered.includes('\r\n\r\n')) return;
      const request = buffered;
      buffered = '';
      onRequest(socket, request);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
}

function upgraded(request: string, extra = ''): string {
  return (
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: ` +
    `Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(request)}\r\n${extra}\r\n`
  );
}

const FAULTS: Array<{
  name: string;
  expected: string;
  serve: (socket: net.Socket, request: string) => void;
  afterOpen?: boolean;
}> = [
  {
    name: 'a 101 with the wrong Sec-WebSocket-Accept',
    expected: 'handshake.bad_accept',
    serve: (s) =>
      s.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: ' +
          'Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n',
      ),
  },
  {
    name: 'a 101 without "Upgrade: websocket"',
    expected: 'handshake.bad_upgrade',
    serve: (s, r) =>
      s.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(r)}\r\n\r\n`,
      ),
  },
  {
    name: 'an answer that is not HTTP',
    expected: 'handshake.bad_response',
    serve: (s) => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'),
  },
  {
    name: 'an HTTP 503',
    expected: 'handshake.http_503',
    serve: (s) => s.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
  },
  {
    name: 'a redirect',
    expected: 'handshake.http_301',
    serve: (s) => s.end('HTTP/1.1 301 Moved Permanently\r\nLocation: ws://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n'),
  },
  { name: 'a close before any answer', expected: 'tcp.reset', serve: (s) => s.end() },
  { name: 'a reset before any answer', expected: 'tcp.reset', serve: (s) => s.resetAndDestroy() },
  {
    name: 'a subprotocol nobody asked for',
    expected: 'handshake.subprotocol',
    serve: (s, r) => s.write(upgraded(r, 'Sec-WebSocket-Protocol: mqtt\r\n')),
  },
  {
    name: 'an extension nobody offered',
    expected: 'handshake.extension',
    serve: (s, r) => s.write(upgraded(r, 'Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n')),
  },
  {
    name: 'a frame with a reserved opcode after the upgrade',
    expected: 'protocol.WS_ERR_INVALID_OPCODE',
    afterOpen: true,
    serve: (s, r) => {
      s.write(upgraded(r));
      s.write(Buffer.from([0x83, 0x00]));
    },
  },
  {
    name: 'a close frame with 1011 after the upgrade',
    expected: 'close.1011',
    afterOpen: true,
    serve: (s, r) => {
      s.write(upgraded(r));
      s.end(Buffer.from([0x88, 0x02, 0x03, 0xf3]));
    },
  },
  {
    name: 'a TCP close without a close frame after the upgrade',
    expected: 'close.1006',
    afterOpen: true,
    serve: (s, r) => {
      s.write(upgraded(r));
      setTimeout(() => s.destroy(), 50);
    },
  },
];

describe('the error class of every fault a target can cause', () => {
  const engines = useEngines();

  it.each(FAULTS)('classifies $name as $expected, with advice', async ({ expected, serve, afterOpen }) => {
    const url = await faultServer(serve);
    const engine = await engines.start({
      target: url,
      reconnect: { kind: 'off' },
      handshakeTimeoutMs: 2000,
      snapshotIntervalMs: 100,
    });
    await engine.dispatch({ type: 'set-target', count: 2 });
    await eventually(() => Object.values(engine.getSnapshot().errors).reduce((a, b) => a + b, 0) >= 2, 10_000);
    const errors = engine.getSnapshot().errors;
    expect(Object.keys(errors).filter((c) => c.startsWith('other.'))).toEqual([]);
    expect(errors[expected] ?? 0, JSON.stringify(errors)).toBeGreaterThanOrEqual(2);
    if (afterOpen) expect(engine.getSnapshot().totals.connects).toBe(2);
    expect(adviceFor(expected)).not.toBe('see the README table of error classes');
  });

  it('classifies a target where nothing listens as tcp.refused', async () => {
    const url = await faultServer(() => {});
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const engine = await engines.start({ target: url, reconnect: { kind: 'off' }, snapshotIntervalMs: 100 });
    await engine.dispatch({ type: 'set-target', count: 2 });
    await eventually(() => engine.getSnapshot().errors['tcp.refused'] === 2, 10_000);
  });
});
