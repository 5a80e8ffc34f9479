/**
 * The fleet: every virtual user, their counts by state, convergence of the fleet toward its
 * target at a connect rate with bounded handshakes in flight, reconnects by policy, and the
 * chaos actions that cut users away. It reports into {@link Metrics}, the recovery tracker
 * and the broadcast tracker; it knows nothing of snapshots or the UI. What users receive is
 * read by its receive half, fleet-receive.ts.
 */
import type WebSocket from 'ws';
import { DEFAULT_RECONNECT_POLICY, reconnectDelayMs } from '../users/reconnect-policy.ts';
import type { ReconnectPolicy, VictimChoice } from '../commands.ts';
import type { BroadcastTracker } from '../measure/broadcast-tracker.ts';
import { epochNow } from '../../../target-server/contract/clock.ts';
import type { FramePaths } from '../users/frame-decoder.ts';
import { HeldBytes, type HeldLimits } from '../measure/held-bytes.ts';
import type { Codec } from '../protocols/codec.ts';
import { UserSession } from '../users/session.ts';
import type { Metrics } from '../measure/metrics.ts';
import type { RecoveryTracker } from '../measure/recovery.ts';
import { chooseVictims, shareOf } from '../users/victims.ts';
import { dialSources } from '../users/sources.ts';
import { TopicReach } from '../measure/topic-reach.ts';
import { VirtualUser, type EndReason, type VuHost, type VuState } from '../users/virtual-user.ts';
import { FleetReceiver } from './fleet-receive.ts';

/** Counts of users by state. */
export type StateCounts = Record<VuState, number>;

/** What the fleet is built with. */
export interface FleetOptions {
  urls: string[];
  protocols: string[];
  clientOptions: WebSocket.ClientOptions;
  /** Connect rate, users per second. */
  ratePerSec: number;
  /** Most handshakes pending at once. */
  maxInFlight: number;
  localAddresses: string[];
  isBundled: boolean; // the bundled server: users dial from the loopback pool unless addresses are given (sources.ts)
  framePaths: FramePaths | null;
  /** A handshake (TCP connect to 101) that takes longer fails as handshake.timeout. */
  handshakeTimeoutMs: number;
  /** The fleet's budget and deadline for bytes its users hold across frames (held-bytes.ts). */
  held: HeldLimits;
  sendBudget: VuHost['options']['sendBudget'];
  /** Topics a user is subscribed to from its open (the bundled server's `?topics=`). @default [] */
  openTopics?: string[];
}

/** The fleet of virtual users. */
export class Fleet implements VuHost {
  protocols: string[];
  /** The per-user session: protocol codec, connect payload, on-open sends, lifetime, checks. */
  readonly session = new UserSession();
  private dialUrls: string[];
  private readonly dialFrom: string[]; // the given source addresses or the loopback pool (sources.ts)
  private keepaliveTimer: NodeJS.Timeout | null = null;
  readonly clientOptions: WebSocket.ClientOptions;
  readonly counts: StateCounts = { pending: 0, connecting: 0, open: 0, closing: 0, closed: 0, waiting: 0 };
  readonly vus = new Set<VirtualUser>();
  private readonly retiring = new Set<VirtualUser>();
  /** Users in a handshake, swept for timeouts while there are any. */
  private readonly connecting = new Set<VirtualUser>();
  private sweeper: NodeJS.Timeout | null = null;
  private queue: VirtualUser[] = [];
  private queueAt = 0;
  private nextId = 0;
  private allowance = 0;
  private lastTickAt = performance.now();
  private drained: (() => void) | null = null;
  target = 0;
  ratePerSec: number;
  maxInFlight: number;
  policy: ReconnectPolicy = DEFAULT_RECONNECT_POLICY;
  private readonly openPerSource = new Map<string, number>();
  /** The most users open at once so far: kept at each open, so users opened and gone between samples count. */
  peakOpen = 0;
  /** Users whose reading is paused (slow consumers), kept as a count so no snapshot walks the fleet. */
  slowedCount = 0;
  /** Called when handshakes queue for the connect rate: the owner calls `tick` until none is left. */
  onQueued: (() => void) | null = null;
  /** Bytes held across frames by every user (partial packets, attachments), under one budget. */
  readonly held: HeldBytes<VirtualUser>;
  onTargetWords: VuHost['onTargetWords']; // a close reason, a refusal's message: the owner logs the first of each class
  private readonly reach: TopicReach;
  private readonly receiver: FleetReceiver;

