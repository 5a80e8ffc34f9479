// LeanClient against a raw TCP server on loopback that reads the upgrade request, answers it
// (or not) by hand and writes hand-made frames: broken handshakes, frames the protocol forbids,
// fragments, pings and frames split across TCP writes. Each must end as it does with `ws`.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyError } from '../../../console/engine/measure/classify-error.ts';
import { LeanClient, type LeanOptions } from '../../../console/engine/users/lean-client.ts';
import { Recorder } from '../../helpers/lean-recorder.ts';
import { eventually } from '../../helpers/test-client.ts';

/** A frame the client sent, unmasked. */
interface ClientFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** One connection to the raw server: the request it read, and the client's frames after it. */
interface Peer {
  socket: net.Socket;
  request: string;
  accept: string;
  frames: ClientFrame[];
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const clients: LeanClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Parses the client's (masked) frames off the front of `buffer`; returns what is left. */
function parseFrames(buffer: Buffer, into: ClientFrame[]): Buffer {
  for (;;) {
    if (buffer.length < 2) return buffer;
    let length = buffer[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return buffer;
      length = buffer.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return buffer;
      length = Number(buffer.readBigUInt64BE(2));
      offset = 10;
    }
    const masked = (buffer[1]! & 0x80) !== 0;
    const mask = masked ? buffer.subarray(offset, offset + 4) : null;
    if (masked) offset += 4;
    if (buffer.length < offset + length) return buffer;
    const payload = Buffer.from(buffer.subarray(offset, offset + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
    into.push({ fin: (buffer[0]! & 0x80) !== 0, opcode: buffer[0]! & 0x0f, masked, payload });
    buffer = buffer.subarray(offset + length);
  }
}

/** A raw TCP server on 127.0.0.1:0 that hands each upgrade request to `onRequest`. */
async function rawServer(
  onRequest: (peer: Peer) => void,
): Promise<{ url: string; port: number; peer: () => Promise<Peer> }> {
  const peers: Peer[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    let buffered: Buffer = Buffer.alloc(0);
    let peer: Peer | null = null;
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (peer) {
        buffered = parseFrames(buffered, peer.frames);
        return;
      }
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const request = buffered.toString('latin1', 0, end + 4);
      buffered = buffered.subarray(end + 4);
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(request)?.[1] ?? '';
      peer = {
        socket,
        request,
        accept: createHash('sha1')
          .update(key + GUID)
          .digest('base64'),
        frames: [],
      };
      peers.push(peer);
      onRequest(peer);
      buffered = parseFrames(buffered, peer.frames);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { url: `ws://127.0.0.1:${port}/`, port, peer: () => eventually(() => peers[0]) };
}

/** The proper 101 answer for `peer`, with `extra` header lines. */
function upgraded(peer: Peer, ...extra: string[]): string {
  return [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${peer.accept}`,
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** A server frame: unmasked and final unless told otherwise. */
function frame(opcode: number, data: string | Buffer, { fin = true, rsv1 = false, mask = false } = {}): Buffer {
  const payload = Buffer.from(data);
  const length = payload.length;
  const head = Buffer.alloc(length < 126 ? 2 : length < 65536 ? 4 : 10);
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) head[1] = length;
  else if (length < 65536) {
    head[1] = 126;
    head.writeUInt16BE(length, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!mask) return Buffer.concat([head, payload]);
  head[1]! |= 0x80;
  const key = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([head, key, payload.map((byte, i) => byte ^ key[i & 3]!)]);
}

function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Dials `url` and expects it to fail before opening: the error, then close 1006, never an open. */
async function failure(url: string, protocols: string[] = []): Promise<Error & { code?: string }> {
  const { sink } = dial(url, protocols);
  const failed = await sink.nth('error');
  const closed = await sink.nth('close');
  expect(closed.code).toBe(1006);
  expect(sink.kinds()).toEqual(['error', 'close']);
  return failed.error;
}

/** Answers with a 101 carrying `lines`, after `edit` (of the whole answer). */
const reply =
  (lines: string[], edit = (answer: string) => answer) =>
  (p: Peer) =>
    p.socket.write(edit(upgraded(p, ...lines)));

// the messages are what ws 8 says for the same answer (checked against ws itself)
describe('LeanClient handshake failures', { timeout: 10_000 }, () => {
  const extensions = 'Server sent a Sec-WebSocket-Extensions header but no extension was requested';
  const cases: Array<
    [name: string, expected: string, message: string | RegExp, answer: (peer: Peer) => void, protocols?: string[]]
  > = [
    [
      'a subprotocol not offered',
      'handshake.subprotocol',
      'Server sent an invalid subprotocol',
      reply(['Sec-WebSocket-Protocol: c']),
      ['a', 'b'],
    ],
    [
      'a subprotocol, none offered',
      'handshake.subprotocol',
      'Server sent a subprotocol but none was requested',
      reply(['Sec-WebSocket-Protocol: a']),
    ],
    ['no subprotocol, one offered', 'handshake.subprotocol', 'Server sent no subprotocol', reply([]), ['a']],
    [
      'an extensions header',
      'handshake.extension',
      extensions,
      reply(['Sec-WebSocket-Extensions: permessage-deflate']),
    ],
    [
      'a wrong accept',
      'handshake.bad_accept',
      'Invalid Sec-WebSocket-Accept header',
      (p) => p.socket.write(upgraded({ ...p, accept: 'bm90IHRoZSByaWdodA==' })),
    ],
    [
      'a 101 without Upgrade',
      'handshake.bad_upgrade',
      'Unexpected server response: 101',
      reply([], (a) => a.replace('Upgrade: websocket\r\n', '')),
    ],
    [
      'a 101 to h2c',
      'handshake.bad_upgrade',
      'Invalid Upgrade header',
      reply([], (a) => a.replace('Upgrade: websocket', 'Upgrade: h2c')),
    ],
    [
      'an HTTP 503',
      'handshake.http_503',
      'Unexpected server response: 503',
      (p) => p.socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'),
    ],
    // Node's own parser says 'Parse Error: Expected HTTP/, RTSP/ or ICE/' (Node 20); the code is what classifies
    [
      'garbage that is not HTTP',
      'handshake.bad_response',
      /^Parse Error: Expected HTTP\//,
      (p) => p.socket.write('hello\r\n\r\n'),
    ],
    ['a close before any answer', 'tcp.reset', 'socket hang up', (p) => p.socket.end()],
  ];
  for (const [name, expected, message, answer, protocols] of cases) {
    it(`classifies ${name} as ${expected}`, async () => {
      const server = await rawServer(answer);
      const error = await failure(server.url, protocols);
      expect(error.message).toMatch(message);
      expect(classifyError(error)).toBe(expected);
    });
  }

  it('classifies a refused connection (a closed port) as tcp.refused', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const error = await failure(`ws://127.0.0.1:${port}/`);
    expect(error.code).toBe('ECONNREFUSED');
    expect(classifyError(error)).toBe('tcp.refused');
  });
});

describe('LeanClient against hostile frames', { timeout: 10_000 }, () => {
  const invalid = (what: string) => `Invalid WebSocket frame: ${what}`;
  // [name, code, close status, ws's error class and message, the bytes, options]
  const cases: Array<
    [name: string, code: string, status: number, error: [string, string], bytes: Buffer, options?: LeanOptions]
  > = [
    [
      'a masked frame',
      'WS_ERR_UNEXPECTED_MASK',
      1002,
      ['RangeError', invalid('MASK must be clear')],
      frame(1, 'masked', { mask: true }),
    ],
    [
      'RSV1 set',
      'WS_ERR_UNEXPECTED_RSV_1',
      1002,
      ['RangeError', invalid('RSV1 must be clear')],
      frame(1, 'rsv1', { rsv1: true }),
    ],
    ['opcode 3', 'WS_ERR_INVALID_OPCODE', 1002, ['RangeError', invalid('invalid opcode 3')], frame(3, 'three')],
    // ws raises a plain Error (not a RangeError) for invalid UTF-8
    [
      'invalid UTF-8 text',
      'WS_ERR_INVALID_UTF8',
      1007,
      ['Error', invalid('invalid UTF-8 sequence')],
      frame(1, Buffer.from([0x68, 0xff, 0xfe, 0x69])),
    ],
    [
      'a close frame with code 999',
      'WS_ERR_INVALID_CLOSE_CODE',
      1002,
      ['RangeError', invalid('invalid status code 999')],
      frame(8, closePayload(999)),
    ],
    // ws says 'Max payload size exceeded' with no 'Invalid WebSocket frame: ' prefix
    [
      '2,000 bytes over maxPayload 1000',
      'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      1009,
      ['RangeError', 'Max payload size exceeded'],
      frame(2, Buffer.alloc(2000)),
      { maxPayload: 1000 },
    ],
    // ws says 'Unsupported WebSocket frame: payload length > 2^53 - 1'
    [
      'a 64-bit length over 2^53 - 1',
      'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
      1009,
      ['RangeError', 'Unsupported WebSocket frame: payload length > 2^53 - 1'],
      Buffer.from([0x82, 127, 0x00, 0x20, 0, 0, 0, 0, 0, 0]),
    ],
  ];
  for (const [name, code, status, [errorName, message], bytes, options] of cases) {
    it(`fails on ${name} with ${code} and closes ${status}`, async () => {
      const server = await rawServer((p) => p.socket.write(upgraded(p)));
      const { sink } = dial(server.url, [], options);
      await sink.nth('open');
      const peer = await server.peer();
      peer.socket.write(bytes);
      const failed = await sink.nth('error');
      expect(failed.error.code).toBe(code);
      expect(classifyError(failed.error)).toBe(`protocol.${code}`);
      const close = await eventually(() => peer.frames[0]);
      expect([close.opcode, close.masked, close.payload.readUInt16BE(0)]).toEqual([8, true, status]);
      expect((await sink.nth('close')).code).toBe(1006);
      expect(sink.kinds()).toEqual(['open', 'error', 'close']);
      expect([failed.error.constructor.name, failed.error.message]).toEqual([errorName, message]);
    });
  }
});

describe('LeanClient reading frames off a raw server', { timeout: 10_000 }, () => {
  it('joins 3 text fragments around a ping into one message, pongs the ping payload, and joins binary fragments', async () => {
    const server = await rawServer((p) => p.socket.write(upgraded(p)));
    const { sink } = dial(server.url);
    await sink.nth('open');
    const peer = await server.peer();
    peer.socket.write(frame(1, 'hel', { fin: false }));
    peer.socket.write(frame(0, 'lo ', { fin: false }));
    peer.socket.write(frame(9, 'ping-data'));
    peer.socket.write(frame(0, 'wörld'));
    const message = await sink.nth('message');
    expect([message.data.toString(), message.isBinary]).toEqual(['hello wörld', false]);
    const pong = await eventually(() => peer.frames[0]);
    expect(pong).toMatchObject({ fin: true, opcode: 10, masked: true });
    expect(pong.payload.toString()).toBe('ping-data');
    peer.socket.write(Buffer.concat([frame(2, Buffer.from([1, 2]), { fin: false }), frame(0, Buffer.from([3]))]));
    const binary = await sink.nth('message', 2);
    expect([[...binary.data], binary.isBinary]).toEqual([[1, 2, 3], true]);
    expect(sink.kinds()).toEqual(['open', 'message', 'message']);
  });

  it('hears close 4403 "nope" and echoes a masked close frame with the code and reason, as ws does', async () => {
    const server = await rawServer((p) => p.socket.write(upgraded(p)));
    const { sink } = dial(server.url);
    await sink.nth('open');
    const peer = await server.peer();
    peer.socket.write(frame(8, closePayload(4403, 'nope')));
    const closed = await sink.nth('close');
    expect([closed.code, closed.reason.toString()]).toEqual([4403, 'nope']);
    expect(sink.kinds()).toEqual(['open', 'close']);
    const echo = await eventually(() => peer.frames[0]);
    expect([echo.opcode, echo.masked, echo.payload.readUInt16BE(0)]).toEqual([8, true, 4403]);
    // ws echoes the reason too (receiverOnConclude calls close(code, reason))
    expect(echo.payload.subarray(2).toString()).toBe('nope');
  });

  it('reads frames written one byte at a time, and the 101 with a frame in the same write', async () => {
    const text = 'x'.repeat(200);
    const server = await rawServer(async (p) => {
      p.socket.write(Buffer.concat([Buffer.from(upgraded(p)), frame(1, 'first')]));
      for (const byte of Buffer.concat([frame(1, text), frame(2, Buffer.from([9, 8, 7]))])) {
        await sleep(1);
        if (p.socket.destroyed) return;
        p.socket.write(Buffer.from([byte]));
      }
    });
    const { sink } = dial(server.url);
    await sink.nth('message', 3);
    expect(sink.of('message').map((m) => [m.isBinary ? [...m.data] : m.data.toString(), m.isBinary])).toEqual([
      ['first', false],
      [text, false],
      [[9, 8, 7], true],
    ]);
    expect(sink.of('error')).toEqual([]);
  });

  it('reads two frames and half a third in one write, and a 64-bit frame split inside its header', async () => {
    const big = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff));
    const third = frame(1, 'third, in two halves');
    const large = frame(2, big);
    const server = await rawServer(async (p) => {
      p.socket.write(upgraded(p));
      await sleep(20);
      p.socket.write(Buffer.concat([frame(1, 'one'), frame(2, Buffer.alloc(200, 5)), third.subarray(0, 9)]));
      await sleep(20);
      p.socket.write(third.subarray(9));
      await sleep(20);
      for (const [from, to] of [
        [0, 3],
        [3, 10],
        [10, 30_000],
        [30_000, large.length],
      ] as const) {
        p.socket.write(large.subarray(from, to));
        await sleep(10);
      }
    });
    const { sink } = dial(server.url);
    await sink.nth('message', 4);
    const messages = sink.of('message');
    expect(
      messages.slice(0, 3).map((m) => [m.isBinary ? m.data.toString('hex') : m.data.toString(), m.isBinary]),
    ).toEqual([
      ['one', false],
      [Buffer.alloc(200, 5).toString('hex'), true],
      ['third, in two halves', false],
    ]);
    expect(messages[3]!.isBinary).toBe(true);
    expect(messages[3]!.data.equals(big)).toBe(true);
    expect(sink.of('error')).toEqual([]);
  });
});

