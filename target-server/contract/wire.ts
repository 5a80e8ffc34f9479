/**
 * The wire protocol and admin API of the bundled target server: what the server and the
 * generator agree on. It belongs to no one program (target-server/contract/ is imported by
 * every program and imports nothing of theirs): the message shapes, their parsing, and the
 * validation of admin request bodies, as plain data and pure functions. JSON text frames in
 * both directions:
 *
 * - client → server: `{"t":"sub","topic":T}`, `{"t":"unsub","topic":T}`,
 *   `{"t":"pub","topic":T,"data":...}`; any other JSON object is echoed back unchanged
 *   (the RTT probe `{"t":"rtt","id":N,"at":MS}` relies on that), and so are binary frames.
 * - server → client: `{"t":"bcast","topic":T,"seq":N,"ts":MS,"data":...}` where `seq` is per
 *   topic and gap-free and `ts` is fractional epoch milliseconds taken just before the send;
 *   `{"t":"error","code":C,"message":M}` answers a bad frame.
 */

/** A server operation sent by a client. */
export type ClientOp =
  | { t: 'sub'; topic: string }
  | { t: 'unsub'; topic: string }
  | { t: 'pub'; topic: string; data: unknown };

/** Why the server refused a frame or an op; each is counted in `/stats.refused`. */
export type RefusalCode = 'bad-json' | 'bad-op' | 'too-deep' | 'too-many-topics' | 'overloaded' | 'internal';

/** What the server makes of one text frame. */
export type ParsedFrame =
  | { kind: 'op'; op: ClientOp }
  | { kind: 'echo' }
  | { kind: 'bad'; code: RefusalCode; message: string };

/** Longest topic name the server accepts. */
export const MAX_TOPIC_LENGTH = 128;

/**
 * What one client may make the server do. A frame beyond them is answered with
 * `{"t":"error"}` and counted; it never costs the server more than a bounded amount of work.
 */
export const CLIENT_LIMITS = Object.freeze({
  /** Deepest nesting of a `pub` frame's `data` (it is serialised again for the fan-out). */
  maxDataDepth: 64,
  /** Topics one connection may be subscribed to at once. */
  maxTopicsPerConnection: 64,
  /** Topics with subscribers, over all connections. */
  maxTopics: 100_000,
  /** Sequence counters kept for topics nobody subscribes to now (the least recently used go first). */
  maxIdleTopics: 10_000,
  /** Messages waiting for the server's loop (under `workMs`); more are refused. */
  maxQueuedMessages: 100_000,
  /** Bytes of client messages waiting (under `workMs`, or pubs behind a long broadcast); more are refused. */
  maxQueuedBytes: 64 * 1024 * 1024,
});

const SERVER_OPS = new Set(['sub', 'unsub', 'pub']);

/** Whether a JSON value nests deeper than `max`; iterative, so depth itself cannot overflow the stack. */
export function isNestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(current))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/** Classifies one text frame: a server op, something to echo, or a bad frame. */
export function parseClientFrame(text: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'bad', code: 'bad-json', message: 'frame is not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'bad', code: 'bad-op', message: 'frame must be a JSON object' };
  }
  const record = value as Record<string, unknown>;
  const op = record.t;
  if (typeof op !== 'string') {
    return { kind: 'bad', code: 'bad-op', message: 'field "t" must be a string' };
  }
  if (!SERVER_OPS.has(op)) return { kind: 'echo' };
  const topic = record.topic;
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) {
    return { kind: 'bad', code: 'bad-op', message: `"${op}" needs a topic of 1..${MAX_TOPIC_LENGTH} characters` };
  }
  if (op !== 'pub') return { kind: 'op', op: { t: op as 'sub' | 'unsub', topic } };
  if (isNestedDeeperThan(record.data, CLIENT_LIMITS.maxDataDepth)) {
    return { kind: 'bad', code: 'too-deep', message: `"data" nests deeper than ${CLIENT_LIMITS.maxDataDepth} levels` };
  }
  return { kind: 'op', op: { t: 'pub', topic, data: record.data ?? null } };
}

/**
 * How every fan-out frame starts, its topic's opening quote included: the generator reads
 * topic, seq and ts from a frame's head without parsing its payload.
 */
export const BROADCAST_HEAD = '{"t":"bcast","topic":"';

/** Encodes a fan-out frame; the data is already JSON so a broadcast is serialised once. */
export function encodeBroadcast(topic: string, seq: number, ts: number, dataJson: string): string {
  // JSON.stringify(topic) opens with the quote that ends BROADCAST_HEAD
  return `${BROADCAST_HEAD.slice(0, -1)}${JSON.stringify(topic)},"seq":${seq},"ts":${ts},"data":${dataJson}}`;
}

/** Encodes an RTT probe: an op the server does not know, so it is echoed back as it is. */
export function encodeProbe(id: number, atMs: number): string {
  return `{"t":"rtt","id":${id},"at":${atMs}}`;
}

/** Encodes the answer to a bad frame. */
export function encodeError(code: string, message: string): string {
  return JSON.stringify({ t: 'error', code, message });
}

