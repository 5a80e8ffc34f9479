/**
 * The lean client's rules, pure: the upgrade request, what makes an answer to it fail (in ws's
 * words), what makes a frame header fail (ws's Receiver's messages, codes and close statuses),
 * and randomness for masks and keys drawn from one pooled buffer refilled 8 KiB at a time, so a
 * frame costs no system call (ws pools its masks the same way).
 */
import { randomFillSync } from 'node:crypto';
import querystring from 'node:querystring';

const POOL = Buffer.alloc(8192);
let offset = POOL.length;

function take(bytes: number): number {
  if (offset + bytes > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

/** Writes a fresh 4-byte mask into `frame` at `at`. */
export function nextMask(frame: Buffer, at: number): void {
  POOL.copy(frame, at, take(4), offset);
}

/** One final frame of `opcode` carrying `data` (`length` bytes), masked, as a client sends it. */
export function maskedFrame(opcode: number, data: string | Buffer, length: number): Buffer {
  const headLength = length < 126 ? 6 : length < 65536 ? 8 : 14;
  const frame = Buffer.allocUnsafe(headLength + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length % 2 ** 32, 6);
  }
  const maskAt = headLength - 4;
  nextMask(frame, maskAt);
  if (typeof data === 'string') frame.write(data, headLength);
  else data.copy(frame, headLength);
  for (let i = 0; i < length; i++) frame[headLength + i]! ^= frame[maskAt + (i & 3)]!;
  return frame;
}

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64. */
export function nextKey(): string {
  const at = take(16);
  return POOL.toString('base64', at, at + 16);
}

/** An error with a code, as Node's and ws's carry them. */
export function coded(message: string, code: string, ctor: ErrorConstructor = Error): Error & { code: string } {
  return Object.assign(new ctor(message), { code });
}

/** A frame the protocol forbids, as ws's Receiver reports it: message, code, close status, error type. */
export type Refusal = [message: string, code: string, status: number, ctor: ErrorConstructor];

const invalid = (message: string, code: string): Refusal => [
  `Invalid WebSocket frame: ${message}`,
  code,
  1002,
  RangeError,
];
export const BAD_UTF8: Refusal = [
  'Invalid WebSocket frame: invalid UTF-8 sequence',
  'WS_ERR_INVALID_UTF8',
  1007,
  Error,
];
export const TOO_BIG: Refusal = ['Max payload size exceeded', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009, RangeError];
export const TOO_LONG: Refusal = [
  'Unsupported WebSocket frame: payload length > 2^53 - 1',
  'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  1009,
  RangeError,
];

/**
 * Whether a close frame may carry `code` (RFC 6455 7.4: the defined codes a peer may send, and
 * 3000-4999 for libraries and applications), the rule ws's Receiver applies.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  );
}

/** What a frame's first two bytes break, in ws's order (the 7-bit length decides a control frame's), or null. */
export function headerRefusal(b0: number, b1: number, opcode: number, isFragmented: boolean): Refusal | null {
  if ((b0 & 0x30) !== 0) return invalid('RSV2 and RSV3 must be clear', 'WS_ERR_UNEXPECTED_RSV_2_3');
  if ((b0 & 0x40) !== 0) return invalid('RSV1 must be clear', 'WS_ERR_UNEXPECTED_RSV_1');
  const isControl = opcode >= 8;
  if (opcode === 0 && !isFragmented) return invalid('invalid opcode 0', 'WS_ERR_INVALID_OPCODE');
  if ((opcode === 1 || opcode === 2) && isFragmented)
    return invalid(`invalid opcode ${opcode}`, 'WS_ERR_INVALID_OPCODE');
  if ((opcode > 2 && opcode < 8) || opcode > 10) return invalid(`invalid opcode ${opcode}`, 'WS_ERR_INVALID_OPCODE');
  const length = b1 & 0x7f;
  if (isControl && (b0 & 0x80) === 0) return invalid('FIN must be set', 'WS_ERR_EXPECTED_FIN');
  if (isControl && (length > 125 || (opcode === 8 && length === 1)))
    return invalid(`invalid payload length ${length}`, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH');
  if ((b1 & 0x80) !== 0) return invalid('MASK must be clear', 'WS_ERR_UNEXPECTED_MASK');
  return null;
}

/** The HTTP request that asks for the upgrade. */
export function upgradeRequest(
  url: URL,
  key: string,
  protocols: readonly string[],
  headers: Record<string, string> = {},
): string {
  const own = new Set(['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version']);
  const given = Object.entries(headers).filter(([name]) => !own.has(name.toLowerCase()));
  for (const [name, value] of given) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(String(value)))
      throw coded(`Invalid character in header content ["${name}"]`, 'ERR_INVALID_CHAR', TypeError);
  }
  const lines = [`GET ${url.pathname || '/'}${url.search} HTTP/1.1`];
  if (!given.some(([name]) => name.toLowerCase() === 'host')) lines.push(`Host: ${url.host}`);
  // URL credentials, unless a header says who we are (as ws and Node's http do); bad escapes stay as they are
  if ((url.username || url.password) && !given.some(([name]) => name.toLowerCase() === 'authorization')) {
    const credentials = `${querystring.unescape(url.username)}:${querystring.unescape(url.password)}`;
    lines.push(`Authorization: Basic ${Buffer.from(credentials).toString('base64')}`);
  }
  for (const [name, value] of given) lines.push(`${name}: ${value}`);
  if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(',')}`);
  lines.push('Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** What is wrong with the answer to the upgrade, in ws's words, or null. */
export function upgradeProblem(
  status: number,
  headers: Map<string, string>,
  accept: string,
  protocols: readonly string[],
): string | null {
  // Node's HTTP client takes a 101 without an Upgrade header for a plain answer, and ws then says this
  if (status !== 101 || !headers.has('upgrade')) return `Unexpected server response: ${status}`;
  if (headers.get('upgrade')!.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
  if (headers.get('sec-websocket-accept') !== accept) return 'Invalid Sec-WebSocket-Accept header';
  const chosen = headers.get('sec-websocket-protocol');
  if (chosen !== undefined) {
    if (protocols.length === 0) return 'Server sent a subprotocol but none was requested';
    if (!protocols.includes(chosen)) return 'Server sent an invalid subprotocol';
  } else if (protocols.length > 0) return 'Server sent no subprotocol';
  if (headers.has('sec-websocket-extensions'))
    return 'Server sent a Sec-WebSocket-Extensions header but no extension was requested';
  return null;
}

/** How much of an upgrade answer's head is read before it is an overflow, as Node's HTTP parser bounds it. */
const MAX_HEAD = 64 * 1024;

/**
 * The server's answer to the upgrade, read off the front of `buffer` as Node's HTTP parser and
 * ws read it: the length of its head when it upgrades, the error ws gives when it does not (a
 * parse error with Node's code, or ws's message for a wrong answer), or null while it is not
 * all there.
 */
export function readAnswer(buffer: Buffer, accept: string, protocols: readonly string[]): number | Error | null {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return buffer.length > MAX_HEAD ? coded('Parse Error: Header overflow', 'HPE_HEADER_OVERFLOW') : null;
  const lines = buffer.toString('latin1', 0, end).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]!);
  if (!status) return coded('Parse Error: Expected HTTP/', 'HPE_INVALID_CONSTANT');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return coded('Parse Error: Invalid header token', 'HPE_INVALID_HEADER_TOKEN');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  const problem = upgradeProblem(Number(status[1]), headers, accept, protocols);
  return problem ? new Error(problem) : end + 4;
}
