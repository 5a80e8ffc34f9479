/**
 * A hostile target: one WebSocket server on loopback that plays each preset's handshake far
 * enough for users to be open (raw, Socket.IO, graphql-ws, MQTT, told apart by the path and the
 * subprotocol), then mixes what a bad server sends with a clean canary tick: JSON nested 10,000
 * deep, frames near and past the client's limit, partial packets that never finish, a new topic
 * name every time, control characters in topics and close reasons, binary garbage, and spells of
 * not reading at all. Seeded, so a failure can be replayed. Used by the hostile-target fuzz test
 * (seconds) and `npm run bench -- soak` (minutes).
 */
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { WebSocketServer, type WebSocket } from 'ws';
import { prng } from './fuzz-storm.ts';

/** What the target does besides the canary. */
export const HOSTILE_KINDS = [
  'nested',
  'huge',
  'oversize',
  'partial',
  'topics',
  'stall',
  'control',
  'garbage',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

export type Preset = 'raw' | 'socketio' | 'graphql-ws' | 'mqtt';

/** A running hostile target. */
export interface HostileTarget {
  /** The URL for raw, graphql-ws and MQTT users (Socket.IO users add their own path). */
  url: string;
  /** What it sent, by kind (`canary` included). */
  sent: Record<HostileKind | 'canary', number>;
  /** Connections it accepted, by preset. */
  connections: Record<Preset, number>;
  close(): Promise<void>;
}

/** Options of {@link startHostileTarget}. */
export interface HostileOptions {
  seed: number;
  /** Kinds to mix in; none: a clean server that only ticks the canary. @default all */
  kinds?: readonly HostileKind[];
  /** How often each connection gets something hostile, ms. @default 40 */
  everyMs?: number;
  /** How often each connection gets a canary tick, ms. @default 100 */
  canaryEveryMs?: number;
}

/** The canary's topic: ticks on it carry a gap-free `seq` and the server's `ts`. */
export const CANARY_TOPIC = 'canary';

const NESTED = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
const CONTROL_TOPIC = 'tick\u001b]0;pwned\u0007\u001b[31m\u009b2J';
const CONTROL_REASON = 'bye\u001b[2J\u001b]0;owned\u0007';

interface Peer {
  ws: WebSocket;
  preset: Preset;
  /** The graphql-ws subscription id, once the client subscribed. */
  subscription: string | null;
  isOpen: boolean;
}

function presetOf(path: string, protocol: string): Preset {
  if (path.startsWith('/socket.io/')) return 'socketio';
  if (protocol === 'mqtt') return 'mqtt';
  if (protocol === 'graphql-transport-ws') return 'graphql-ws';
  return 'raw';
}

function publish(topic: string, payload: string | Buffer): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload,
    qos: 0,
    retain: false,
    dup: false,
    messageId: 0,
  } as never);
}

/** A message on `topic` with payload `json` (JSON text) in the preset's form. */
function message(peer: Peer, topic: string, json: string): string | Buffer | null {
  switch (peer.preset) {
    case 'raw':
      return `{"topic":${JSON.stringify(topic)},"data":${json}}`;
    case 'socketio':
      return `42[${JSON.stringify(topic)},${json}]`;
    case 'graphql-ws':
      // the canary goes to the user's subscription; any other topic is an id it never subscribed to
      if (topic !== CANARY_TOPIC) return `{"type":"next","id":${JSON.stringify(topic)},"payload":{"data":${json}}}`;
      return peer.subscription === null
        ? null
        : `{"type":"next","id":${JSON.stringify(peer.subscription)},"payload":{"data":${json}}}`;
    case 'mqtt':
      return publish(topic, json);
  }
}