  constructor(
    readonly options: FleetOptions,
    private readonly metrics: Metrics,
    private readonly recovery: RecoveryTracker,
    broadcasts: BroadcastTracker,
  ) {
    this.protocols = options.protocols;
    this.dialUrls = options.urls;
    this.dialFrom = dialSources(options.urls, options.localAddresses, options.isBundled);
    this.clientOptions = options.clientOptions;
    this.ratePerSec = options.ratePerSec;
    this.maxInFlight = options.maxInFlight;
    this.held = new HeldBytes(options.held, (vu, cause) =>
      this.receiver.onEvents(vu, this.session.codec.dropHeld!(vu.codecState, cause), epochNow()),
    );
    this.reach = new TopicReach(broadcasts, metrics);
    this.receiver = new FleetReceiver(this, metrics, this.reach, options.framePaths);
  }

  // ---- VuHost: the hot paths count and record, nothing more ----

  urlFor(vu: VirtualUser): string {
    const urls = this.dialUrls;
    const url = urls.length === 1 ? urls[0]! : urls[vu.id % urls.length]!;
    return this.session.hasRows ? this.session.renderUrl(url, vu) : url;
  }

  protocolsFor(vu: VirtualUser): string[] {
    return this.session.isTemplated ? this.protocols.map((p) => this.session.render(p, vu)) : this.protocols;
  }

