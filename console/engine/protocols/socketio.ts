/**
 * Socket.IO v4 over the WebSocket transport (`/socket.io/?EIO=4&transport=websocket`): the
 * server's Engine.IO open packet, then a namespace connect with the auth payload template
 * (`connect {"token":"{{row.token}}"}`); the user is open at the CONNECT answer. Engine.IO
 * pings are answered with pongs (otherwise the server drops the user after its ping timeout).
 * Messages are `EVENT [JSON]` (`chat {"text":"hi"}` emits `chat`); a received event's first
 * argument is its payload for fan-out and checks, its name the topic. Packets are read and
 * written with the official engine.io-parser and socket.io-parser: one shared decoder for text
 * packets, which decode at once; a binary event (its header, then its attachments as binary
 * frames of this user only) gets a decoder of the user's own until its last attachment. What
 * that decoder holds is under the fleet's held-bytes budget and deadline; a dropped event's
 * attachments still to come are skipped, and the user goes on (frames delimit them).
 */
import { decodePacket, encodePacket } from 'engine.io-parser';
import { Decoder, Encoder, PacketType } from 'socket.io-parser';
import type { HeldCause, HeldPartial } from '../measure/held-bytes.ts';
import { MAX_TARGET_JSON_DEPTH, nestsDeeperThan } from './target-json.ts';
import type { Codec, CodecEvent, CodecOptions, OutFrame } from './codec.ts';

type Packet = { type: number; data?: unknown; id?: number };

interface State extends HeldPartial {
  connect: string | null;
  /** This user's decoder while a binary event's attachments arrive, and what it decoded. */
  binary: Decoder | null;
  binaryDone: Packet | null;
  /** Attachments the binary event in progress still waits for. */
  attachmentsDue: number;
  /** Attachments of a dropped binary event still to come: skipped, not counted again. */
  attachmentsSkipped: number;
}

// what one binary event may bring (socket.io-parser's own bound, given to it here): a server
// announcing more is refused, not buffered for; the bytes are bounded by the held-bytes budget
const MAX_ATTACHMENTS = 10;
const HELD_CLASS: Record<HeldCause, string> = { budget: 'socketio.held_budget', deadline: 'socketio.held_deadline' };

const BAD_PACKET = 'socketio.bad_packet';

/** A packet the preset cannot take: counted as socketio.bad_packet, and the user stays. */
function badPacket(message: string): CodecEvent[] {
  return [{ kind: 'error', errorClass: BAD_PACKET, message, isFatal: false }];
}

/** Ends the binary event in progress, and what it held with it; `skip` of its attachments are still to come. */
function endBinary(state: State, skip: number): void {
  state.binary?.destroy();
  state.binary = null;
  state.binaryDone = null;
  state.heldBytes = 0;
  state.attachmentsSkipped = skip;
}

const encoder = new Encoder();
const decoder = new Decoder();
let decoded: Packet | null = null;
decoder.on('decoded', (packet: Packet) => {
  decoded = packet;
});

