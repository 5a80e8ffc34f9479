/**
 * The one module that owns zod: every part-protocol message (part-protocol.ts) is checked
 * against its shape here before anything reads it. What crosses from another process or host is
 * hostile input: a shape with wrong types, a missing field, a number that is not finite, a string
 * or list past its bound is refused with the first thing wrong and where, never half used.
 *
 * zod (4) because it ships without install scripts and without dependencies, is maintained, runs on
 * Node 20, and its inferred types are checked below against the protocol's own, so a message type
 * that changes without its schema fails the typecheck.
 */
import * as z from 'zod';
import type { CommandResult, LiveCounts } from './fleet-part.ts';
import type { EngineOptions } from '../engine-options.ts';
import type { PartCommand, PartSample } from './fleet-part.ts';
import type { AgentHello, CoordinatorWelcome, FromPart, ToPart } from './part-protocol.ts';

/** Texts of a part (a topic, an error class, a message): bounded, the shell trims them to show. */
const text = z.string().max(4096);
/** Templates and file names the coordinator sends: as long as a script line may be. */
const long = z.string().max(1024 * 1024);
const count = z.number().nonnegative();
const id = z.number().int().nonnegative();
const ms = z.number();
// a measured figure a part could not take (0/0 is NaN, which JSON sends as null) reads as 0 rather
// than losing the part; a figure of another type is still refused
const figure = z
  .union([z.number(), z.nan(), z.null()])
  .transform((value) => (value === null || Number.isNaN(value) ? 0 : value));

const latency = z.object({ count, p50: figure, p90: figure, p99: figure, max: figure, mean: figure });
const byName = <T extends z.ZodType>(value: T) =>
  z.object({ connect: value, rtt: value, fanout: value, reconnect: value });
const histogram = z.object({
  sumUs: z.number().nullable(),
  counts: z.array(z.number()).max(400_000),
  maxUs: z.number().optional(),
});
const bounded = <T extends z.ZodType>(value: T, most: number) =>
  z.record(text, value).refine((record) => Object.keys(record).length <= most, `more than ${most} keys`);

const policy = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('off') }),
  z.object({ kind: z.literal('immediate') }),
  z.object({ kind: z.literal('fixed'), delayMs: count }),
  z.object({ kind: z.literal('expo'), minMs: count, maxMs: count, jitter: z.enum(['none', 'full', 'equal']) }),
]);
const live = z.object({
  open: count,
  target: count,
  isRecovered: z.boolean(),
  killed: count,
  policy: policy.optional(),
});
const result = z.object({ ok: z.boolean(), message: text, count: count.optional() });

const fleet = z.object({
  target: count,
  open: count,
  peakOpen: count,
  connecting: count,
  waiting: count,
  pending: count,
  closing: count,
  closed: count,
  slowed: count,
  ratePerSec: count,
  maxInFlight: count,
  policy: text,
  probePerSec: count,
  bySource: bounded(count, 4096),
  heldBytes: count,
});
const rates = z.object({
  connectsPerSec: figure,
  attemptsPerSec: figure,
  disconnectsPerSec: figure,
  messagesInPerSec: figure,
  messagesOutPerSec: figure,
  bytesInPerSec: figure,
  bytesOutPerSec: figure,
});
const totals = z.object({
  attempts: count,
  connects: count,
  failures: count,
  disconnects: count,
  killed: count,
  messagesIn: count,
  messagesOut: count,
  bytesIn: count,
  bytesOut: count,
  probesSent: count,
  probesReceived: count,
  broadcastsReceived: count,
  missed: count,
  cut: count,
  topicsEvicted: count,
  userTopicsEvicted: count,
  churn: count,
  sendDropped: count,
});
const broadcast = z.object({
  topic: text,
  seq: z.number(),
  openAtSend: count,
  receivers: count,
  reached: count,
  cut: count,
  reach: z.number().min(0).max(1),
  firstMs: figure,
  p50Ms: figure,
  p99Ms: figure,
  lastMs: figure,
  isSettled: z.boolean(),
  sentAtMs: ms,
  histogram: histogram.optional(),
});
const recovery = z.object({
  action: text,
  atMs: ms,
  target: count,
  dropped: count,
  p95Ms: ms.nullable(),
  fullMs: ms.nullable(),
  peakHandshakesPerSec: count,
  attempts: count,
  failures: count,
  detail: z
    .object({ openAtAction: count, opens: histogram, attemptsPerSecond: z.array(count).max(100_000) })
    .optional(),
});
const health = z.object({
  loopDelayP50Ms: figure,
  loopDelayP99Ms: figure,
  loopDelayMaxMs: figure,
  utilization: figure,
  cpuPercent: figure,
  rssBytes: figure,
  heapUsedBytes: figure,
  bytesPerOpenVu: figure,
  isSaturated: z.boolean(),
});
const sample = z.object({
  fleet,
  rates,
  totals,
  latency: byName(latency),
  interval: byName(latency),
  histograms: z.object({ total: byName(histogram), interval: byName(histogram) }).optional(),
  settled: z.array(broadcast).max(20_000),
  recoveries: z.array(recovery).max(10_000),
  errors: bounded(count, 1000),
  checks: bounded(z.object({ passes: count, fails: count }), 1000),
  health,
  events: z.array(z.object({ atMs: ms, level: z.enum(['info', 'warn', 'error']), text })).max(1000),
});

