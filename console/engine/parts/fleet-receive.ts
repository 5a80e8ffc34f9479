/**
 * The fleet's receive half: what a frame a user received counts, records and answers. Raw
 * frames are read for a probe's echo or a fan-out's topic, seq and send time; a preset's go
 * through its codec, whose events are recorded here. Nothing a target sends reaches the
 * process's uncaught handlers: a frame that breaks a reader is a bad packet, and the user goes on.
 */
import { epochNow } from '../../../target-server/contract/clock.ts';
import type { HeldBytes, HeldPartial } from '../measure/held-bytes.ts';
import type { Metrics } from '../measure/metrics.ts';
import type { TopicReach } from '../measure/topic-reach.ts';
import type { CodecEvent } from '../protocols/codec.ts';
import { readTargetJson, TOO_DEEP } from '../protocols/target-json.ts';
import { decodeBuffer, decodeJson, type DecodedFrame, type FramePaths } from '../users/frame-decoder.ts';
import type { UserSession } from '../users/session.ts';
import type { VirtualUser, VuHost } from '../users/virtual-user.ts';

/** What the receive half reads of its fleet when a frame arrives (its owner sets `onTargetWords` after it is made). */
export interface ReceiveHost {
  readonly session: UserSession;
  readonly held: HeldBytes<VirtualUser>;
  onTargetWords: VuHost['onTargetWords'];
}

/** The receive half of the fleet (fleet.ts): the hot path counts and records, nothing more. */
export class FleetReceiver {
  constructor(
    private readonly host: ReceiveHost,
    private readonly metrics: Metrics,
    private readonly reach: TopicReach,
    private readonly framePaths: FramePaths | null,
  ) {}

  /** One frame a user received: counted, read once, and recorded as what it is. */
  onMessage(vu: VirtualUser, data: Buffer, isBinary: boolean): void {
    const at = epochNow();
    const totals = this.metrics.totals;
    totals.messagesIn++;
    totals.bytesIn += data.length;
    const session = this.host.session;
    // nothing a target sends reaches the process's uncaught handlers: a
    // frame that breaks a reader is a bad packet, and the user goes on
    try {
      if (session.codec.name !== 'raw') return this.onProtocolFrame(vu, data, isBinary, at);
      if (isBinary) return;
      if (session.checks.length > 0 || session.probe) return this.onText(vu, data.toString('utf8'), undefined, at);
      this.onFrame(vu, decodeBuffer(data, this.framePaths), data, at);
    } catch {
      this.onBadPacket();
    }
  }

  /**
   * A frame or message nothing can read: counted once under the
   * preset's class, a fail for every check; the user goes on.
   */
  private onBadPacket(): void {
    this.metrics.countError(this.host.session.codec.badPacketClass);
    this.host.session.failChecks();
  }

  private onProtocolFrame(vu: VirtualUser, data: Buffer, isBinary: boolean, at: number): void {
    const codec = this.host.session.codec;
    this.onEvents(vu, codec.decode(vu.codecState, data, isBinary), at);
    // what a packet spanning frames holds is under the fleet's budget: over it, this user's is dropped
    if (codec.dropHeld) this.host.held.note(vu, vu.codecState as HeldPartial);
  }

  /** What a codec made of a frame (or of a held packet it dropped): each event counted, recorded or answered. */
  onEvents(vu: VirtualUser, events: CodecEvent[], at: number): void {
    for (const event of events) {
      switch (event.kind) {
        case 'ready':
          vu.ready();
          break;
        case 'subscribed':
          for (const topic of event.topics) this.reach.ready(vu, topic);
          break;
        case 'reply':
          this.metrics.totals.bytesOut += vu.sendFrames(event.frames, true);
          break;
        case 'ack':
          this.recordProbe(this.host.session.matchProbeId(event.id), at);
          break;
        case 'error':
          this.host.onTargetWords?.(event.errorClass, event.message);
          if (event.isFatal) vu.fail(event.errorClass);
          else if (event.errorClass === this.host.session.codec.badPacketClass) this.onBadPacket();
          else this.metrics.countError(event.errorClass);
          break;
        case 'message':
          this.onText(vu, event.text, event.topic, at);
          break;
      }
    }
  }

  /**
   * A message's payload text, read once (under the depth bound):
   * checks, a probe's reply, or fan-out; `topic` is the protocol's own.
   */
  private onText(vu: VirtualUser, text: string, topic: string | undefined, at: number): void {
    const message = readTargetJson(text);
    if (message === TOO_DEEP) return this.onBadPacket();
    this.host.session.judge(text, message);
    if (this.host.session.probe && this.recordProbe(this.host.session.matchProbe(message), at)) return;
    const frame = decodeJson(message, this.framePaths);
    // the protocol's own topic (an MQTT topic, a Socket.IO event) when the payload does not name one
    const withTopic = frame.kind === 'fanout' && !this.framePaths?.topicPath && topic ? { ...frame, topic } : frame;
    this.onFrame(vu, withTopic, text, at);
  }

  /** A request/response probe's answer (a reply or an ack), timed from its intended send time. */
  private recordProbe(intended: number | null, at: number): boolean {
    if (intended === null) return false;
    this.metrics.totals.probesReceived++;
    this.metrics.record('rtt', at - intended);
    return true;
  }

  private onFrame(vu: VirtualUser, frame: DecodedFrame, data: Buffer | string, at: number): void {
    const totals = this.metrics.totals;
    if (frame.kind === 'other') return;
    if (frame.kind === 'bad') return this.onBadPacket();
    if (frame.kind === 'rtt') {
      totals.probesReceived++;
      this.metrics.record('rtt', at - frame.atMs);
      return;
    }
    // a user the tool cut is owed nothing more: what reaches it while it closes is not counted
    if (vu.state === 'open') this.reach.receive(vu, frame.topic, frame.seq, frame.tsMs, data, at);
  }
}
