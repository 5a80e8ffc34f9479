/**
 * MQTT 3.1.1 or 5 over WebSocket (the `mqtt` subprotocol), framed with mqtt-packet: CONNECT
 * with the connect payload template (`{"clientId":"u{{vu}}","username":…,"password":…}`), and
 * the user is open at a CONNACK that accepts it (a refusal is `mqtt.connack_<code>`). Every open
 * user sends PINGREQ at half the keepalive. Messages are `subscribe [qos0|qos1|qos2] TOPIC` or
 * `publish [qos0|qos1|qos2] TOPIC PAYLOAD`; a received PUBLISH's payload is its fan-out payload
 * and its topic the topic. QoS 1 is acknowledged (PUBACK); QoS 2 is the four-step handshake both
 * ways (PUBREC, PUBREL, PUBCOMP), and a QoS 2 PUBLISH the broker sends again before its PUBREL
 * is answered, not delivered twice. A parser per user: MQTT packets may span frames. What it
 * holds of a packet is under the fleet's held-bytes budget and deadline, and a packet announced
 * larger than `--max-payload` is refused at its header (MQTT 5 brokers are told the limit in
 * CONNECT). Either fails the user: a byte stream cut inside a packet cannot be resynchronised.
 */
import mqttPacket from 'mqtt-packet';
import type { HeldCause, HeldPartial } from '../measure/held-bytes.ts';
import type { Codec, CodecEvent, CodecOptions, OutFrame } from './codec.ts';

interface Packet {
  cmd: string;
  returnCode?: number;
  reasonCode?: number;
  granted?: number[];
  topic?: string;
  payload?: Buffer | string;
  qos?: number;
  messageId?: number;
}

interface State extends HeldPartial {
  parser: ReturnType<typeof mqttPacket.parser> | null;
  received: Packet[];
  nextId: number;
  /** QoS 2 messages delivered whose PUBREL has not come yet (created at the first). */
  awaitingRelease: Set<number> | null;
  /** Topics of SUBSCRIBEs whose SUBACK has not come yet, by packet id (created at the first). */
  subscribing: Map<number, string> | null;
}

// SUBSCRIBEs a broker leaves unanswered are forgotten past this many
const MAX_UNACKED_SUBSCRIBES = 64;

const ack = (cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', messageId: number): CodecEvent => ({
  kind: 'reply',
  frames: [mqttPacket.generate({ cmd, messageId } as never)],
});

const HELD_CLASS: Record<HeldCause, string> = { budget: 'mqtt.held_budget', deadline: 'mqtt.held_deadline' };

/** The remaining length the parser has read from the header of the packet it is in (-1 before it knows). */
function announcedBytes(parser: ReturnType<typeof mqttPacket.parser>): number {
  return (parser as unknown as { packet: { length: number } }).packet.length;
}

