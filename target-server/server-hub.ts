import { performance } from 'node:perf_hooks';
import { BudgetedQueue } from './budgeted-queue.ts';
import { epochNow } from './contract/clock.ts';
import { isEchoFrame } from './echo-frame.ts';
import { LoopMonitor } from './loop-monitor.ts';
import {
  CLIENT_LIMITS,
  DEFAULT_SERVER_CONFIG,
  encodeBroadcast,
  encodeError,
  parseClientFrame,
  SERVER_KILL_REASON,
  type BroadcastRequest,
  type ServerKillMode,
  type RefusalCode,
  type ServerConfig,
  type ServerStats,
} from './contract/wire.ts';
import { Topics } from './topics.ts';

/**
 * What a send did: delivered or queued, dropped because the socket's buffer is full, or nothing (the socket is closed).
 */
export type SendStatus = 'ok' | 'dropped' | 'closed';

/** One client connection as the hub sees it; each engine wraps its own socket in this. */
export interface ServerConn {
  readonly topics: Set<string>;
  /** Sends a text or binary frame; never throws, even on a closed socket. */
  send(frame: string | Uint8Array, isBinary: boolean): SendStatus;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Closes with a close frame. */
  end(code: number, reason: string): void;
  /** Drops the TCP connection without a close frame. */
  reset(): void;
}

/** The part of an engine the hub needs: native fan-out, where the engine has one. */
export interface FanoutEngine {
  readonly name: 'uws' | 'ws';
  /** Whether it fans out in native code (uWS), not a JavaScript loop. */
  readonly isNative: boolean;
  /** Native pub/sub publish; returns false when the engine has none (the hub loops instead). */
  publishNative(topic: string, frame: string): boolean;
  /** Whether the WebSocket listener is up. */
  readonly isListening: boolean;
}

const BATCH_SIZE = 1000;
// slices of queued work: long enough to do real work, short enough that an admin request
// (the operator's undo) waits at most this long
const WORK_SLICE_MS = 50;
const FANOUT_SLICE_MS = 10;

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // deliberate: workMs simulates synchronous request work on the server's event loop
  }
}

interface QueuedMessage {
  conn: ServerConn;
  data: Uint8Array;
  isBinary: boolean;
}

interface QueuedPublish {
  topic: string;
  dataJson: string;
  left: number;
  /** Bytes this item holds against the queue bound (a client's pub; an admin burst shares one string). */
  bytes: number;
}

/**
 * Engine-independent server state: configuration, topics and their seqs, counters, and the
 * protocol semantics (sub/unsub/pub/echo, broadcast, kill). Each engine only adapts its
 * sockets to {@link ServerConn} and calls `onOpen`/`onMessage`/`onClose`. Whatever a client
 * sends, the work it causes is bounded: a frame that would cost more is refused with an
 * error frame and counted; work that takes long is queued and done in slices.
 */
export class ServerHub {
  readonly config: ServerConfig = { ...DEFAULT_SERVER_CONFIG };
  readonly conns = new Set<ServerConn>();
  private readonly topics = new Topics<ServerConn>();
  private readonly startedAt = performance.now();
  private readonly monitor = new LoopMonitor();
  private rejectCredit = 0;
  private readonly counters = {
    connectionsTotal: 0,
    upgradesRejected: 0,
    closedByKill: 0,
    messagesIn: 0,
    bytesIn: 0,
    messagesOut: 0,
    bytesOut: 0,
    backpressureDrops: 0,
    backpressureCloses: 0,
    badFrames: 0,
    publishMsLast: 0,
    publishMsMax: 0,
  };
  private readonly refused: Record<string, number> = {};
  private readonly work = new BudgetedQueue<QueuedMessage>((m) => this.runQueued(m), WORK_SLICE_MS);
  private readonly fanout = new BudgetedQueue<QueuedPublish>((p) => this.runPublish(p), FANOUT_SLICE_MS);
  /** Messages per topic waiting in `fanout`: their seqs are taken, in order, when they go. */
  private readonly backlog = new Map<string, number>();
  private queuedBytes = 0;
  engine: FanoutEngine | undefined;

  constructor(config: Partial<ServerConfig> = {}) {
    Object.assign(this.config, config);
    this.monitor.start();
  }

  /** Decides one upgrade under `rejectPercent`; exact over time, not random. */
  shouldReject(): boolean {
    this.rejectCredit += this.config.rejectPercent;
    if (this.rejectCredit >= 100) {
      this.rejectCredit -= 100;
      this.counters.upgradesRejected++;
      return true;
    }
    return false;
  }

  onOpen(conn: ServerConn, topics: string[]): void {
    this.conns.add(conn);
    this.counters.connectionsTotal++;
    for (const topic of topics) {
      if (!this.subscribe(conn, topic)) break;
    }
  }

  onClose(conn: ServerConn): void {
    if (!this.conns.delete(conn)) return;
    this.topics.remove(conn);
  }

  /** Counts a frame the engine rejected before it reached the hub (bad UTF-8, oversized). */
  countBadFrame(): void {
    this.counters.badFrames++;
    this.refused.frame = (this.refused.frame ?? 0) + 1;
  }

