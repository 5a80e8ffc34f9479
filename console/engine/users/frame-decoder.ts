/**
 * Reads what the fleet needs out of an incoming text frame: an RTT probe's echo, or a
 * fan-out message's topic, seq and send time. The bundled server's frames are known; for a
 * real target, dotted JSON paths say where the send time, seq and topic live. JSON is read
 * under the depth bound of target-json.ts. Pure.
 */
import { BROADCAST_HEAD } from '../../../target-server/contract/wire.ts';
import { bytesNestDeeperThan, nestsDeeperThan, readTargetJson, TOO_DEEP } from '../protocols/target-json.ts';

/** Where to find fan-out fields in a real target's JSON messages. */
export interface FramePaths {
  /** Path of the server's send time in epoch ms, e.g. `meta.sentAt`. */
  tsPath?: string;
  /** Path of a per-topic sequence number. */
  seqPath?: string;
  /** Path of the topic or channel name. */
  topicPath?: string;
}

/** What a frame is to the fleet; `bad`: JSON nested past the bound, not read (a bad packet). */
export type DecodedFrame =
  | { kind: 'rtt'; atMs: number }
  | { kind: 'fanout'; topic: string; seq: number | null; tsMs: number | null }
  | { kind: 'other' }
  | { kind: 'bad' };

const OTHER: DecodedFrame = { kind: 'other' };
const BAD: DecodedFrame = { kind: 'bad' };

/**
 * The bundled server writes fan-out frames with a fixed prefix (`encodeBroadcast`), so the
 * fields we need are read without parsing the payload: ten thousand receivers of one
 * broadcast queue behind each other in the generator, and every microsecond per frame shows
 * up in the fan-out p99. Anything unexpected falls back to JSON.parse.
 */
function decodeBroadcastPrefix(text: string): DecodedFrame | null {
  const topicEnd = text.indexOf('"', BROADCAST_HEAD.length);
  if (topicEnd < 0) return null;
  const topic = text.slice(BROADCAST_HEAD.length, topicEnd);
  if (topic.includes('\\') || !text.startsWith(',"seq":', topicEnd + 1)) return null;
  const seqStart = topicEnd + 8;
  const seqEnd = text.indexOf(',', seqStart);
  if (seqEnd < 0 || !text.startsWith('"ts":', seqEnd + 1)) return null;
  const tsStart = seqEnd + 6;
  const tsEnd = text.indexOf(',', tsStart);
  const seq = Number(text.slice(seqStart, seqEnd));
  const tsMs = Number(text.slice(tsStart, tsEnd < 0 ? undefined : tsEnd));
  if (!Number.isInteger(seq) || !Number.isFinite(tsMs) || tsEnd < 0) return null;
  return { kind: 'fanout', topic, seq, tsMs };
}

/**
 * Whether a JSON text's bytes could hold a probe's echo or a fan-out message when no paths are
 * given: `decodeJson` finds one only where `t` is `"rtt"` or `"bcast"`, which the bytes then
 * hold as written, or spelled with an escape (`\u0072tt`), which holds a backslash.
 */
function mayBeMeasured(data: Buffer): boolean {
  return data.indexOf(92 /* \ */) >= 0 || data.indexOf('rtt') >= 0 || data.indexOf('bcast') >= 0;
}

/**
 * Decodes a received frame, reading only its head when it is a bundled-server broadcast. A
 * frame that cannot be measured (an array, an application message's echo) is only measured
 * for depth, over its bytes: decoding and parsing every such frame was most of the receive
 * path's own work under `messages` at full rate, and gave the same answer.
 */
export function decodeBuffer(data: Buffer, paths: FramePaths | null): DecodedFrame {
  const first = data[0];
  if (data.length > BROADCAST_HEAD.length && first === 123 && data[2] === 116 /* t */ && data[6] === 98 /* b */) {
    const head = data.toString('utf8', 0, Math.min(data.length, 512));
    if (head.startsWith(BROADCAST_HEAD)) {
      const fast = decodeBroadcastPrefix(head);
      if (fast) return fast;
    }
  }
  if (first === 91 /* [ */ || (first === 123 /* { */ && paths === null && !mayBeMeasured(data)))
    return bytesNestDeeperThan(data) ? BAD : OTHER;
  return decodeFrame(data.toString('utf8'), paths);
}

/** The value at a dotted JSON path (`meta.sentAt`); `.` is the whole value. */
export function pick(value: unknown, path: string): unknown {
  if (path === '.' || path === '') return value;
  let current = value;
  for (const key of path.replace(/^\./, '').split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function asNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/** Decodes one text frame; never throws. An array is only measured for depth: no fan-out frame is one. */
export function decodeFrame(text: string, paths: FramePaths | null): DecodedFrame {
  const first = text.charCodeAt(0);
  if (first === 91 /* [ */) return nestsDeeperThan(text) ? BAD : OTHER;
  return first === 123 /* { */ ? decodeJson(readTargetJson(text), paths) : OTHER;
}

/** Decodes a message already read by `readTargetJson`; never throws. */
export function decodeJson(read: unknown, paths: FramePaths | null): DecodedFrame {
  if (read === TOO_DEEP) return BAD;
  if (read === null || typeof read !== 'object' || Array.isArray(read)) return OTHER;
  const value = read as Record<string, unknown>;
  if (value.t === 'rtt' && typeof value.at === 'number') return { kind: 'rtt', atMs: value.at };
  if (value.t === 'bcast' && typeof value.seq === 'number') {
    return { kind: 'fanout', topic: String(value.topic), seq: value.seq, tsMs: asNumber(value.ts) };
  }
  if (!paths) return OTHER;
  const tsMs = paths.tsPath ? asNumber(pick(value, paths.tsPath)) : null;
  const seq = paths.seqPath ? asNumber(pick(value, paths.seqPath)) : null;
  if (tsMs === null && seq === null) return OTHER;
  const topic = paths.topicPath ? pick(value, paths.topicPath) : undefined;
  return { kind: 'fanout', topic: topic === undefined ? 'default' : String(topic), seq, tsMs };
}
