/**
 * Bundled server fan-out, uws against ws: 10,000 subscribers on loopback, one broadcast at a
 * time. Prints the server's publish time, the fan-out latency the clients saw (receive time
 * minus the server's `ts`), reach, and server RSS per connection.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { AdminClient } from '../console/engine/bundled/admin-client.ts';
import { startBundledServer } from '../console/engine/bundled/bundled-server.ts';
import { LatencyHistogram } from '../console/engine/measure/histogram.ts';
import { connectMany, settle } from './bench-util.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10_000);
const BROADCASTS = 20;

async function benchEngine(engine: 'uws' | 'ws'): Promise<Record<string, string | number>> {
  const server = await startBundledServer({ engine });
  const admin = new AdminClient(server.adminUrl, server.info.token);
  try {
    await settle(500);
    const idle = await admin.stats();
    if (!idle.ok) throw new Error(idle.message);
    const fanout = new LatencyHistogram();
    let received = 0;
    const clients = await connectMany(`${server.url}?topics=bench`, CLIENTS, 500, (ws: WebSocket) => {
      ws.on('message', (data) => {
        const at = performance.timeOrigin + performance.now();
        const frame = JSON.parse(data.toString()) as { t: string; ts: number };
        if (frame.t !== 'bcast') return;
        received++;
        fanout.record(at - frame.ts);
      });
    });
    await settle(1500);
    const loaded = await admin.stats();
    if (!loaded.ok) throw new Error(loaded.message);
    const publishMs = new LatencyHistogram();
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    for (let i = 0; i < BROADCASTS; i++) {
      const sent = await admin.broadcast({ topic: 'bench', count: 1, size: 64 });
      if (!sent.ok) throw new Error(sent.message);
      await settle(engine === 'ws' ? 600 : 400);
      const stats = await admin.stats();
      if (stats.ok) publishMs.record(stats.value.publishMsLast);
    }
    loopDelay.disable();
    const summary = fanout.summary();
    const row = {
      engine,
      native: String(server.info.native),
      clients: loaded.value.connections,
      'publish p50 ms': publishMs.summary().p50.toFixed(2),
      'fan-out p50 ms': summary.p50.toFixed(1),
      'fan-out p99 ms': summary.p99.toFixed(1),
      reach: (received / (BROADCASTS * clients.length)).toFixed(4),
      'server KB/conn': ((loaded.value.rssBytes - idle.value.rssBytes) / 1024 / loaded.value.connections).toFixed(2),
      'bench loop p99 ms': (loopDelay.percentile(99) / 1e6).toFixed(1),
    };
    // shutdown with every client still connected: SIGTERM until the process has exited
    const stopStarted = performance.now();
    await server.stop(5000);
    (row as Record<string, string | number>)['server shutdown ms'] =
      /stopped in (\d+) ms/.exec(server.stderr())?.[1] ?? '?';
    (row as Record<string, string | number>)['SIGTERM→exit seen by clients ms'] = (
      performance.now() - stopStarted
    ).toFixed(0);
    for (const ws of clients) ws.terminate();
    return row;
  } finally {
    await server.stop();
  }
}

/** Runs the server bench for both engines and prints a table. */
export async function runServerBench(): Promise<void> {
  console.log(`\n## bundled server: one broadcast to ${CLIENTS} subscribers, ${BROADCASTS} times (loopback)`);
  const rows = [];
  for (const engine of ['uws', 'ws'] as const) rows.push(await benchEngine(engine));
  console.table(rows);
}
