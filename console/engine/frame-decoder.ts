/**
 * Reads what the fleet needs out of an incoming text frame: an RTT probe's echo, or a
 * fan-out message's topic, seq and send time. The bundled server's frames are known; for a
 * real target, dotted JSON paths say where the send time, seq and topic live. Pure.
 */

/** Where to find fan-out fields in a real target's JSON messages. */
export interface FramePaths {
  /** Path of the server's send time in epoch ms, e.g. `meta.sentAt`. */
  tsPath?: string;
  /** Path of a per-topic sequence number. */
  seqPath?: string;
  /** Path of the topic or channel name. */
  topicPath?: string;
}

/** What a frame is to the fleet. */
export type DecodedFrame =
  | { kind: 'rtt'; atMs: number }
  | { kind: 'fanout'; topic: string; seq: number | null; tsMs: number | null }
  | { kind: 'other' };

const OTHER: DecodedFrame = { kind: 'other' };

function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
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

/** Decodes one text frame; never throws. */
export function decodeFrame(text: string, paths: FramePaths | null): DecodedFrame {
  if (text.charCodeAt(0) !== 123 /* { */) return OTHER;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return OTHER;
  }
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
