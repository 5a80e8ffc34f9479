// A raw TCP server on loopback that reads a WebSocket upgrade request, answers it (or not) by
// hand and writes hand-made frames, and the client frames it reads: the lean client's hostile tests.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, expect } from 'vitest';
import { LeanClient, type LeanOptions } from '../../console/engine/users/lean-client.ts';
import { Recorder } from './lean-recorder.ts';
import { eventually } from './test-client.ts';

/** A frame the client sent, unmasked. */
export interface ClientFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** One connection to the raw server: the request it read, and the client's frames after it. */
export interface Peer {
  socket: net.Socket;
  request: string;
  accept: string;
  frames: ClientFrame[];
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const clients: LeanClient[] = [];
/** Closes every raw server, socket and client a test made, after each test. */
export function useRawServers(): void {
  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });
}

/** Parses the client's (masked) frames off the front of `buffer`; returns what is left. */
export function parseFrames(buffer: Buffer, into: ClientFrame[]): Buffer {
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
export async function rawServer(
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
export function upgraded(peer: Peer, ...extra: string[]): string {
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
export function frame(opcode: number, data: string | Buffer, { fin = true, rsv1 = false, mask = false } = {}): Buffer {
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

/** A close frame's payload: the code and the reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

/** A lean client dialling `url`, with a recorder of what it hears. */
export function dial(
  url: string,
  protocols: string[] = [],
  options: LeanOptions = {},
): { client: LeanClient; sink: Recorder } {
  const sink = new Recorder();
  const client = new LeanClient(url, protocols, options, sink);
  clients.push(client);
  return { client, sink };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Dials `url` and expects it to fail before opening: the error, then close 1006, never an open. */
export async function failure(url: string, protocols: string[] = []): Promise<Error & { code?: string }> {
  const { sink } = dial(url, protocols);
  const failed = await sink.nth('error');
  const closed = await sink.nth('close');
  expect(closed.code).toBe(1006);
  expect(sink.kinds()).toEqual(['error', 'close']);
  return failed.error;
}

/** Answers with a 101 carrying `lines`, after `edit` (of the whole answer). */
export const reply =
  (lines: string[], edit = (answer: string) => answer) =>
  (p: Peer) =>
    p.socket.write(edit(upgraded(p, ...lines)));