  countBackpressureClose(): void {
    this.counters.backpressureCloses++;
  }

  /**
   * One frame from a client. `data` may be a view that is only valid during the call (uWS):
   * it is copied when the message has to wait.
   */
  onMessage(conn: ServerConn, data: Uint8Array, isBinary: boolean): void {
    this.counters.messagesIn++;
    this.counters.bytesIn += data.byteLength;
    if (this.config.workMs <= 0 && this.work.length === 0) return this.handle(conn, data, isBinary);
    if (
      this.work.length >= CLIENT_LIMITS.maxQueuedMessages ||
      this.queuedBytes + data.byteLength > CLIENT_LIMITS.maxQueuedBytes
    ) {
      return this.refuse(
        conn,
        'overloaded',
        `the server is ${this.work.length} messages behind (workMs ${this.config.workMs}); this one was dropped`,
      );
    }
    this.queuedBytes += data.byteLength;
    // a copy: a uWS view is only valid during this call, and Buffer#slice would not copy
    this.work.push({ conn, data: new Uint8Array(data), isBinary });
  }

  private runQueued(message: QueuedMessage): boolean {
    this.queuedBytes -= message.data.byteLength;
    if (!this.conns.has(message.conn)) return true;
    // the knob is read per message, so an operator's `workMs 0` empties the queue at once
    if (this.config.workMs > 0) busyWait(this.config.workMs);
    this.handle(message.conn, message.data, message.isBinary);
    return true;
  }

  private handle(conn: ServerConn, data: Uint8Array, isBinary: boolean): void {
    try {
      if (isBinary) return this.sendTo(conn, data, true);
      // a probe or an application message goes back as the bytes that came: no string, no parse
      if (isEchoFrame(data)) return this.sendTo(conn, data, false);
      const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
      const parsed = parseClientFrame(text);
      if (parsed.kind === 'echo') return this.sendTo(conn, text, false);
      if (parsed.kind === 'bad') return this.refuse(conn, parsed.code, parsed.message);
      const op = parsed.op;
      if (op.t === 'sub') this.subscribe(conn, op.topic);
      else if (op.t === 'unsub') this.unsubscribe(conn, op.topic);
      else this.publishClient(conn, op.topic, JSON.stringify(op.data));
    } catch (error) {
      // nothing a client sends may stop the server: what slipped past the limits is refused too
      this.refuse(conn, 'internal', `the server could not handle this frame: ${(error as Error).message}`);
    }
  }

  private refuse(conn: ServerConn, code: RefusalCode, message: string): void {
    this.counters.badFrames++;
    this.refused[code] = (this.refused[code] ?? 0) + 1;
    this.sendTo(conn, encodeError(code, message), false);
  }

  // `bytes` is passed by fan-out loops, which send one frame to thousands: measured once, not per receiver
  private sendTo(conn: ServerConn, frame: string | Uint8Array, isBinary: boolean, bytes?: number): void {
    const status = conn.send(frame, isBinary);
    if (status !== 'ok') {
      if (status === 'dropped') this.counters.backpressureDrops++;
      return;
    }
    this.counters.messagesOut++;
    this.counters.bytesOut += bytes ?? (typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength);
  }

  private subscribe(conn: ServerConn, topic: string): boolean {
    const outcome = this.topics.subscribe(conn, topic);
    if (outcome === 'per-connection' || outcome === 'server') {
      this.refuse(
        conn,
        'too-many-topics',
        outcome === 'server'
          ? `the server holds ${CLIENT_LIMITS.maxTopics} topics with subscribers; "${topic}" was not added`
          : `a connection may subscribe to ${CLIENT_LIMITS.maxTopicsPerConnection} topics; "${topic}" was not added`,
      );
      return false;
    }
    if (outcome) conn.subscribe(topic);
    return true;
  }

  private unsubscribe(conn: ServerConn, topic: string): void {
    if (this.topics.unsubscribe(conn, topic)) conn.unsubscribe(topic);
  }

  private publishClient(conn: ServerConn, topic: string, dataJson: string): void {
    if (!this.backlog.has(topic)) {
      this.publish(topic, dataJson);
      return;
    }
    if (this.queuedBytes + dataJson.length > CLIENT_LIMITS.maxQueuedBytes) {
      return this.refuse(
        conn,
        'overloaded',
        `topic "${topic}" has ${this.backlog.get(topic)} messages queued; this pub was dropped`,
      );
    }
    this.queuedBytes += dataJson.length;
    this.enqueue(topic, dataJson, 1, dataJson.length);
  }

  private enqueue(topic: string, dataJson: string, count: number, bytes = 0): void {
    this.backlog.set(topic, (this.backlog.get(topic) ?? 0) + count);
    this.fanout.push({ topic, dataJson, left: count, bytes });
  }