  optionsFor(vu: VirtualUser): WebSocket.ClientOptions {
    const headers = this.clientOptions.headers as Record<string, string> | undefined;
    if (!this.session.isTemplated || !headers) return this.clientOptions;
    return {
      ...this.clientOptions,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, this.session.render(v, vu)])),
    };
  }

  /** Speaks `codec` from the next connection on (the URLs, subprotocols and keepalive it needs). */
  setCodec(codec: Codec): void {
    this.session.codec = codec;
    this.dialUrls = this.options.urls.map((url) => codec.url(url));
    this.protocols = codec.protocols(this.options.protocols);
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
    const keepalive = codec.keepalive;
    if (keepalive) {
      // one timer for the fleet, not one per user
      this.keepaliveTimer = setInterval(() => {
        for (const vu of this.vus)
          if (vu.state === 'open') this.metrics.totals.bytesOut += vu.sendFrames([keepalive.frame], true);
      }, keepalive.everyMs);
      this.keepaliveTimer.unref();
    }
  }

  onUpgrade(vu: VirtualUser): boolean {
    const { codec, connect } = this.session;
    if (codec.name === 'raw') return true;
    vu.codecState = codec.init();
    const { frames, isReady } = codec.onUpgrade(
      vu.codecState,
      connect === null ? null : this.session.render(connect, vu),
    );
    this.metrics.totals.bytesOut += vu.sendFrames(frames, true);
    return isReady;
  }

  /** Sends an application message in the protocol's form (`messages`, `on open send`, the send trigger). */
  sendMessage(vu: VirtualUser, text: string, ackId?: number): number {
    if (vu.state !== 'open') return 0;
    const codec = this.session.codec;
    return codec.name === 'raw' ? vu.send(text) : vu.sendFrames(codec.encode(vu.codecState, text, ackId));
  }

  setState(vu: VirtualUser, from: VuState, to: VuState): void {
    if (to === 'connecting') {
      this.connecting.add(vu);
      this.sweeper ??= setInterval(
        () => this.sweepHandshakes(),
        Math.min(100, Math.max(10, this.options.handshakeTimeoutMs / 4)),
      );
    } else if (from === 'connecting') {
      this.connecting.delete(vu);
    } else if (from === 'open') {
      this.reach.leave(vu, vu.endReason !== null);
    }
    // users open per source address, kept as counts so no snapshot walks the fleet
    if (vu.localAddress !== undefined && (from === 'open' || to === 'open'))
      this.openPerSource.set(
        vu.localAddress,
        (this.openPerSource.get(vu.localAddress) ?? 0) + (to === 'open' ? 1 : -1),
      );
    this.counts[from]--;
    if (to === 'closed') this.held.forget(vu);
    if (vu.isRetired && to === 'closed') {
      this.retiring.delete(vu);
      if (this.retiring.size === 0) this.drained?.();
      return;
    }
    this.counts[to]++;
    if (to === 'open' && this.counts.open > this.peakOpen) this.peakOpen = this.counts.open;
  }

  onAttempt(): void {
    this.metrics.totals.attempts++;
    this.recovery.onAttempt(performance.now());
  }

  onOpen(vu: VirtualUser, handshakeMs: number): void {
    this.metrics.totals.connects++;
    this.metrics.record('connect', handshakeMs);
    if (vu.droppedAtMs > 0) this.metrics.record('reconnect', vu.openedAtMs - vu.droppedAtMs);
    if (vu.isSlowed) vu.setSlow(true);
    // a handshake slot just freed: start the next one now rather than at the next tick
    if (this.queueAt < this.queue.length) this.tick(performance.now());
    for (const topic of this.options.openTopics ?? []) this.reach.ready(vu, topic);
    const at = performance.now();
    this.recovery.onOpen(at);
    this.recovery.check(at, this.counts.open);
    const session = this.session;
    for (const template of session.onOpen)
      this.metrics.totals.bytesOut += this.sendMessage(vu, session.render(template, vu));
    const lifetime = session.lifetimeFor();
    if (lifetime > 0)
      vu.sessionTimer = setTimeout(() => {
        vu.sessionTimer = null;
        if (vu.state === 'open') vu.end('churn', 'close');
      }, lifetime);
  }

  onFailure(vu: VirtualUser, errorClass: string): void {
    if (vu.endReason || vu.isRetired) return;
    this.metrics.totals.failures++;
    this.metrics.countError(errorClass);
    this.recovery.onFailure();
    this.scheduleRetry(vu);
  }

  onDrop(vu: VirtualUser, errorClass: string | null, reason: EndReason | null): void {
    if (reason === 'remove' || reason === 'stop' || vu.isRetired) return;
    if (reason === 'churn') {
      // a session that ended as planned is churn, not a drop or an error: the user comes back by the policy
      this.metrics.totals.churn++;
      return this.scheduleRetry(vu);
    }
    this.metrics.totals.disconnects++;
    this.recovery.onDrop();
    if (reason === 'server-kill') this.metrics.totals.killed++;
    else if (reason === null && errorClass !== null) this.metrics.countError(errorClass);
    if (reason === null) this.recovery.onUnplannedDrop(performance.now(), epochNow(), this.counts.open, this.target);
    this.scheduleRetry(vu);
  }

  /** A frame a user received: the receive half reads it. */
  onMessage(vu: VirtualUser, data: Buffer, isBinary: boolean): void {
    this.receiver.onMessage(vu, data, isBinary);
  }

  // ---- convergence ----

  private sweepHandshakes(): void {
    const cutoff = performance.now() - this.options.handshakeTimeoutMs;
    for (const vu of this.connecting) if (vu.connectStartedAtMs <= cutoff) vu.abort('handshake.timeout');
    if (this.connecting.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private scheduleRetry(vu: VirtualUser): void {
    const delay = reconnectDelayMs(this.policy, vu.attempt++);
    if (delay === null) return;
    vu.move('waiting');
    vu.retryTimer = setTimeout(() => vu.connect(), delay);
  }

  /** Sets how many users the fleet holds: new ones queue for the connect rate, the newest go. */
  setTarget(count: number): void {
    this.target = Math.max(0, Math.floor(count));
    while (this.vus.size < this.target) {
      const id = this.nextId++;
      const addresses = this.dialFrom;
      const vu = new VirtualUser(id, this, addresses.length > 0 ? addresses[id % addresses.length] : undefined);
      this.vus.add(vu);
      this.counts.pending++;
      this.queue.push(vu);
    }
    if (this.vus.size > this.target) this.retire([...this.vus].slice(this.target).reverse(), 'remove');
    if (this.hasQueued) this.onQueued?.();
    // a smaller target can complete a recovery without any user opening
    this.recovery.check(performance.now(), this.counts.open);
  }

  /** Whether handshakes still wait for the connect rate. */
  get hasQueued(): boolean {
    return this.queueAt < this.queue.length;
  }

  private retire(victims: VirtualUser[], reason: EndReason): void {
    for (const vu of victims) {
      this.vus.delete(vu);
      vu.isRetired = true;
      if (vu.ws) this.retiring.add(vu);
      // a closed user (policy off) has no transition left to take it out of the counts
      const wasClosed = vu.state === 'closed';
      vu.end(reason, 'close');
      if (wasClosed) this.counts.closed--;
    }
  }

  /** Starts as many queued handshakes as the rate and the in-flight bound allow. */
  tick(at: number): void {
    const elapsed = Math.max(0, at - this.lastTickAt);
    this.lastTickAt = at;
    this.allowance = Math.min(this.allowance + (this.ratePerSec * elapsed) / 1000, Math.max(1, this.ratePerSec / 10));
    while (this.allowance >= 1 && this.counts.connecting < this.maxInFlight && this.queueAt < this.queue.length) {
      const vu = this.queue[this.queueAt++]!;
      if (vu.state !== 'pending' || vu.isRetired) continue;
      this.allowance--;
      vu.connect();
    }
    if (this.queueAt > 1024 && this.queueAt * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueAt);
      this.queueAt = 0;
    }
    this.recovery.check(at, this.counts.open);
  }

  /** Open users, oldest connection first. */
  openUsers(): VirtualUser[] {
    const open: VirtualUser[] = [];
    for (const vu of this.vus) if (vu.state === 'open') open.push(vu);
    return open.sort((a, b) => a.openedAtMs - b.openedAtMs);
  }

  /** Cuts P% of the open users; returns how many. */
  kill(percent: number, mode: 'reset' | 'close', victims: VictimChoice, count?: number): number {
    const open = this.openUsers();
    const chosen = chooseVictims(open, count ?? shareOf(open.length, percent), victims);
    for (const vu of chosen) vu.end('kill', mode);
    this.metrics.totals.killed += chosen.length;
    return chosen.length;
  }

  /** Pauses reading on P% of the open users for `forMs`; returns how many. */
  slow(percent: number, forMs: number, timers: Set<NodeJS.Timeout>): number {
    const open = this.openUsers().filter((vu) => !vu.isSlowed);
    const chosen = chooseVictims(open, shareOf(open.length, percent), 'random');
    for (const vu of chosen) vu.setSlow(true);
    this.slowedCount += chosen.length;
    const timer = setTimeout(() => {
      timers.delete(timer);
      for (const vu of chosen) vu.setSlow(false);
      this.slowedCount -= chosen.length;
    }, forMs);
    timers.add(timer);
    return chosen.length;
  }

  /** Users open per local address, when the fleet spreads over several. */
  openBySource(): Record<string, number> {
    return Object.fromEntries(
      this.options.localAddresses.map((address) => [address, this.openPerSource.get(address) ?? 0]),
    );
  }

  /** Ends every user: close frames first, terminate what is left after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.target = 0;
    this.retire([...this.vus], 'stop');
    this.held.stop();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    if (this.retiring.size === 0) return;
    const drained = new Promise<void>((resolve) => {
      this.drained = resolve;
    });
    const timer = setTimeout(() => {
      for (const vu of this.retiring) vu.end('stop', 'reset');
    }, graceMs);
    await drained;
    clearTimeout(timer);
  }
}
