/**
 * One process of the scale bench's floor: COUNT minimal `ws` clients (the engine bench's floor
 * client) against one bundled server, from the same loopback source pool sockstorm dials from,
 * reading broadcasts. It judges its own health every second with sockstorm's own rule
 * (generator-health.ts) and sends it to the driver over IPC. It opens its clients at RATE a
 * second with 500 handshakes in flight, as `sockstorm run` does; on `kill` it resets a share of
 * them at once (TCP RST), and each dials again after a random 0-100 ms, as sockstorm's default reconnect
 * policy does (exponential from 100 ms, full jitter), without waiting for the rate.
 *
 *   node BUNDLE/floor-scale.mjs URL COUNT FIRST_ADDRESS RATE   (forked, with an IPC channel)
 */
import net from 'node:net';
import WebSocket from 'ws';
import { HealthMonitor } from '../console/engine/measure/generator-health.ts';
import { LatencyHistogram } from '../console/engine/measure/histogram.ts';
import { LOOPBACK_POOL } from '../console/engine/users/sources.ts';

const [url, countArg, firstArg, rateArg] = process.argv.slice(2) as [string, string, string, string];
const COUNT = Number(countArg);
const FIRST = Number(firstArg);
const RATE = Number(rateArg);
const IN_FLIGHT = 500;

const health = new HealthMonitor();
const fanout = new LatencyHistogram();
let sockets: Array<WebSocket | null> = new Array(COUNT).fill(null);
// each client's TCP socket (ws's documented createConnection hook), so a kill resets it as sockstorm's does
const tcp = new Map<WebSocket, net.Socket>();
let open = 0;
let received = 0;
let connecting = 0;
let waiting: number[] = Array.from({ length: COUNT }, (_, i) => i);

function dial(i: number): void {
  connecting++;
  let socket: net.Socket | null = null;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    localAddress: `127.0.0.${1 + ((FIRST + i) % LOOPBACK_POOL)}`,
    createConnection: ((options: net.NetConnectOpts) => {
      socket = net.createConnection(options);
      return socket;
    }) as typeof net.createConnection,
  });
  if (socket) tcp.set(ws, socket);
  sockets[i] = ws;
  let isOpen = false;
  ws.on('open', () => {
    isOpen = true;
    connecting--;
    open++;
  });
  ws.on('message', (data) => {
    const at = performance.timeOrigin + performance.now();
    const frame = JSON.parse(data.toString()) as { t: string; ts: number };
    if (frame.t === 'bcast') {
      received++;
      fanout.record(at - frame.ts);
    }
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    tcp.delete(ws);
    if (isOpen) open--;
    else connecting--;
    if (sockets[i] === ws) {
      sockets[i] = null;
      setTimeout(dial, Math.random() * 100, i);
    }
  });
}

// the first dials at RATE a second (intended times from the start), at most IN_FLIGHT at once
const rampStarted = performance.now();
let dialed = 0;
function pump(): void {
  const due = Math.floor(((performance.now() - rampStarted) * RATE) / 1000) + 1;
  while (connecting < IN_FLIGHT && waiting.length > 0 && dialed < due) {
    dialed++;
    dial(waiting.pop()!);
  }
  if (waiting.length === 0) clearInterval(pumping);
}
const pumping = setInterval(pump, 5);

process.on('message', (message: { type: string; share?: number }) => {
  if (message.type === 'kill') {
    // the first share of the open clients, reset at once (a TCP RST, as sockstorm's kill reset);
    // each dials again 0-100 ms after its close
    const victims = sockets
      .filter((ws): ws is WebSocket => ws !== null && ws.readyState === WebSocket.OPEN)
      .slice(0, Math.floor(COUNT * message.share!));
    for (const ws of victims) tcp.get(ws)?.resetAndDestroy() ?? ws.terminate();
  } else if (message.type === 'stop') {
    const f = fanout.summary();
    process.send!({ type: 'done', received, fanoutP99: f.p99 }, () => {
      for (const ws of sockets) ws?.terminate();
      sockets = [];
      waiting = [];
      process.exit(0);
    });
  }
});

health.start();
health.sample(0);
setInterval(() => {
  process.send!({ type: 'health', atMs: Date.now(), open, health: health.sample(open) });
}, 1000);
