/**
 * A virtual user: one connection (the lean client, or `ws` with compression) and its state machine
 * `pending → connecting → open → closing → closed`, and after a drop `waiting → connecting`.
 *
 * A VU never throws into the engine: every failure is classified and reported to its host.
 * The lean client calls its user directly; `ws`'s listeners are module-level functions that
 * find their VU through a symbol on the socket, so ten thousand VUs carry no closures.
 */
import WebSocket from 'ws';
import { SERVER_KILL_REASON } from '../../../target-server/contract/wire.ts';
import { classifyClose, classifyError } from '../measure/classify-error.ts';
import { LeanClient, type LeanOptions, type SocketSink } from './lean-client.ts';
import type { SendBudget } from './send-budget.ts';
import type { TopicEntry } from '../measure/broadcast-tracker.ts';
import type { TopicHolder, UserTopic } from '../measure/topic-reach.ts';
import type { TopicLru } from '../measure/topic-lru.ts';

/** Where a VU is in its life. */
export type VuState = 'pending' | 'connecting' | 'open' | 'closing' | 'closed' | 'waiting';

/**
 * Why a connection ended on purpose (so it is not counted as an error):
 * our own chaos, a removal, the end, or the bundled server's chaos.
 */
export type EndReason = 'kill' | 'remove' | 'stop' | 'server-kill' | 'churn';

/** What a VU reports to; the fleet implements it. */
export interface VuHost {
  /** What a user may hold unsent (see send-budget.ts). */
  readonly options: { readonly sendBudget: SendBudget };
  /** The URL this user connects to (users spread over several targets round-robin). */
  urlFor(vu: VirtualUser): string;
  /** Subprotocols and client options for this user (its row of `users from FILE` can fill them in). */
  protocolsFor(vu: VirtualUser): string[];
  optionsFor(vu: VirtualUser): WebSocket.ClientOptions;
  setState(vu: VirtualUser, from: VuState, to: VuState): void;
  onAttempt(vu: VirtualUser): void;
  onOpen(vu: VirtualUser, handshakeMs: number): void;
  /** The upgrade is done: the protocol's first frames go out; true when the user is open at once. */
  onUpgrade(vu: VirtualUser): boolean;
  onFailure(vu: VirtualUser, errorClass: string): void;
  /** An open connection ended; `errorClass` is null when the engine ended it on purpose. */
  onDrop(vu: VirtualUser, errorClass: string | null, reason: EndReason | null): void;
  /** `data` may be lent by the connection: valid until the call returns. */
  onMessage(vu: VirtualUser, data: Buffer, isBinary: boolean): void;
  /** The target's own words for a failure of `errorClass` (a close reason here); called before `onFailure`/`onDrop`. */
  onTargetWords?(errorClass: string, words: Buffer | string): void;
}

const VU = Symbol('sockstorm.vu');
type TaggedSocket = WebSocket & { [VU]: VirtualUser };

/** What a user holds of its connection: a lean client, or a `ws` socket when compression is on. */
export interface Connection {
  readonly readyState: number;
  /** Bytes written but not yet taken by the kernel. */
  readonly bufferedAmount: number;
  send(data: string | Buffer): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  /** Drops with a TCP RST where it can (the lean client); `ws` has none and terminates. */
  reset?(): void;
  pause(): void;
  resume(): void;
}

/** `SOCKSTORM_CLIENT=ws` dials every user through `ws` (to compare, or to rule the lean client out). */
const ALWAYS_WS = process.env.SOCKSTORM_CLIENT === 'ws';

function now(): number {
  return performance.now();
}

function onOpen(this: WebSocket): void {
  (this as TaggedSocket)[VU].socketOpen();
}

function onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  (this as TaggedSocket)[VU].socketMessage(data, isBinary);
}

function onError(this: WebSocket, error: Error & { code?: string }): void {
  (this as TaggedSocket)[VU].socketError(error);
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  (this as TaggedSocket)[VU].socketClose(code, reason);
}

// ws is told not to answer pings itself (autoPong: false), so its pongs keep the same budget
function onPing(this: WebSocket, data: Buffer): void {
  if ((this as TaggedSocket)[VU].socketPing()) this.pong(data);
}

/** One virtual user. */
export class VirtualUser implements SocketSink, TopicHolder {
  state: VuState = 'pending';
  ws: Connection | null = null;
  attempt = 0;
  connectStartedAtMs = 0;
  openedAtMs = 0;
  droppedAtMs = 0;
  pendingError: string | null = null;
  endReason: EndReason | null = null;
  isRetired = false;
  isSlowed = false;
  retryTimer: NodeJS.Timeout | null = null;
  /** Ends the session after its lifetime (`session D`). */
  sessionTimer: NodeJS.Timeout | null = null;
  /** The protocol codec's state for this connection. */
  codecState: object | null = null;
  // Per topic: the last `seq` seen, kept across reconnects so gaps count what was missed, and
  // since when the user is ready for it (topic-reach.ts); the first topic in these fields (most
  // runs have one, and a table per user costs about 200 B), others in a bounded table
  seqEntry: TopicEntry | null = null;
  seqLast = 0;
  hasSeq = false;
  readyStamp = 0;
  hasReceived = false;
  moreTopics: TopicLru<UserTopic> | null = null;
  wasCut = false;

  constructor(
    readonly id: number,
    readonly host: VuHost,
    readonly localAddress?: string,
  ) {}

  move(to: VuState): void {
    const from = this.state;
    this.state = to;
    this.host.setState(this, from, to);
  }

