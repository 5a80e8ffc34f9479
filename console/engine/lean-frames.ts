/**
 * The lean client's rules, pure: the upgrade request, what makes an answer to it fail (in ws's
 * words), what makes a frame header fail (ws's Receiver's messages, codes and close statuses),
 * and randomness for masks and keys drawn from one pooled buffer refilled 8 KiB at a time, so a
 * frame costs no system call (ws pools its masks the same way).
 */
import { randomFillSync } from 'node:crypto';

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

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64. */
export function nextKey(): string {
  const at = take(16);
  return POOL.toString('base64', at, at + 16);
}

/** An error with a code, as Node's and ws's carry them. */
export function coded(message: string, code: string, ctor: ErrorConstructor = Error): Error & { code: string } {
  return Object.assign(new ctor(message), { code });
}

/** What a frame's header breaks, as ws's Receiver says it: [message, code, close status], or null. */
export function frameRefusal(
  b0: number,
  b1: number,
  opcode: number,
  length: number,
  isFragmented: boolean,
  fragmentBytes: number,
  maxPayload: number,
): [string, string, number] | null {
  if ((b0 & 0x30) !== 0) return ['RSV2 and RSV3 must be clear', 'WS_ERR_UNEXPECTED_RSV_2_3', 1002];
  if ((b0 & 0x40) !== 0) return ['RSV1 must be clear', 'WS_ERR_UNEXPECTED_RSV_1', 1002];
  const isControl = opcode >= 8;
  if (opcode === 0 && !isFragmented) return ['invalid opcode 0', 'WS_ERR_INVALID_OPCODE', 1002];
  if ((opcode === 1 || opcode === 2) && isFragmented) return [`invalid opcode ${opcode}`, 'WS_ERR_INVALID_OPCODE', 1002];
  if (opcode > 2 && opcode < 8) return [`invalid opcode ${opcode}`, 'WS_ERR_INVALID_OPCODE', 1002];
  if (opcode > 10) return [`invalid opcode ${opcode}`, 'WS_ERR_INVALID_OPCODE', 1002];
  if (isControl && (b0 & 0x80) === 0) return ['FIN must be set', 'WS_ERR_EXPECTED_FIN', 1002];
  if (isControl && (length > 125 || (opcode === 8 && length === 1))) return [`invalid payload length ${length}`, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002];
  if ((b1 & 0x80) !== 0) return ['MASK must be clear', 'WS_ERR_UNEXPECTED_MASK', 1002];
  if (!isControl && maxPayload > 0 && fragmentBytes + length > maxPayload) return ['Max payload size exceeded', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009];
  return null;
}

/** The HTTP request that asks for the upgrade. */
export function upgradeRequest(url: URL, key: string, protocols: readonly string[], headers: Record<string, string> = {}): string {
  const own = new Set(['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version']);
  const given = Object.entries(headers).filter(([name]) => !own.has(name.toLowerCase()));
  for (const [name, value] of given) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(String(value))) throw coded(`Invalid character in header content ["${name}"]`, 'ERR_INVALID_CHAR', TypeError);
  }
  const lines = [`GET ${url.pathname || '/'}${url.search} HTTP/1.1`];
  if (!given.some(([name]) => name.toLowerCase() === 'host')) lines.push(`Host: ${url.host}`);
  if (url.username || url.password)
    lines.push(`Authorization: Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`);
  for (const [name, value] of given) lines.push(`${name}: ${value}`);
  if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(',')}`);
  lines.push('Connection: Upgrade', 'Upgrade: websocket', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** What is wrong with the answer to the upgrade, in ws's words, or null. */
export function upgradeProblem(status: number, headers: Map<string, string>, accept: string, protocols: readonly string[]): string | null {
  // Node's HTTP client takes a 101 without an Upgrade header for a plain answer, and ws then says this
  if (status !== 101 || !headers.has('upgrade')) return `Unexpected server response: ${status}`;
  if (headers.get('upgrade')!.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
  if (headers.get('sec-websocket-accept') !== accept) return 'Invalid Sec-WebSocket-Accept header';
  const chosen = headers.get('sec-websocket-protocol');
  if (chosen !== undefined) {
    if (protocols.length === 0) return 'Server sent a subprotocol but none was requested';
    if (!protocols.includes(chosen)) return 'Server sent an invalid subprotocol';
  } else if (protocols.length > 0) return 'Server sent no subprotocol';
  if (headers.has('sec-websocket-extensions')) return 'Server sent a Sec-WebSocket-Extensions header but no extension was requested';
  return null;
}