/** `qos0`, `qos1` or `qos2` as the word after the verb, or null. */
function qosWord(word: string | undefined): 0 | 1 | 2 | null {
  return word === 'qos0' ? 0 : word === 'qos1' ? 1 : word === 'qos2' ? 2 : null;
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The next packet id, 1..65535. */
function nextPacketId(s: State): number {
  s.nextId = (s.nextId % 65535) + 1;
  return s.nextId;
}

/** The MQTT codec. */
export function mqttCodec(options: CodecOptions): Codec {
  const version = options.mqttVersion ?? 4;
  const keepaliveS = options.keepaliveS ?? 30;
  const maxPacketBytes = options.maxPacketBytes ?? 1024 * 1024;
  const toEvents = (packet: Packet, s: State): CodecEvent[] => {
    switch (packet.cmd) {
      case 'connack': {
        const code = packet.reasonCode ?? packet.returnCode ?? 0;
        return code === 0
          ? [{ kind: 'ready' }]
          : [
              {
                kind: 'error',
                errorClass: `mqtt.connack_${code}`,
                message: `the broker refused the connect (code ${code})`,
                isFatal: true,
              },
            ];
      }
      case 'publish': {
        const message: CodecEvent = {
          kind: 'message',
          text: packet.payload === undefined ? '' : String(packet.payload),
          topic: packet.topic,
        };
        const id = packet.messageId;
        if (id === undefined || !packet.qos) return [message];
        if (packet.qos === 1) return [message, ack('puback', id)];
        // QoS 2: delivered once; the same id again before its PUBREL is the broker's retry
        s.awaitingRelease ??= new Set();
        if (s.awaitingRelease.has(id)) return [ack('pubrec', id)];
        s.awaitingRelease.add(id);
        return [message, ack('pubrec', id)];
      }
      case 'pubrel':
        s.awaitingRelease?.delete(packet.messageId!);
        return packet.messageId === undefined ? [] : [ack('pubcomp', packet.messageId)];
      case 'pubrec':
        // our QoS 2 publish was received: release it
        return packet.messageId === undefined ? [] : [ack('pubrel', packet.messageId)];
      case 'suback': {
        const topic = packet.messageId === undefined ? undefined : s.subscribing?.get(packet.messageId);
        if (topic !== undefined) s.subscribing!.delete(packet.messageId!);
        if ((packet.granted ?? []).some((g) => g >= 0x80))
          return [
            {
              kind: 'error',
              errorClass: 'mqtt.suback_refused',
              message: 'the broker refused a subscription',
              isFatal: false,
            },
          ];
        // a filter with a wildcard names no one topic: its topics are owed from their first receipt
        return topic !== undefined && !/[+#]/.test(topic) ? [{ kind: 'subscribed', topics: [topic] }] : [];
      }
      case 'disconnect':
        return [
          {
            kind: 'error',
            errorClass: 'mqtt.disconnect',
            message: `the broker disconnected (reason ${packet.reasonCode ?? 0})`,
            isFatal: true,
          },
        ];
      default:
        return [];
    }
  };
  return {
    name: 'mqtt',
    url: (base) => base,
    protocols: (given) => ['mqtt', ...given.filter((p) => p !== 'mqtt')],
    init: (): State => ({
      parser: null,
      received: [],
      nextId: 0,
      awaitingRelease: null,
      heldBytes: 0,
      heldSinceMs: 0,
      subscribing: null,
    }),
    onUpgrade(_, connect) {
      const fields = connect ? parseJson(connect) : {};
      const packet = {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: version,
        clean: true,
        keepalive: keepaliveS,
        clientId: String(fields.clientId ?? `sockstorm-${Math.random().toString(36).slice(2, 12)}`),
        ...(fields.username !== undefined ? { username: String(fields.username) } : {}),
        ...(fields.password !== undefined ? { password: Buffer.from(String(fields.password)) } : {}),
        // an MQTT 5 broker must not send a packet over this; one that does is refused at its header
        ...(version === 5 ? { properties: { maximumPacketSize: maxPacketBytes } } : {}),
      };
      return { frames: [mqttPacket.generate(packet as never)], isReady: false };
    },
    decode(state, data) {
      const s = state as State;
      if (!s.parser) {
        const parser = mqttPacket.parser({ protocolVersion: version });
        parser.on('packet', (packet) => {
          s.received.push(packet as unknown as Packet);
        });
        parser.on('error', () => {
          s.received.push({ cmd: 'error' });
        });
        s.parser = parser;
      }
      s.received.length = 0;
      // the parser keeps a packet that spans frames, and a frame may be lent (lean-client.ts): its own copy
      const held = s.parser.parse(Buffer.from(data));
      // a packet held since an earlier frame keeps its start; one begun after a packet ended in this frame starts now
      if (held > 0 && (s.heldBytes === 0 || s.received.length > 0)) s.heldSinceMs = performance.now();
      s.heldBytes = held;
      const events: CodecEvent[] = [];
      for (const packet of s.received) {
        if (packet.cmd === 'error')
          events.push({
            kind: 'error',
            errorClass: 'mqtt.bad_packet',
            message: 'a frame mqtt-packet cannot parse',
            isFatal: true,
          });
        else events.push(...toEvents(packet, s));
      }
      const announced = announcedBytes(s.parser);
      if (announced > maxPacketBytes) {
        s.parser = null;
        s.heldBytes = 0;
        const message = `a packet of ${announced} bytes, over the ${maxPacketBytes} of --max-payload`;
        events.push({ kind: 'error', errorClass: 'mqtt.packet_too_large', message, isFatal: true });
      }
      return events;
    },
    encode(state, text) {
      const s = state as State;
      const words = text.trim().split(/\s+/);
      if (words[0] === 'subscribe' && words[1]) {
        const subQos = qosWord(words[1]);
        const topic = subQos === null ? words[1] : words[2];
        if (topic) {
          const messageId = nextPacketId(s);
          s.subscribing ??= new Map();
          if (s.subscribing.size >= MAX_UNACKED_SUBSCRIBES) s.subscribing.delete(s.subscribing.keys().next().value!);
          s.subscribing.set(messageId, topic);
          return [
            mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos: subQos ?? 0 }] } as never),
          ];
        }
      }
      // `publish [qosN] TOPIC PAYLOAD`, or a bare `TOPIC PAYLOAD`: the payload is the rest as written
      const parts = /^(?:publish\s+)?(?:(qos[012])\s+)?(\S+)\s*([\s\S]*)$/.exec(text.trim());
      const qos = qosWord(parts?.[1]) ?? 0;
      const topic = parts?.[2] ?? 'default';
      const payload = parts?.[3] ?? '';
      const frame: OutFrame = mqttPacket.generate({
        cmd: 'publish',
        topic,
        payload,
        qos,
        retain: false,
        dup: false,
        ...(qos ? { messageId: nextPacketId(s) } : {}),
      } as never);
      return [frame];
    },
    badPacketClass: 'mqtt.bad_packet',
    dropHeld(state, cause) {
      const s = state as State;
      s.parser = null;
      s.heldBytes = 0;
      const message =
        cause === 'budget'
          ? "a partial packet over the fleet's held-bytes budget"
          : 'a packet not finished within the held-bytes deadline';
      return [{ kind: 'error', errorClass: HELD_CLASS[cause], message, isFatal: true }];
    },
    keepalive: { everyMs: (keepaliveS * 1000) / 2, frame: mqttPacket.generate({ cmd: 'pingreq' } as never) },
  };
}
