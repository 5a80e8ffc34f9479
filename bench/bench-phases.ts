/**
 * The phases both sides of the engine bench go through, and how they are measured, so the
 * floor and sockstorm do the same work: open COUNT users (no rate limit, 500 handshakes in
 * flight), settle, RSS; the fleet idle for 3 s (loop delay); echo RTT at 1,000/s for 10 s,
 * timed from the intended send time; then 5 broadcasts of 64 B, 1 s apart (fan-out from the
 * server's ts). Each phase also measures the client's own loop delay and CPU.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AdminClient } from '../console/engine/bundled/admin-client.ts';
import { LOOP_SAMPLE_MS, loopDelayMs } from '../console/engine/measure/generator-health.ts';
import { settle } from './bench-util.ts';

// 10 s of probes: 10,000 samples, so a p99 is the top 100, not the top 50 of one noisy second
export const PHASES = { broadcasts: 5, probeRate: 1000, probeSeconds: 10, idleSeconds: 3, inFlight: 500 } as const;

export const epoch = (): number => performance.timeOrigin + performance.now();

/** RSS after a full GC (the workers run with --expose-gc). */
export function rssAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage.rss();
}

/** Loop delay (beyond the sampling interval, as sockstorm reports it) and CPU over `run`. */
export async function loadDuring(run: () => Promise<void>): Promise<{ loopP99: number; cpuPercent: number }> {
  const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  const cpu = process.cpuUsage();
  const started = performance.now();
  loop.enable();
  await run();
  loop.disable();
  const used = process.cpuUsage(cpu);
  return {
    loopP99: loopDelayMs(loop.percentile(99)),
    cpuPercent: ((used.user + used.system) / 1000 / (performance.now() - started)) * 100,
  };
}

/** The broadcast phase: one 64-byte broadcast a second, then a second for the last to land. */
export async function broadcastAll(admin: AdminClient): Promise<void> {
  for (let i = 0; i < PHASES.broadcasts; i++) {
    await admin.broadcast({ topic: 'bench', count: 1, size: 64 });
    await settle(1000);
  }
  await settle(1000);
}

/** The worker's arguments. */
export function workerArgs(): { url: string; adminUrl: string; token: string; count: number } {
  const [url, adminUrl, token, count] = process.argv.slice(2) as [string, string, string, string];
  return { url, adminUrl, token, count: Number(count) };
}