/** Topics named in an upgrade URL's `?topics=a,b` (already URL-decoded value). */
export function parseTopicsParam(value: string | null | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((topic) => topic.trim())
    .filter((topic) => topic.length > 0 && topic.length <= MAX_TOPIC_LENGTH);
}

/** How the server fans a message out to a topic's subscribers. */
export type FanoutMode = 'publish' | 'loop' | 'batched';

/** The live knobs of `PUT /config`. */
export interface ServerConfig {
  /** Synchronous work per received message, in ms. @default 0 */
  workMs: number;
  /**
   * `publish` (uWS C++ pub/sub), `loop` (a JS loop over subscribers),
   * `batched` (loop in slices that yield). @default 'publish'
   */
  fanout: FanoutMode;
  /** permessage-deflate for new connections. @default false */
  compression: boolean;
  /** Largest accepted frame in bytes; larger closes with 1009. @default 65536 */
  maxPayload: number;
  /** Seconds without traffic before the server closes a connection: 0 (never) or 8..960 (uWS's range). @default 120 */
  idleTimeout: number;
  /** Bytes buffered per socket before the server closes it. @default 1048576 */
  maxBackpressure: number;
  /** Share of upgrades refused with 503, 0..100. @default 0 */
  rejectPercent: number;
  /** Delay before an upgrade is accepted, in ms. @default 0 */
  acceptDelayMs: number;
}

/** Conservative defaults: small frames, idle connections closed, bounded buffers. */
export const DEFAULT_SERVER_CONFIG: Readonly<ServerConfig> = Object.freeze({
  workMs: 0,
  fanout: 'publish',
  compression: false,
  maxPayload: 64 * 1024,
  idleTimeout: 120,
  maxBackpressure: 1024 * 1024,
  rejectPercent: 0,
  acceptDelayMs: 0,
});

/** The outcome of validating an admin request body. */
export type Validated<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

type NumberRule = [min: number, max: number, isInteger: boolean];

const CONFIG_NUMBERS: Readonly<Record<string, NumberRule>> = {
  workMs: [0, 10_000, false],
  maxPayload: [16, 64 * 1024 * 1024, true],
  idleTimeout: [0, 960, true],
  maxBackpressure: [1024, 1024 * 1024 * 1024, true],
  rejectPercent: [0, 100, false],
  acceptDelayMs: [0, 60_000, false],
};

