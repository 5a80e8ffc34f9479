// LeanClient against a raw TCP server on loopback that reads the upgrade request, answers it
// (or not) by hand and writes hand-made frames: broken handshakes and frames the protocol forbids.
// Each must end as it does with `ws`.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { classifyError } from '../../../console/engine/measure/classify-error.ts';
import type { LeanOptions } from '../../../console/engine/users/lean-client.ts';
import { eventually } from '../../helpers/test-client.ts';
import {
  rawServer,
  upgraded,
  frame,
  closePayload,
  dial,
  failure,
  reply,
  useRawServers,
  type Peer,
} from '../../helpers/raw-ws-server.ts';

useRawServers();

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