/** Part → shell. */
const fromPart = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('failed'), message: text, code: text.optional() }),
  z.object({ type: z.literal('result'), id, result, live }),
  z.object({ type: z.literal('sample'), id, sample, live }),
  live.extend({ type: z.literal('live') }),
  z.object({ type: z.literal('stopped'), sample: sample.nullable() }),
]);

const rows = z.array(z.record(long, long));
const command = z.discriminatedUnion('type', [
  z.object({ type: z.literal('set-target'), count }),
  z.object({ type: z.literal('ramp'), count, overMs: count }),
  z.object({ type: z.literal('set-rate'), perSec: count }),
  z.object({ type: z.literal('probe'), perSec: count, template: long.optional(), replyPath: long.optional() }),
  z.object({ type: z.literal('messages'), perSec: count, template: long }),
  z.object({
    type: z.literal('kill'),
    label: long,
    mode: z.enum(['reset', 'close']),
    victims: z.enum(['random', 'oldest', 'newest']),
    count,
  }),
  z.object({ type: z.literal('slow'), percent: count, forMs: count }),
  z.object({ type: z.literal('reconnect'), policy }),
  z.object({ type: z.literal('stall'), ms: count }),
  z.object({ type: z.literal('expect-broadcast'), topic: long, firstSeq: z.number(), lastSeq: z.number(), atMs: ms }),
  z.object({ type: z.literal('send-broadcast'), count, sizeBytes: count, topic: long }),
  z.object({ type: z.literal('recovery-start'), label: long }),
  z.object({ type: z.literal('recovery-announce'), dropped: count }),
  z.object({
    type: z.literal('protocol'),
    name: z.enum(['raw', 'socketio', 'graphql-ws', 'mqtt']),
    namespace: long.optional(),
    keepaliveS: count.optional(),
    mqttVersion: z.union([z.literal(4), z.literal(5)]).optional(),
  }),
  z.object({ type: z.literal('connect-payload'), template: long.nullable() }),
  z.object({ type: z.literal('on-open'), template: long.nullable() }),
  z.object({ type: z.literal('session'), lifetimeMs: count, jitterMs: count }),
  z.object({
    type: z.literal('check'),
    check: z.object({
      name: long,
      path: long,
      op: z.enum(['exists', '==', '!=', '<', '>', 'matches']),
      value: long.optional(),
    }),
  }),
  z.object({ type: z.literal('users'), file: long, rows, isChunked: z.boolean().optional() }),
  z.object({ type: z.literal('template-values'), values: z.record(z.string().max(1024), long) }),
]);

