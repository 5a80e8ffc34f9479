/**
 * One side of the engine bench, in its own process so its RSS is its own: either a minimal
 * `ws` client (the yardstick) or the sockstorm engine, against the same bundled server.
 * Prints one JSON line of figures on stdout.
 *
 *   node --import tsx bench/client-worker.ts minimal|sockstorm URL ADMIN_URL TOKEN COUNT
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { AdminClient } from '../console/engine/admin-client.ts';
import { createEngine } from '../console/engine/engine.ts';
import { LatencyHistogram } from '../console/engine/histogram.ts';
import { connectMany, settle } from './bench-util.ts';

const [mode, url, adminUrl, token, countText] = process.argv.slice(2) as [string, string, string, string, string];
const COUNT = Number(countText);
const BROADCASTS = 10;
const PROBE_RATE = 1000;
const PROBE_SECONDS = 5;
const admin = new AdminClient(adminUrl, token);
const epoch = (): number => performance.timeOrigin + performance.now();

function rssAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage.rss();
}

async function broadcastAll(): Promise<void> {
  for (let i = 0; i < BROADCASTS; i++) {
    await admin.broadcast({ topic: 'bench', count: 1, size: 64 });
    await settle(500);
  }
  await settle(1000);
}

async function minimal(): Promise<Record<string, number>> {
  const baseline = rssAfterGc();
  const fanout = new LatencyHistogram();
  const rtt = new LatencyHistogram();
  let received = 0;
  const started = performance.now();
  const sockets = await connectMany(url, COUNT, 500, (ws: WebSocket) => {
    ws.on('message', (data) => {
      const at = epoch();
      const frame = JSON.parse(data.toString()) as { t: string; ts: number; at: number };
      if (frame.t === 'bcast') { received++; fanout.record(at - frame.ts); }
      else if (frame.t === 'rtt') rtt.record(at - frame.at);
    });
  });
  const connectSeconds = (performance.now() - started) / 1000;
  await settle(2000);
  const perVu = (rssAfterGc() - baseline) / sockets.length;
  await broadcastAll();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // probes at a fixed rate from the intended send time, like sockstorm's
  const probeStart = epoch();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = epoch();
      while (probeStart + (sent * 1000) / PROBE_RATE <= now && sent < PROBE_RATE * PROBE_SECONDS) {
        sockets[sent % sockets.length]!.send(`{"t":"rtt","id":${sent},"at":${probeStart + (sent * 1000) / PROBE_RATE}}`);
        sent++;
      }
      if (sent >= PROBE_RATE * PROBE_SECONDS) { clearInterval(timer); resolve(); }
    }, 1);
  });
  await settle(500);
  loop.disable();
  for (const ws of sockets) ws.terminate();
  const f = fanout.summary();
  const r = rtt.summary();
  return {
    open: sockets.length, connectPerSec: sockets.length / connectSeconds, bytesPerVu: perVu,
    fanoutP50: f.p50, fanoutP99: f.p99, reach: received / (BROADCASTS * sockets.length),
    rttP50: r.p50, rttP99: r.p99, loopP99: loop.percentile(99) / 1e6,
  };
}

async function sockstorm(): Promise<Record<string, number>> {
  const engine = await createEngine({ target: url, ratePerSec: 1_000_000, maxInFlight: 500 });
  const baseline = rssAfterGc();
  const started = performance.now();
  await engine.dispatch({ type: 'set-target', count: COUNT });
  while (engine.live().open < COUNT && performance.now() - started < 120_000) await settle(5);
  const connectSeconds = (performance.now() - started) / 1000;
  const open = engine.live().open;
  await settle(2000);
  const perVu = (rssAfterGc() - baseline) / open;
  await broadcastAll();
  const afterBroadcasts = engine.getSnapshot();
  const rttBefore = afterBroadcasts.latency.rtt.count;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  await engine.dispatch({ type: 'probe', perSec: PROBE_RATE });
  await settle(PROBE_SECONDS * 1000);
  await engine.dispatch({ type: 'probe', perSec: 0 });
  await settle(1500);
  loop.disable();
  const s = engine.getSnapshot();
  await engine.stop();
  return {
    open, connectPerSec: open / connectSeconds, bytesPerVu: perVu,
    fanoutP50: s.latency.fanout.p50, fanoutP99: s.latency.fanout.p99,
    reach: s.totals.broadcastsReceived / (BROADCASTS * open),
    rttP50: s.latency.rtt.p50, rttP99: s.latency.rtt.p99, loopP99: loop.percentile(99) / 1e6,
    rttSamples: s.latency.rtt.count - rttBefore, errors: Object.values(s.errors).reduce((a, b) => a + b, 0),
    saturatedIntervals: s.saturatedIntervals,
  };
}

const result = mode === 'minimal' ? await minimal() : await sockstorm();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