  private runPublish(item: QueuedPublish): boolean {
    try {
      this.publish(item.topic, item.dataJson);
    } catch {
      // one message lost to an engine error; the queue's counts below stay exact either way
      this.refused.internal = (this.refused.internal ?? 0) + 1;
    }
    const left = this.backlog.get(item.topic)! - 1;
    if (left === 0) this.backlog.delete(item.topic);
    else this.backlog.set(item.topic, left);
    if (--item.left > 0) return false;
    this.queuedBytes -= item.bytes;
    return true;
  }

  /** The seq the next message to `topic` will get, counting what is queued for it. */
  private nextFreeSeq(topic: string): number {
    return this.topics.seqOf(topic) + (this.backlog.get(topic) ?? 0) + 1;
  }

  /** Stamps the next `seq` of a topic and fans the message out now; returns the seq. */
  publish(topic: string, dataJson: string): number {
    const seq = this.topics.nextSeq(topic);
    const started = performance.now();
    const frame = encodeBroadcast(topic, seq, epochNow(), dataJson);
    const receivers = this.topics.of(topic);
    const count = receivers?.size ?? 0;
    if (count === 0) return seq;
    const mode = this.config.fanout;
    const bytes = Buffer.byteLength(frame);
    if (mode === 'publish' && this.engine?.publishNative(topic, frame)) {
      this.counters.messagesOut += count;
      this.counters.bytesOut += count * bytes;
      this.recordPublish(performance.now() - started);
    } else if (mode === 'batched') {
      this.sendBatches([...receivers!], frame, bytes, 0, started);
    } else {
      for (const conn of receivers!) this.sendTo(conn, frame, false, bytes);
      this.recordPublish(performance.now() - started);
    }
    return seq;
  }

  // Sends one slice, then yields to the event loop so other work (and echoes) keep flowing.
  private sendBatches(targets: ServerConn[], frame: string, bytes: number, from: number, started: number): void {
    const end = Math.min(targets.length, from + BATCH_SIZE);
    for (let i = from; i < end; i++) {
      if (this.conns.has(targets[i]!)) this.sendTo(targets[i]!, frame, false, bytes);
    }
    if (end < targets.length) setImmediate(() => this.sendBatches(targets, frame, bytes, end, started));
    else this.recordPublish(performance.now() - started);
  }

  private recordPublish(ms: number): void {
    this.counters.publishMsLast = ms;
    this.counters.publishMsMax = Math.max(this.counters.publishMsMax, ms);
  }

  /**
   * Runs a `POST /broadcast`; returns the seq range it uses. Back-to-back messages are sent
   * in slices that yield to the loop, so a large burst never freezes the server.
   */
  broadcast(request: BroadcastRequest, timers: Set<NodeJS.Timeout>): { firstSeq: number; lastSeq: number } {
    const dataJson = JSON.stringify('x'.repeat(request.size));
    const firstSeq = this.nextFreeSeq(request.topic);
    const lastSeq = firstSeq + request.count - 1;
    if (request.intervalMs <= 0) {
      if (request.count === 1 && !this.backlog.has(request.topic)) this.publish(request.topic, dataJson);
      else this.enqueue(request.topic, dataJson, request.count);
      return { firstSeq, lastSeq };
    }
    let sent = 0;
    const tick = (): void => {
      if (this.backlog.has(request.topic)) this.enqueue(request.topic, dataJson, 1);
      else this.publish(request.topic, dataJson);
      if (++sent < request.count) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          tick();
        }, request.intervalMs);
        timers.add(timer);
      }
    };
    tick();
    return { firstSeq, lastSeq };
  }

  /** Messages queued for the fan-out, over every topic (a bound for new broadcasts). */
  get backlogSize(): number {
    let total = 0;
    for (const n of this.backlog.values()) total += n;
    return total;
  }

  /** Drops `percent` of the open connections, chosen at random; returns how many. */
  kill(percent: number, mode: ServerKillMode): number {
    const all = [...this.conns];
    const count = Math.round((all.length * percent) / 100);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (all.length - i));
      [all[i], all[j]] = [all[j]!, all[i]!];
      if (mode === 'reset') all[i]!.reset();
      else all[i]!.end(1001, SERVER_KILL_REASON);
    }
    this.counters.closedByKill += count;
    return count;
  }

  stats(admin: ServerStats['admin']): ServerStats {
    const loop = this.monitor.figures;
    return {
      engine: this.engine?.name ?? 'ws',
      native: this.engine?.isNative ?? false,
      uptimeMs: performance.now() - this.startedAt,
      connections: this.conns.size,
      ...this.counters,
      topics: this.topics.size,
      ...this.topics.largest(),
      queued: this.work.length + this.backlogSize,
      refused: { ...this.refused },
      admin,
      isListening: this.engine?.isListening ?? false,
      loop: {
        delayP50Ms: loop.delayP50Ms,
        delayP99Ms: loop.delayP99Ms,
        delayMaxMs: loop.delayMaxMs,
        utilization: loop.utilization,
      },
      cpu: { userPercent: loop.userPercent, systemPercent: loop.systemPercent },
      ...this.monitor.memory(),
      config: { ...this.config },
    };
  }

  stop(): void {
    this.work.stop();
    this.fanout.stop();
    this.monitor.stop();
  }
}