describe('LeanClient sharing one read buffer between sockets', { timeout: 10_000 }, () => {
  it('keeps a half-read frame and a pending fragment of one socket intact while another socket reads in between', async () => {
    const peers: Peer[] = [];
    const server = await rawServer((p) => {
      p.socket.write(upgraded(p));
      peers.push(p);
    });
    const a = dial(server.url).sink;
    await a.nth('open');
    const b = dial(server.url).sink;
    await b.nth('open');
    const [pa, pb] = peers as [Peer, Peer];
    const framed = frame(1, `a:${'y'.repeat(300)}`);
    const other = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 13) & 0xff));
    // A: a message in two fragments and the first fragment of another; B then fills the shared
    // buffer; A: the last fragment and half a frame; B again; then the rest of A's frame
    pa.socket.write(
      Buffer.concat([frame(1, 'frag-', { fin: false }), frame(0, 'ment'), frame(1, 'part-', { fin: false })]),
    );
    await a.nth('message');
    pb.socket.write(frame(2, other));
    await b.nth('message');
    pa.socket.write(Buffer.concat([frame(0, 'ial'), framed.subarray(0, 120)]));
    await a.nth('message', 2);
    pb.socket.write(frame(1, 'b-text'));
    await b.nth('message', 2);
    pa.socket.write(framed.subarray(120));
    await a.nth('message', 3);
    expect(a.of('message').map((m) => m.data.toString())).toEqual(['frag-ment', 'part-ial', `a:${'y'.repeat(300)}`]);
    expect(b.of('message')[0]!.data.equals(other)).toBe(true);
    expect(b.of('message')[1]!.data.toString()).toBe('b-text');
  });
});