const options = z.object({
  target: long.optional(),
  serverEngine: z.enum(['uws', 'ws']).optional(),
  servers: count.optional(),
  targets: z.array(long).optional(),
  protocols: z.array(long).optional(),
  headers: z.record(long, long).optional(),
  insecure: z.boolean().optional(),
  maxPayloadBytes: count.optional(),
  heldBudgetBytes: count.optional(),
  heldDeadlineMs: count.optional(),
  handshakeTimeoutMs: count.optional(),
  sendBufferBytes: count.optional(),
  compression: z.boolean().optional(),
  ratePerSec: count.optional(),
  maxInFlight: count.optional(),
  topics: z.array(long).optional(),
  localAddresses: z.array(long).optional(),
  framePaths: z.object({ tsPath: long.optional(), seqPath: long.optional(), topicPath: long.optional() }).optional(),
  broadcastHttp: long.optional(),
  broadcastSend: long.optional(),
  reconnect: policy.optional(),
  snapshotIntervalMs: count.optional(),
  workers: count.optional(),
  hostLimit: z.object({ capacity: count, binding: long }).optional(),
  serverHost: long.optional(),
  serverConfig: z
    .object({
      workMs: count,
      fanout: z.enum(['publish', 'loop', 'batched']),
      compression: z.boolean(),
      maxPayload: count,
      idleTimeout: count,
      maxBackpressure: count,
      rejectPercent: count,
      acceptDelayMs: count,
    })
    .partial()
    .optional(),
  protocol: z.enum(['raw', 'socketio', 'graphql-ws', 'mqtt']).optional(),
  agents: z
    .object({
      count,
      listen: long,
      token: long,
      tlsCert: long.optional(),
      tlsKey: long.optional(),
      joinTimeoutMs: count.optional(),
    })
    .optional(),
});

/** Shell → part. */
const toPart = z.discriminatedUnion('type', [
  z.object({ type: z.literal('init'), options, urls: z.array(long).max(100_000), name: long, isDetailed: z.boolean() }),
  z.object({ type: z.literal('apply'), id, command }),
  z.object({ type: z.literal('rows'), rows }),
  z.object({ type: z.literal('sample'), id, isMeasured: z.boolean() }),
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('end'), reason: long }),
]);

const hello = z.object({
  type: z.literal('hello'),
  protocol: z.number(),
  token: z.string().max(1024),
  name: z.string().max(256),
  capacity: count.nullable(),
});
const welcome = z.object({ type: z.literal('welcome'), name: z.string().max(256) });
const fromCoordinator = z.discriminatedUnion('type', [welcome, toPart]);

/** What a check gives: the message, typed, or the first thing wrong with it. */
export type Checked<T> = { ok: true; message: T } | { ok: false; reason: string };

function check<T>(schema: z.ZodType<T>, value: unknown): Checked<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'the message';
  return { ok: false, reason: `${where}: ${issue.message}`.slice(0, 300) };
}

/** A JSON text's value, or why it is none (a frame from another host). */
export function parseJson(data: string): Checked<unknown> {
  try {
    return { ok: true, message: JSON.parse(data) as unknown };
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
}

/** Checks a message from a part (an agent's frame, a shard's IPC message). */
export const readFromPart = (value: unknown): Checked<FromPart> => check(fromPart, value);
/** Checks a message from the shell (the coordinator's frame, the parent's IPC message). */
export const readToPart = (value: unknown): Checked<ToPart> => check(toPart, value);
/** Checks what an agent's upgrade request says of it. */
export const readHello = (value: unknown): Checked<AgentHello> => check(hello, value);
/** Checks a frame from a coordinator: its welcome, or a message to the part. */
export const readFromCoordinator = (value: unknown): Checked<CoordinatorWelcome | ToPart> =>
  check(fromCoordinator, value);

// the schemas and the protocol's types are one: a change to either without the other fails here
// (each side flattened, then compared as TypeScript compares identical types: optional keys count)
type Flat<T> = T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
type Same<A, B> = (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
const typesAgree: [
  Same<z.infer<typeof fromPart>, FromPart>,
  Same<z.infer<typeof toPart>, ToPart>,
  Same<z.infer<typeof command>, PartCommand>,
  Same<z.infer<typeof sample>, PartSample>,
  Same<z.infer<typeof options>, EngineOptions>,
  Same<z.infer<typeof live>, LiveCounts>,
  Same<z.infer<typeof result>, CommandResult>,
  Same<z.infer<typeof hello>, AgentHello>,
] = [true, true, true, true, true, true, true, true];
void typesAgree;
