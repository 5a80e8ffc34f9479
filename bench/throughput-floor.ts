/**
 * The floor of the throughput bench: a minimal `ws` client process sending the throughput
 * message (bench/throughput-phases.ts) at the highest rate it sustains: each turn of its loop
 * sends up to FLOOR_BATCH frames round-robin over its users, skipping a user with more than
 * FLOOR_SEND_BUFFER bytes unsent (sockstorm's send budget), and counts what comes back without
 * reading it. Bundled and run on plain Node like sockstorm's side (throughput-sockstorm.ts).
 *
 *   node BUNDLE/throughput-floor.mjs URL COUNT SECONDS
 */
import type WebSocket from 'ws';
import { connectMany, settle } from './bench-util.ts';
import {
  FLOOR_BATCH,
  FLOOR_SEND_BUFFER,
  type RateSample,
  rateSample,
  ratesOver,
  SETTLE_MS,
  throughputArgs,
  WARMUP_MS,
} from './throughput-phases.ts';

const { url, count, seconds } = throughputArgs();
let sent = 0;
let received = 0;
let errors = 0;
const onMessage = (): void => {
  received++;
};
const sockets: WebSocket[] = await connectMany(url, count, 500, (ws) => {
  ws.on('message', onMessage);
  ws.on('error', () => errors++);
});
await settle(SETTLE_MS);

let isSending = true;
let next = 0;
function pump(): void {
  if (!isSending) return;
  for (let k = 0; k < FLOOR_BATCH; k++) {
    const ws = sockets[next++ % sockets.length]!;
    if (ws.readyState !== 1 || ws.bufferedAmount > FLOOR_SEND_BUFFER) continue;
    ws.send(`{"t":"msg","n":${sent}}`);
    sent++;
  }
  setImmediate(pump);
}
const samples: RateSample[] = [];
const startedAt = performance.now();
const reader = setInterval(() => samples.push(rateSample(sent, received)), 1000);
pump();
await settle(WARMUP_MS + seconds * 1000 + 1500);
isSending = false;
clearInterval(reader);
const open = sockets.filter((ws) => ws.readyState === 1).length;
for (const ws of sockets) ws.terminate();
const figures = { ...ratesOver(samples, startedAt + WARMUP_MS, seconds), open, errors };
process.stdout.write(`${JSON.stringify(figures)}\n`);
process.exit(0);