function engineMessage(data: string): string {
  let out = '';
  encodePacket({ type: 'message', data }, false, (encoded) => {
    out = String(encoded);
  });
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A binary argument reads as `{"type":"Buffer","base64":"…"}` in checks and paths. Buffer's own
 * JSON form (`"data":[7,7,…]`) is four times the bytes, and the fleet parses the payload again:
 * 200 users given three 70 KB events spent five seconds of the generator's loop on it, long
 * enough for the server to drop them all for late pongs. The value was decoded from a packet
 * under the depth bound, so the walk is bounded too.
 */
function binaryAsBase64(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { type: 'Buffer', base64: value.toString('base64') };
  if (value instanceof ArrayBuffer) return { type: 'Buffer', base64: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(binaryAsBase64);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = binaryAsBase64(child);
    return out;
  }
  return value;
}

/** The Socket.IO codec for a namespace. */
export function socketIoCodec(options: CodecOptions): Codec {
  const nsp = options.namespace ?? '/';
  const connectFrame = (auth: string | null): string => {
    const packet = { type: PacketType.CONNECT, nsp, ...(auth ? { data: parseJson(auth) } : {}) };
    return engineMessage(String(encoder.encode(packet)[0]));
  };
  const socketPacket = (text: string, state: State): CodecEvent[] => {
    const type = text.charCodeAt(0) - 48;
    state.attachmentsSkipped = 0;
    if (state.binary) {
      // a text packet before the last attachment: the binary event is broken off
      endBinary(state, 0);
      const rest = socketPacket(text, state);
      return [...badPacket('a binary event was cut off by a text packet before its attachments'), ...rest];
    }
    // the parser's JSON.parse takes any depth, but an event's payload is serialised again
    if (nestsDeeperThan(text)) return badPacket(`a packet nested deeper than ${MAX_TARGET_JSON_DEPTH} levels`);
    if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) return binaryHeader(text, state);
    decoded = null;
    try {
      decoder.add(text);
    } catch (error) {
      // the decoder is shared by every user: whatever it was in the middle of is dropped
      decoder.destroy();
      return badPacket((error as Error).message);
    }
    const packet = decoded as Packet | null;
    if (!packet) {
      // the shared decoder must never wait for attachments on behalf of all users
      decoder.destroy();
      return badPacket('a packet the decoder did not finish');
    }
    return fromPacket(packet);
  };
  // a binary event's header: this user's own decoder takes its attachments
  const binaryHeader = (text: string, state: State): CodecEvent[] => {
    const attachments = Number(/^[56](\d+)-/.exec(text)?.[1] ?? Number.NaN);
    if (!(attachments >= 1 && attachments <= MAX_ATTACHMENTS))
      return badPacket(
        `a binary event announcing ${Number.isNaN(attachments) ? 'no count of' : attachments} ` +
          `attachments (at most ${MAX_ATTACHMENTS})`,
      );
    const own = new Decoder({ maxAttachments: MAX_ATTACHMENTS });
    own.on('decoded', (packet: Packet) => {
      state.binaryDone = packet;
    });
    try {
      own.add(text);
    } catch (error) {
      return badPacket((error as Error).message);
    }
    state.binary = own;
    state.attachmentsDue = attachments;
    // the header (its JSON, with placeholders) is held too, until the last attachment
    state.heldBytes = text.length;
    state.heldSinceMs = performance.now();
    return [];
  };
  const attachment = (data: Buffer, state: State): CodecEvent[] => {
    if (!state.binary) {
      if (state.attachmentsSkipped === 0) return badPacket('a binary frame outside a binary event');
      state.attachmentsSkipped--;
      return [];
    }
    state.binaryDone = null;
    state.heldBytes += data.length;
    state.attachmentsDue--;
    try {
      // the decoder keeps attachments until the last, and a frame may be lent: a copy
      state.binary.add(Buffer.from(data));
    } catch (error) {
      endBinary(state, 0);
      return badPacket((error as Error).message);
    }
    const packet = state.binaryDone as Packet | null;
    if (!packet) return [];
    endBinary(state, 0);
    return fromPacket(packet);
  };
  const fromPacket = (packet: Packet): CodecEvent[] => {
    switch (packet.type) {
      case PacketType.CONNECT:
        return [{ kind: 'ready' }];
      case PacketType.CONNECT_ERROR: {
        const data = packet.data as { message?: string } | string | undefined;
        return [
          {
            kind: 'error',
            errorClass: 'socketio.connect_error',
            message: typeof data === 'string' ? data : (data?.message ?? 'refused'),
            isFatal: true,
          },
        ];
      }
      case PacketType.DISCONNECT:
        return [
          {
            kind: 'error',
            errorClass: 'socketio.disconnect',
            message: 'the server disconnected the namespace',
            isFatal: true,
          },
        ];
      case PacketType.ACK:
        if (typeof packet.id === 'number') return [{ kind: 'ack', id: packet.id }];
        return [];
      case PacketType.EVENT: {
        const args = Array.isArray(packet.data) ? packet.data : [];
        const [event, payload] = [String(args[0]), args[1]];
        return [
          {
            kind: 'message',
            text: typeof payload === 'string' ? payload : JSON.stringify(binaryAsBase64(payload ?? null)),
            topic: event,
          },
        ];
      }
      default:
        return [];
    }
  };
  return {
    name: 'socketio',
    url(base) {
      const url = new URL(base);
      if (url.pathname === '/' || url.pathname === '') url.pathname = '/socket.io/';
      url.searchParams.set('EIO', '4');
      url.searchParams.set('transport', 'websocket');
      return url.toString();
    },
    protocols: (given) => given,
    init: (): State => ({
      connect: null,
      binary: null,
      binaryDone: null,
      attachmentsDue: 0,
      attachmentsSkipped: 0,
      heldBytes: 0,
      heldSinceMs: 0,
    }),
    onUpgrade(state, connect) {
      // the server speaks first (the open packet); the namespace connect answers it
      (state as State).connect = connect;
      return { frames: [], isReady: false };
    },
    decode(state, data, isBinary) {
      if (isBinary) return attachment(data, state as State);
      const packet = decodePacket(data.toString('utf8'));
      switch (packet.type) {
        case 'open':
          return [{ kind: 'reply', frames: [connectFrame((state as State).connect)] }];
        case 'ping':
          return [{ kind: 'reply', frames: ['3'] }];
        case 'message':
          return socketPacket(String(packet.data), state as State);
        case 'close':
          return [
            {
              kind: 'error',
              errorClass: 'socketio.closed',
              message: 'the server closed the Engine.IO session',
              isFatal: true,
            },
          ];
        case 'error':
          return badPacket(String(packet.data ?? 'unparsable packet'));
        default:
          return [];
      }
    },
    badPacketClass: BAD_PACKET,
    dropHeld(state, cause) {
      const s = state as State;
      endBinary(s, s.attachmentsDue);
      const message =
        cause === 'budget'
          ? "a binary event over the fleet's held-bytes budget"
          : 'a binary event not finished within the held-bytes deadline';
      return [{ kind: 'error', errorClass: HELD_CLASS[cause], message, isFatal: false }];
    },
    hasAcks: true,
    encode(_, text, ackId) {
      const space = text.indexOf(' ');
      const event = space < 0 ? text : text.slice(0, space);
      const args = space < 0 ? [event] : [event, parseJson(text.slice(space + 1))];
      return encoder
        .encode({ type: PacketType.EVENT, nsp, data: args, ...(ackId === undefined ? {} : { id: ackId }) })
        .map((packet: unknown): OutFrame => engineMessage(String(packet)));
    },
    keepalive: null,
  };
}
