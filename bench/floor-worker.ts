/**
 * The floor of the engine bench: a minimal one-process `ws` client doing the same work as
 * sockstorm (bench/sockstorm-worker.ts), bundled and run on plain Node like it, in a process
 * of its own so its RSS is its own. Prints one JSON line of figures on stdout.
 *
 *   node --expose-gc BUNDLE/floor-worker.mjs URL ADMIN_URL TOKEN COUNT
 */
import type WebSocket from 'ws';
import { AdminClient } from '../console/engine/bundled/admin-client.ts';
import { LatencyHistogram } from '../console/engine/measure/histogram.ts';
import { broadcastAll, epoch, loadDuring, PHASES, rssAfterGc, workerArgs } from './bench-phases.ts';
import { connectMany, settle } from './bench-util.ts';

const { url, adminUrl, token, count: COUNT } = workerArgs();
const admin = new AdminClient(adminUrl, token);
const {
  broadcasts: BROADCASTS,
  probeRate: PROBE_RATE,
  probeSeconds: PROBE_SECONDS,
  idleSeconds: IDLE_SECONDS,
} = PHASES;

async function minimal(): Promise<Record<string, number>> {
  const fanout = new LatencyHistogram();
  const rtt = new LatencyHistogram();
  let received = 0;
  const started = performance.now();
  const sockets = await connectMany(url, COUNT, PHASES.inFlight, (ws: WebSocket) => {
    ws.on('message', (data) => {
      const at = epoch();
      const frame = JSON.parse(data.toString()) as { t: string; ts: number; at: number };
      if (frame.t === 'bcast') {
        received++;
        fanout.record(at - frame.ts);
      } else if (frame.t === 'rtt') rtt.record(at - frame.at);
    });
  });
  const openMs = performance.now() - started;
  await settle(2000);
  const rss = rssAfterGc();
  const idle = await loadDuring(() => settle(IDLE_SECONDS * 1000));
  // probes at a fixed rate from the intended send time, like sockstorm's
  const probing = await loadDuring(
    () =>
      new Promise<void>((resolve) => {
        const probeStart = epoch();
        let sent = 0;
        const timer = setInterval(() => {
          const now = epoch();
          while (probeStart + (sent * 1000) / PROBE_RATE <= now && sent < PROBE_RATE * PROBE_SECONDS) {
            sockets[sent % sockets.length]!.send(
              `{"t":"rtt","id":${sent},"at":${probeStart + (sent * 1000) / PROBE_RATE}}`,
            );
            sent++;
          }
          if (sent >= PROBE_RATE * PROBE_SECONDS) {
            clearInterval(timer);
            setTimeout(resolve, 500);
          }
        }, 1);
      }),
  );
  const fanning = await loadDuring(() => broadcastAll(admin));
  for (const ws of sockets) ws.terminate();
  const f = fanout.summary();
  const r = rtt.summary();
  return {
    open: sockets.length,
    openMs,
    rssBytes: rss,
    idleLoopP99: idle.loopP99,
    rttP50: r.p50,
    rttP90: r.p90,
    rttP99: r.p99,
    rttMax: r.max,
    rttSamples: r.count,
    rttLoopP99: probing.loopP99,
    rttCpu: probing.cpuPercent,
    fanoutP50: f.p50,
    fanoutP99: f.p99,
    reach: received / (BROADCASTS * sockets.length),
    fanoutLoopP99: fanning.loopP99,
    errors: COUNT - sockets.length,
    saturatedIntervals: 0,
  };
}

const result = await minimal();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