  /** Starts a handshake; failures arrive as `onFailure`, never as a throw. */
  connect(): void {
    this.retryTimer = null;
    this.pendingError = null;
    this.endReason = null;
    this.connectStartedAtMs = now();
    this.openedAtMs = 0;
    this.move('connecting');
    this.host.onAttempt(this);
    const base = this.host.optionsFor(this);
    const options = this.localAddress ? { ...base, localAddress: this.localAddress } : base;
    try {
      const url = this.host.urlFor(this);
      const protocols = this.host.protocolsFor(this);
      if (options.perMessageDeflate || ALWAYS_WS) {
        const ws = new WebSocket(url, protocols, options) as TaggedSocket;
        ws[VU] = this;
        ws.on('open', onOpen);
        ws.on('message', onMessage);
        ws.on('error', onError);
        ws.on('close', onClose);
        ws.on('ping', onPing);
        this.ws = ws;
      } else this.ws = new LeanClient(url, protocols, options as LeanOptions, this);
    } catch (error) {
      this.move('closed');
      this.host.onFailure(this, classifyError(error as Error));
    }
  }

  // ---- SocketSink: what the connection tells its user ----

  socketOpen(): void {
    // a protocol with a connect sequence (Socket.IO, graphql-ws, MQTT) opens the user at its ack
    if (this.host.onUpgrade(this)) this.ready();
  }

  socketMessage(data: Buffer, isBinary: boolean): void {
    this.host.onMessage(this, data, isBinary);
  }

  socketPing(): boolean {
    return this.ws !== null && this.host.options.sendBudget.admits(this.ws.bufferedAmount, true);
  }

  socketError(error: Error & { code?: string }): void {
    if (this.pendingError === null) this.pendingError = classifyError(error);
  }

  socketClose(code: number, reason: Buffer): void {
    const wasOpen = this.openedAtMs > this.connectStartedAtMs;
    const errorClass = this.pendingError;
    this.ws = null;
    if (this.sessionTimer) {
      clearTimeout(this.sessionTimer);
      this.sessionTimer = null;
    }
    // the bundled server's kill is the tool's own cut: known before the user leaves `open`
    if (wasOpen && !this.endReason && code === 1001 && reason.toString() === SERVER_KILL_REASON)
      this.endReason = 'server-kill';
    this.move('closed');
    if (!wasOpen) {
      const failure = errorClass ?? (this.endReason ? 'aborted' : classifyClose(code));
      if (errorClass === null && !this.endReason && reason.length > 0) this.host.onTargetWords?.(failure, reason);
      this.host.onFailure(this, failure);
      return;
    }
    this.droppedAtMs = now();
    if (this.endReason) return this.host.onDrop(this, null, this.endReason);
    const drop = errorClass ?? classifyClose(code);
    if (errorClass === null && reason.length > 0) this.host.onTargetWords?.(drop, reason);
    this.host.onDrop(this, drop, null);
  }

  /** The protocol says the user is open (at the upgrade for raw WebSocket, at the connect ack otherwise). */
  ready(): void {
    if (this.state !== 'connecting') return;
    this.openedAtMs = now();
    this.attempt = 0;
    this.move('open');
    this.host.onOpen(this, this.openedAtMs - this.connectStartedAtMs);
  }

  /** The protocol failed this connection as `errorClass` (a refused connect, a broken packet). */
  fail(errorClass: string): void {
    if (!this.ws) return;
    this.pendingError ??= errorClass;
    this.ws.terminate();
  }

  /**
   * Sends protocol frames as they are, all or none; returns the bytes sent. Over the send budget
   * they are dropped and counted; `isControl` frames (replies, keepalives) have twice its room.
   */
  sendFrames(frames: ReadonlyArray<string | Buffer>, isControl = false): number {
    if (this.ws?.readyState !== 1 || !this.host.options.sendBudget.admits(this.ws.bufferedAmount, isControl)) return 0;
    let bytes = 0;
    for (const frame of frames) {
      this.ws.send(frame);
      bytes += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    }
    return bytes;
  }

  /** Gives up a handshake in progress as `errorClass` (a timeout the fleet's sweep found). */
  abort(errorClass: string): void {
    if (this.state !== 'connecting' || !this.ws) return;
    this.pendingError ??= errorClass;
    this.ws.terminate();
  }

  /** Sends a text frame if open and within the send budget; returns the bytes sent, 0 if not sent. */
  send(text: string): number {
    if (this.state !== 'open' || !this.ws || !this.host.options.sendBudget.admits(this.ws.bufferedAmount, false))
      return 0;
    this.ws.send(text);
    return Buffer.byteLength(text);
  }

  /** Ends the connection on purpose: `reset` drops TCP with an RST, without a close frame. */
  end(reason: EndReason, mode: 'reset' | 'close'): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      if (this.state === 'waiting') this.move('closed');
    }
    if (!this.ws) {
      if (this.state === 'pending') this.move('closed');
      return;
    }
    this.endReason = reason;
    // leave `open` at once, so counts and recovery see the cut now, not a tick later
    const wasOpen = this.state === 'open';
    if (wasOpen) this.move('closing');
    if (!wasOpen) this.ws.terminate();
    else if (mode === 'reset' && this.ws.reset) this.ws.reset();
    else if (mode === 'reset') this.ws.terminate();
    else
      this.ws.close(
        reason === 'kill' ? 1001 : 1000,
        reason === 'kill' ? 'chaos' : reason === 'churn' ? 'session end' : 'sockstorm done',
      );
  }

  /** Pauses or resumes reading from the socket (a slow consumer). */
  setSlow(isSlow: boolean): void {
    this.isSlowed = isSlow;
    if (!this.ws) return;
    if (isSlow) this.ws.pause();
    else this.ws.resume();
  }
}