/** Starts the target on 127.0.0.1, port 0. */
export async function startHostileTarget(options: HostileOptions): Promise<HostileTarget> {
  const random = prng(options.seed);
  const kinds = options.kinds ?? HOSTILE_KINDS;
  const sent = Object.fromEntries([...HOSTILE_KINDS, 'canary'].map((k) => [k, 0])) as HostileTarget['sent'];
  const connections: Record<Preset, number> = { raw: 0, socketio: 0, 'graphql-ws': 0, mqtt: 0 };
  const peers = new Set<Peer>();
  let canarySeq = 0;
  let topicN = 0;

  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    // a hostile server takes what it is sent, but its own limit is no business of the test
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) =>
      offered.has('mqtt') ? 'mqtt' : offered.has('graphql-transport-ws') ? 'graphql-transport-ws' : false,
  });
  wss.on('connection', (ws, request) => {
    const peer: Peer = { ws, preset: presetOf(request.url ?? '/', ws.protocol), subscription: null, isOpen: false };
    connections[peer.preset]++;
    peers.add(peer);
    ws.on('error', () => {});
    ws.on('close', () => peers.delete(peer));
    if (peer.preset === 'raw') peer.isOpen = true;
    if (peer.preset === 'socketio')
      ws.send('0{"sid":"hostile","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
    ws.on('message', (data: Buffer, isBinary) => answer(peer, data, isBinary));
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;

  function answer(peer: Peer, data: Buffer, isBinary: boolean): void {
    const { ws } = peer;
    if (peer.preset === 'socketio' && !isBinary) {
      const text = data.toString();
      if (text.startsWith('40')) {
        ws.send('40{"sid":"hostile-nsp"}');
        peer.isOpen = true;
      } else if (text === '2') ws.send('3');
    } else if (peer.preset === 'graphql-ws') {
      let value: { type?: string; id?: string } = {};
      try {
        value = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (value.type === 'connection_init') {
        ws.send('{"type":"connection_ack"}');
        peer.isOpen = true;
      } else if (value.type === 'subscribe' && typeof value.id === 'string') peer.subscription ??= value.id;
      else if (value.type === 'ping') ws.send('{"type":"pong"}');
    } else if (peer.preset === 'mqtt' && isBinary && data.length >= 2) {
      const type = data[0]! >> 4;
      if (type === 1) {
        ws.send(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        peer.isOpen = true;
      } else if (type === 8 && data.length >= 4) {
        // SUBACK for the first topic of the SUBSCRIBE, granted QoS 0
        ws.send(Buffer.from([0x90, 0x03, data[2]!, data[3]!, 0x00]));
      } else if (type === 12) ws.send(Buffer.from([0xd0, 0x00]));
    }
  }

  function canary(): void {
    // one seq a tick for every user, so the canary's seq is gap-free for each of them
    const seq = ++canarySeq;
    for (const peer of peers) {
      if (!peer.isOpen || peer.ws.readyState !== 1) continue;
      const frame = message(peer, CANARY_TOPIC, `{"seq":${seq},"ts":${Date.now()}}`);
      if (frame === null) continue;
      peer.ws.send(frame);
      sent.canary++;
    }
  }

  function hostile(peer: Peer): void {
    if (kinds.length === 0 || !peer.isOpen || peer.ws.readyState !== 1) return;
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    const socket = (peer.ws as unknown as { _socket: Socket })._socket;
    const send = (frame: string | Buffer | null): void => {
      if (frame === null) return;
      peer.ws.send(frame);
      sent[kind]++;
    };
    switch (kind) {
      case 'nested':
        send(peer.preset === 'raw' && random() < 0.5 ? NESTED : message(peer, CANARY_TOPIC, NESTED));
        break;
      case 'huge':
        send(message(peer, `big${topicN++ % 4}`, JSON.stringify('x'.repeat(900_000))));
        break;
      case 'oversize':
        // past the client's 1 MiB limit: a user is cut (close 1009) and reconnects
        if (random() < 0.1) send(message(peer, 'too-big', JSON.stringify('y'.repeat(1_200_000))));
        break;
      case 'partial':
        if (peer.preset === 'mqtt') {
          // a PUBLISH that announces 200 MB and brings a few bytes: the parser waits for the rest
          const head = Buffer.from([0x30, 0x80, 0x80, 0xe8, 0x5f, 0x00, 0x01, 0x70]);
          send(head);
        } else if (peer.preset === 'socketio') {
          // a binary event whose two attachments never come
          send('452-["bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
        } else if (peer.preset === 'raw') {
          // the first fragment of a text message whose continuation never comes, written under ws
          socket.write(Buffer.from([0x01, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
          sent.partial++;
        } else send(`{"type":"next","id":${JSON.stringify(peer.subscription ?? 'x')},"payload":{"data":{"cut":`);
        break;
      case 'topics':
        // a burst of names never seen before: what the generator keeps per topic must stay bounded
        for (let i = 0; i < 50; i++) send(message(peer, `t${topicN++}`, `{"seq":1,"ts":${Date.now()}}`));
        break;
      case 'stall':
        // stop reading this user for a while: whatever it sends piles up on its side
        if (!socket.isPaused()) {
          socket.pause();
          sent.stall++;
          setTimeout(() => socket.resume(), 500 + random() * 1500).unref();
        }
        break;
      case 'control':
        if (random() < 0.2) {
          peer.ws.close(4000, CONTROL_REASON);
          sent.control++;
        } else send(message(peer, CONTROL_TOPIC, `{"text":"\\u001b]0;title\\u0007\\u001b[41m","ts":${Date.now()}}`));
        break;
      case 'garbage': {
        const bytes = Buffer.alloc(1 + Math.floor(random() * 300));
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
        if (random() < 0.5) send(bytes);
        else send(bytes.toString('latin1'));
        break;
      }
    }
  }

  const canaryTimer = setInterval(canary, options.canaryEveryMs ?? 100);
  const hostileTimer = setInterval(() => {
    for (const peer of peers) hostile(peer);
  }, options.everyMs ?? 40);

  return {
    url: `ws://127.0.0.1:${port}/`,
    sent,
    connections,
    async close() {
      clearInterval(canaryTimer);
      clearInterval(hostileTimer);
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}
