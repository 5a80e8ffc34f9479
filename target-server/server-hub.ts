import { performance } from 'node:perf_hooks';
import {
  DEFAULT_SERVER_CONFIG,
  encodeBroadcast,
  encodeError,
  parseClientFrame,
  SERVER_KILL_REASON,
  type BroadcastRequest,
  type KillMode,
  type ServerConfig,
  type ServerStats,
} from './protocol.ts';
import { LoopMonitor } from './loop-monitor.ts';

/** What a send did: delivered or queued, or dropped because the socket's buffer is full. */
export type SendStatus = 'ok' | 'dropped';

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
  readonly native: boolean;
  /** Native pub/sub publish; returns false when the engine has none (the hub loops instead). */
  publishNative(topic: string, frame: string): boolean;
}

const BATCH_SIZE = 1000;

function now(): number {
  return performance.timeOrigin + performance.now();
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // deliberate: workMs simulates synchronous request work on the server's event loop
  }
}

/**
 * Engine-independent server state: configuration, per-topic sequence numbers, subscribers,
 * counters, and the protocol semantics (sub/unsub/pub/echo, broadcast, kill). Each engine
 * only adapts its sockets to {@link ServerConn} and calls `onOpen`/`onMessage`/`onClose`.
 */
export class ServerHub {
  readonly config: ServerConfig = { ...DEFAULT_SERVER_CONFIG };
  readonly conns = new Set<ServerConn>();
  private readonly subscribers = new Map<string, Set<ServerConn>>();
  private readonly seq = new Map<string, number>();
  private readonly startedAt = performance.now();
  private readonly monitor = new LoopMonitor();
  private rejectCredit = 0;
  private readonly counters = {
    connectionsTotal: 0, upgradesRejected: 0, closedByKill: 0, messagesIn: 0, bytesIn: 0,
    messagesOut: 0, bytesOut: 0, backpressureDrops: 0, backpressureCloses: 0, badFrames: 0,
    publishMsLast: 0, publishMsMax: 0,
  };
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
    for (const topic of topics) this.subscribe(conn, topic);
  }

  onClose(conn: ServerConn): void {
    if (!this.conns.delete(conn)) return;
    for (const topic of conn.topics) this.subscribers.get(topic)?.delete(conn);
  }

  /** Counts a frame the engine rejected before it reached the hub (bad UTF-8, oversized). */
  countBadFrame(): void {
    this.counters.badFrames++;
  }

  countBackpressureClose(): void {
    this.counters.backpressureCloses++;
  }

  onMessage(conn: ServerConn, data: Uint8Array, isBinary: boolean): void {
    this.counters.messagesIn++;
    this.counters.bytesIn += data.byteLength;
    if (this.config.workMs > 0) busyWait(this.config.workMs);
    if (isBinary) return this.sendTo(conn, data, true);
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    const parsed = parseClientFrame(text);
    if (parsed.kind === 'echo') return this.sendTo(conn, text, false);
    if (parsed.kind === 'bad') {
      this.counters.badFrames++;
      return this.sendTo(conn, encodeError(parsed.code, parsed.message), false);
    }
    const op = parsed.op;
    if (op.t === 'sub') this.subscribe(conn, op.topic);
    else if (op.t === 'unsub') this.unsubscribe(conn, op.topic);
    else this.publish(op.topic, JSON.stringify(op.data));
  }

  // `bytes` is passed by fan-out loops, which send one frame to thousands: measured once, not per receiver
  private sendTo(conn: ServerConn, frame: string | Uint8Array, isBinary: boolean, bytes?: number): void {
    if (conn.send(frame, isBinary) === 'dropped') {
      this.counters.backpressureDrops++;
      return;
    }
    this.counters.messagesOut++;
    this.counters.bytesOut += bytes ?? (typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength);
  }

  private subscribe(conn: ServerConn, topic: string): void {
    if (conn.topics.has(topic)) return;
    conn.topics.add(topic);
    conn.subscribe(topic);
    let set = this.subscribers.get(topic);
    if (!set) this.subscribers.set(topic, (set = new Set()));
    set.add(conn);
  }

  private unsubscribe(conn: ServerConn, topic: string): void {
    if (!conn.topics.delete(topic)) return;
    conn.unsubscribe(topic);
    this.subscribers.get(topic)?.delete(conn);
  }

  /** Stamps the next `seq` of a topic and fans the message out; returns the seq. */
  publish(topic: string, dataJson: string): number {
    const seq = (this.seq.get(topic) ?? 0) + 1;
    this.seq.set(topic, seq);
    const started = performance.now();
    const frame = encodeBroadcast(topic, seq, now(), dataJson);
    const receivers = this.subscribers.get(topic);
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

  /** Runs a `POST /broadcast`; returns the seq range it will use. */
  broadcast(request: BroadcastRequest, timers: Set<NodeJS.Timeout>): { firstSeq: number; lastSeq: number } {
    const dataJson = JSON.stringify('x'.repeat(request.size));
    const firstSeq = (this.seq.get(request.topic) ?? 0) + 1;
    const lastSeq = firstSeq + request.count - 1;
    if (request.intervalMs <= 0) {
      for (let i = 0; i < request.count; i++) this.publish(request.topic, dataJson);
      return { firstSeq, lastSeq };
    }
    let sent = 0;
    const tick = (): void => {
      this.publish(request.topic, dataJson);
      if (++sent < request.count) {
        const timer = setTimeout(() => { timers.delete(timer); tick(); }, request.intervalMs);
        timers.add(timer);
      }
    };
    tick();
    return { firstSeq, lastSeq };
  }

  /** Drops `percent` of the open connections, chosen at random; returns how many. */
  kill(percent: number, mode: KillMode): number {
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

  stats(): ServerStats {
    const subscribers: Record<string, number> = {};
    for (const [topic, set] of this.subscribers) if (set.size > 0) subscribers[topic] = set.size;
    const loop = this.monitor.figures;
    return {
      engine: this.engine?.name ?? 'ws',
      native: this.engine?.native ?? false,
      uptimeMs: performance.now() - this.startedAt,
      connections: this.conns.size,
      ...this.counters,
      subscribers,
      seq: Object.fromEntries(this.seq),
      loop: { delayP50Ms: loop.delayP50Ms, delayP99Ms: loop.delayP99Ms, delayMaxMs: loop.delayMaxMs, utilization: loop.utilization },
      cpu: { userPercent: loop.userPercent, systemPercent: loop.systemPercent },
      rssBytes: this.rss(),
      config: { ...this.config },
    };
  }

  private lastRss = 0;
  // reading RSS opens /proc/self/stat, which fails with EMFILE when the fd table is full
  private rss(): number {
    try {
      this.lastRss = process.memoryUsage.rss();
    } catch {
      // keep the last known value
    }
    return this.lastRss;
  }

  stop(): void {
    this.monitor.stop();
  }
}
