/**
 * Socket.IO v4 over the WebSocket transport (`/socket.io/?EIO=4&transport=websocket`): the
 * server's Engine.IO open packet, then a namespace connect with the auth payload template
 * (`connect {"token":"{{row.token}}"}`); the user is open at the CONNECT answer. Engine.IO
 * pings are answered with pongs (otherwise the server drops the user after its ping timeout).
 * Messages are `EVENT [JSON]` (`chat {"text":"hi"}` emits `chat`); a received event's first
 * argument is its payload for fan-out and checks, its name the topic. Packets are read and
 * written with the official engine.io-parser and socket.io-parser: one shared decoder for text
 * packets, which decode at once; a binary event (its header, then its attachments as binary
 * frames of this user only) gets a decoder of the user's own until its last attachment.
 */
import { decodePacket, encodePacket } from 'engine.io-parser';
import { Decoder, Encoder, PacketType } from 'socket.io-parser';
import { MAX_TARGET_JSON_DEPTH, nestsDeeperThan } from '../target-json.ts';
import type { Codec, CodecEvent, CodecOptions, OutFrame } from './codec.ts';

type Packet = { type: number; data?: unknown; id?: number };

interface State {
  connect: string | null;
  /** This user's decoder while a binary event's attachments arrive, and what it decoded. */
  binary: Decoder | null;
  binaryDone: Packet | null;
  /** Bytes of the attachments taken so far. */
  binaryBytes: number;
}

// what one binary event may bring: a server announcing more is refused, not buffered for
const MAX_ATTACHMENTS = 256;
const MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024;

const BAD_PACKET = 'socketio.bad_packet';

/** A packet the preset cannot take: counted as socketio.bad_packet, and the user stays. */
function badPacket(message: string): CodecEvent[] {
  return [{ kind: 'error', errorClass: BAD_PACKET, message, isFatal: false }];
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

/** The Socket.IO codec for a namespace. */
export function socketIoCodec(options: CodecOptions): Codec {
  const nsp = options.namespace ?? '/';
  const connectFrame = (auth: string | null): string => {
    const packet = { type: PacketType.CONNECT, nsp, ...(auth ? { data: parseJson(auth) } : {}) };
    return engineMessage(String(encoder.encode(packet)[0]));
  };
  const socketPacket = (text: string, state: State): CodecEvent[] => {
    const type = text.charCodeAt(0) - 48;
    if (state.binary) {
      // a text packet before the last attachment: the binary event is broken off
      state.binary.destroy();
      state.binary = null;
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
      return badPacket(`a binary event announcing ${Number.isNaN(attachments) ? 'no count of' : attachments} attachments (at most ${MAX_ATTACHMENTS})`);
    state.binaryBytes = 0;
    const own = new Decoder();
    own.on('decoded', (packet: Packet) => {
      state.binaryDone = packet;
    });
    try {
      own.add(text);
    } catch (error) {
      return badPacket((error as Error).message);
    }
    state.binary = own;
    return [];
  };
  const attachment = (data: Buffer, state: State): CodecEvent[] => {
    if (!state.binary) return badPacket('a binary frame outside a binary event');
    state.binaryDone = null;
    state.binaryBytes += data.length;
    if (state.binaryBytes > MAX_ATTACHMENT_BYTES) {
      state.binary.destroy();
      state.binary = null;
      return badPacket(`a binary event's attachments passed ${MAX_ATTACHMENT_BYTES} bytes`);
    }
    try {
      // the decoder keeps attachments until the last, and a frame may be lent: a copy
      state.binary.add(Buffer.from(data));
    } catch (error) {
      state.binary.destroy();
      state.binary = null;
      return badPacket((error as Error).message);
    }
    const packet = state.binaryDone as Packet | null;
    if (!packet) return [];
    state.binary = null;
    state.binaryDone = null;
    return fromPacket(packet);
  };
  const fromPacket = (packet: Packet): CodecEvent[] => {
    switch (packet.type) {
      case PacketType.CONNECT:
        return [{ kind: 'ready' }];
      case PacketType.CONNECT_ERROR: {
        const data = packet.data as { message?: string } | string | undefined;
        return [
          { kind: 'error', errorClass: 'socketio.connect_error', message: typeof data === 'string' ? data : (data?.message ?? 'refused'), isFatal: true },
        ];
      }
      case PacketType.DISCONNECT:
        return [{ kind: 'error', errorClass: 'socketio.disconnect', message: 'the server disconnected the namespace', isFatal: true }];
      case PacketType.ACK:
        if (typeof packet.id === 'number') return [{ kind: 'ack', id: packet.id }];
        return [];
      case PacketType.EVENT: {
        const args = Array.isArray(packet.data) ? packet.data : [];
        const [event, payload] = [String(args[0]), args[1]];
        // a binary argument reads as {"type":"Buffer","data":[...]} in checks and paths
        return [{ kind: 'message', text: typeof payload === 'string' ? payload : JSON.stringify(payload ?? null), topic: event }];
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
    init: (): State => ({ connect: null, binary: null, binaryDone: null, binaryBytes: 0 }),
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
          return [{ kind: 'error', errorClass: 'socketio.closed', message: 'the server closed the Engine.IO session', isFatal: true }];
        case 'error':
          return badPacket(String(packet.data ?? 'unparsable packet'));
        default:
          return [];
      }
    },
    badPacketClass: BAD_PACKET,
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