function checkNumber(field: string, value: unknown, [min, max, isInteger]: NumberRule): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${field} must be a number`;
  if (isInteger && !Number.isInteger(value)) return `${field} must be an integer`;
  if (value < min || value > max) return `${field} must be between ${min} and ${max}`;
  // uWS aborts the whole process on an idle timeout of 1..7 s
  if (field === 'idleTimeout' && value > 0 && value < 8)
    return 'idleTimeout must be 0 (off) or between 8 and 960 seconds';
  return null;
}

/** The knobs of `PUT /config`, for completion and error messages. */
export const CONFIG_KNOBS = [
  'workMs',
  'fanout',
  'compression',
  'maxPayload',
  'idleTimeout',
  'maxBackpressure',
  'rejectPercent',
  'acceptDelayMs',
] as const;

/**
 * The unit each number knob takes on the wire, in one place: a client writing a knob (the
 * script's `server KNOB VALUE`, a compare variant) converts to it. `idleTimeout` is in seconds
 * because uWS takes it so, and the wire keeps what `--config`, `PUT /config` and `/stats` say.
 */
export const CONFIG_UNITS: Readonly<Record<string, 'ms' | 's' | 'bytes' | 'percent'>> = Object.freeze({
  workMs: 'ms',
  maxPayload: 'bytes',
  idleTimeout: 's',
  maxBackpressure: 'bytes',
  rejectPercent: 'percent',
  acceptDelayMs: 'ms',
});

/** Validates a `PUT /config` body: a subset of the knobs, every value in range. */
export function validateConfigPatch(body: unknown): Validated<Partial<ServerConfig>> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, field: 'body', message: 'body must be a JSON object' };
  }
  const patch: Partial<ServerConfig> = {};
  for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
    // own keys only: "__proto__" or "constructor" are unknown knobs, not the prototype's
    const rule = Object.hasOwn(CONFIG_NUMBERS, field) ? CONFIG_NUMBERS[field] : undefined;
    if (rule) {
      const problem = checkNumber(field, value, rule);
      if (problem) return { ok: false, field, message: problem };
      (patch as Record<string, number>)[field] = value as number;
    } else if (field === 'fanout') {
      if (value !== 'publish' && value !== 'loop' && value !== 'batched') {
        return { ok: false, field, message: 'fanout must be one of publish, loop, batched' };
      }
      patch.fanout = value;
    } else if (field === 'compression') {
      if (typeof value !== 'boolean') return { ok: false, field, message: 'compression must be true or false' };
      patch.compression = value;
    } else {
      return { ok: false, field, message: `unknown knob "${field}"; knobs are ${CONFIG_KNOBS.join(', ')}` };
    }
  }
  return { ok: true, value: patch };
}

/** A `POST /broadcast` request. */
export interface BroadcastRequest {
  topic: string;
  /** @default 1 */
  count: number;
  /** Bytes of payload in `data`. @default 16 */
  size: number;
  /** Pause between messages; 0 sends them back to back. @default 0 */
  intervalMs: number;
}

/** Most messages one `POST /broadcast` may ask for, and most payload bytes over all of them. */
export const BROADCAST_LIMITS = Object.freeze({
  maxCount: 100_000,
  maxSizeBytes: 16 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  /** Messages queued for fan-out over all broadcasts; a request beyond is answered 429. */
  maxBacklog: 1_000_000,
  /** Broadcasts with `intervalMs` running at once; more are answered 429. */
  maxScheduled: 64,
});

/** Validates a `POST /broadcast` body and fills defaults. */
export function validateBroadcast(body: unknown): Validated<BroadcastRequest> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, field: 'body', message: 'body must be a JSON object' };
  }
  const raw = body as Record<string, unknown>;
  const topic = raw.topic ?? 'all';
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) {
    return { ok: false, field: 'topic', message: `topic must be a string of 1..${MAX_TOPIC_LENGTH} characters` };
  }
  const value: BroadcastRequest = { topic, count: 1, size: 16, intervalMs: 0 };
  const rules: Record<'count' | 'size' | 'intervalMs', NumberRule> = {
    count: [1, BROADCAST_LIMITS.maxCount, true],
    size: [0, BROADCAST_LIMITS.maxSizeBytes, true],
    intervalMs: [0, 3_600_000, false],
  };
  for (const field of ['count', 'size', 'intervalMs'] as const) {
    if (raw[field] === undefined) continue;
    const problem = checkNumber(field, raw[field], rules[field]);
    if (problem) return { ok: false, field, message: problem };
    value[field] = raw[field] as number;
  }
  if (value.count * value.size > BROADCAST_LIMITS.maxTotalBytes) {
    return {
      ok: false,
      field: 'count',
      message:
        `count × size must be at most ${BROADCAST_LIMITS.maxTotalBytes} bytes (${value.count} × ` +
        `${value.size} asked)`,
    };
  }
  return { ok: true, value };
}

/**
 * The close reason of a connection the server dropped on `POST
 * /kill` (close mode), so clients can tell chaos from failure.
 */
export const SERVER_KILL_REASON = 'killed by server';

/** How server-side chaos (`POST /kill`) drops connections. */
export type ServerKillMode = 'close' | 'reset';

/** Validates a `POST /kill` body. */
export function validateKill(body: unknown): Validated<{ percent: number; mode: ServerKillMode }> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, field: 'body', message: 'body must be a JSON object' };
  }
  const raw = body as Record<string, unknown>;
  const problem = checkNumber('percent', raw.percent, [0, 100, false]);
  if (problem) return { ok: false, field: 'percent', message: problem };
  const mode = raw.mode ?? 'close';
  if (mode !== 'close' && mode !== 'reset') {
    return { ok: false, field: 'mode', message: 'mode must be "close" or "reset"' };
  }
  return { ok: true, value: { percent: raw.percent as number, mode } };
}

/** The line the server prints on stdout once it listens. */
export interface ListeningEvent {
  event: 'listening';
  host: string;
  port: number;
  adminPort: number;
  engine: 'uws' | 'ws';
  /** Whether the engine fans out in native code (the wire's name, kept: scripts read this line). */
  native: boolean;
  token: string;
  pid: number;
}

/** `GET /stats`: everything counted since start, plus the last second's event-loop figures. */
export interface ServerStats {
  engine: 'uws' | 'ws';
  /** Whether the engine fans out in native code (the wire's name, as in the listening line). */
  native: boolean;
  uptimeMs: number;
  connections: number;
  connectionsTotal: number;
  upgradesRejected: number;
  closedByKill: number;
  /** Topics with subscribers now. */
  topics: number;
  /** Subscribers of the (at most 100) largest topics. */
  subscribers: Record<string, number>;
  /** The last seq of those topics. */
  seq: Record<string, number>;
  /** Messages waiting for the loop (under `workMs`, or queued behind a long broadcast). */
  queued: number;
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  backpressureDrops: number;
  backpressureCloses: number;
  /**
   * Frames answered with an error or dropped, by reason (`frame`: oversized or invalid UTF-8, closed by the engine).
   */
  badFrames: number;
  refused: Record<string, number>;
  /** Admin requests served, and those refused by HTTP status. */
  admin: { requests: number; refused: Record<string, number> };
  /** Whether the WebSocket listener is up (a failed live change can lose it; `/healthz` says so too). */
  isListening: boolean;
  publishMsLast: number;
  publishMsMax: number;
  loop: { delayP50Ms: number; delayP99Ms: number; delayMaxMs: number; utilization: number };
  cpu: { userPercent: number; systemPercent: number };
  rssBytes: number;
  /** V8 heap in use and reserved: RSS beyond them is native (uWS, buffers, the allocator). */
  heapUsedBytes: number;
  heapTotalBytes: number;
  config: ServerConfig;
}
