/**
 * Protocol presets behind one codec interface, so the fleet, chaos, reconnect policies,
 * broadcasts, fan-out latency, seq gaps and metrics work the same whatever a target speaks:
 * the connect steps after the upgrade (a user counts as open when the protocol says it is
 * ready), keepalive duties, how an application message is encoded, and how a frame decodes
 * into events. A codec is shared by the fleet; per-user state is one small object. Each
 * preset's codec is loaded by presets.ts.
 */
import type { HeldCause } from '../measure/held-bytes.ts';

/** The presets. */
export const PROTOCOLS = ['raw', 'socketio', 'graphql-ws', 'mqtt'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** A frame to send: text or binary. */
export type OutFrame = string | Buffer;

/** What one received frame means. */
export type CodecEvent =
  /** The protocol's connect sequence is done: the user is open. */
  | { kind: 'ready' }
  /** Frames the protocol requires in answer (a pong). */
  | { kind: 'reply'; frames: OutFrame[] }
  /** The server acknowledged a subscription (MQTT SUBACK) to these topics: the user is owed their messages from now. */
  | { kind: 'subscribed'; topics: string[] }
  /** The server acknowledged message `id` (a Socket.IO ack): a request/response probe's answer. */
  | { kind: 'ack'; id: number }
  /**
   * An application message; `text` is its payload as the target sent it
   * (JSON for fan-out and checks); `topic` when the protocol names one.
   */
  | { kind: 'message'; text: string; topic?: string }
  /**
   * The server refused or broke the protocol: `errorClass` is stable
   * (`socketio.connect_error`), `message` the server's words.
   */
  | { kind: 'error'; errorClass: string; message: string; isFatal: boolean };

/** A codec's per-user state: opaque to the fleet. */
export type CodecState = object | null;

/** One protocol. */
export interface Codec {
  readonly name: ProtocolName;
  /** The URL to dial for a base URL (Socket.IO's path and query). */
  url(base: string): string;
  /** Subprotocols to offer (the preset's, then the user's). */
  protocols(given: string[]): string[];
  /** State for a user about to connect. */
  init(): CodecState;
  /**
   * Frames to send right after the upgrade; `connect` is the rendered connect
   * payload template (or null). Returns whether the user is ready at once.
   */
  onUpgrade(state: CodecState, connect: string | null): { frames: OutFrame[]; isReady: boolean };
  /**
   * Decodes one received frame. Never throws. `data` may be lent (valid only
   * during the call): a codec that keeps bytes across frames copies them.
   */
  decode(state: CodecState, data: Buffer, isBinary: boolean): CodecEvent[];
  /**
   * Encodes an application message from its rendered template (see each preset for
   * the form); `ackId` asks the server to acknowledge it, where the protocol can.
   */
  encode(state: CodecState, text: string, ackId?: number): OutFrame[];
  /** The stable class a frame this preset cannot read counts under (`socketio.bad_packet`); the user goes on. */
  readonly badPacketClass: string;
  /**
   * Present on a preset that holds bytes across frames: its states are then `HeldPartial`s
   * (held-bytes.ts) the fleet's budget reads after every frame, and this drops what one holds
   * (over the budget, past the deadline), as the events that follow for its user.
   */
  dropHeld?(state: CodecState, cause: HeldCause): CodecEvent[];
  /** Whether the protocol acknowledges messages itself (probes can then be timed by `reply ack`). */
  readonly hasAcks?: boolean;
  /** A frame every open user must send this often (MQTT's PINGREQ), or null. */
  readonly keepalive: { everyMs: number; frame: OutFrame } | null;
}

/** Options of a preset. */
export interface CodecOptions {
  /** MQTT keepalive, s. @default 30 */
  keepaliveS?: number;
  /** MQTT protocol version 4 (3.1.1) or 5. @default 4 */
  mqttVersion?: 4 | 5;
  /** Socket.IO namespace. @default '/' */
  namespace?: string;
  /**
   * Largest MQTT packet a user takes, bytes (the run's `--max-payload`);
   * larger is refused before it is held. @default 1048576
   */
  maxPacketBytes?: number;
}
