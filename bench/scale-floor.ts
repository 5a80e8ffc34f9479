/**
 * The scale bench's floor: the same 100,000 users and the same phases as `sockstorm run` in
 * scale.ts (ramp, quiet, steady, burst, chaos), done by minimal `ws` clients (the engine bench's
 * floor client) in as many processes, against as many bundled servers, judged by sockstorm's own
 * saturation rule. What saturates the floor too is the host's work, not the generator's.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { AdminClient } from '../console/engine/bundled/admin-client.ts';
import { type BundledServer, startBundledServer } from '../console/engine/bundled/bundled-server.ts';
import type { GeneratorHealth } from '../console/engine/measure/generator-health.ts';
// @ts-expect-error: plain JavaScript, no declarations
import { ensureBundles } from '../console/build.mjs';
import { settle } from './bench-util.ts';
import { cpuOf, hostCpu } from './proc-stats.ts';

/** CPU seconds so far: the generator's processes, the servers', and the host's busy and total time. */
export interface CpuSample {
  atMs: number;
  generator: number;
  servers: number;
  hostBusy: number;
  hostTotal: number;
}

/** A phase's window, [from, to] in epoch ms. */
export type Phase = [name: string, from: number, to: number, what: string];

/** Where the host's cores went between `from` and `to`. */
export function cpuIn(samples: CpuSample[], from: number, to: number): Record<string, string> {
  const inside = samples.filter((x) => x.atMs >= from && x.atMs <= to);
  const [a, b] = [inside[0], inside.at(-1)];
  if (!a || !b || b.atMs <= a.atMs) return { 'host busy': '—', generator: '—', servers: '—' };
  const seconds = (b.atMs - a.atMs) / 1000;
  const cores = (x: number): string => `${(x / seconds).toFixed(2)} cores`;
  return {
    'host busy': `${(((b.hostBusy - a.hostBusy) / (b.hostTotal - a.hostTotal)) * 100).toFixed(0)}%`,
    generator: cores(b.generator - a.generator),
    servers: cores(b.servers - a.servers),
  };
}

export interface FloorResult {
  open: number;
  received: number;
  expected: number;
  recoveredMs: number | null;
  phases: Phase[];
  /** Saturated seconds / seconds, per phase name. */
  saturated: Record<string, string>;
  cpu: CpuSample[];
}

interface HealthLine {
  worker: number;
  atMs: number;
  open: number;
  health: GeneratorHealth;
}

/** Runs the floor through the scale phases; everything it starts it stops. */
export async function runScaleFloor(count: number, processes: number, ratePerSec: number): Promise<FloorResult> {
  const bundles = (await ensureBundles({ 'floor-scale': 'bench/floor-scale-worker.ts' })) as string | null;
  if (!bundles) throw new Error('the floor worker could not be bundled (is esbuild installed?)');
  const servers: BundledServer[] = await Promise.all(
    Array.from({ length: processes }, () => startBundledServer({ engine: 'uws' })),
  );
  const workers: ChildProcess[] = [];
  const lines: HealthLine[] = [];
  const openOf = new Array<number>(processes).fill(0);
  const done: Array<{ received: number }> = [];
  const cpu: CpuSample[] = [];
  const cpuTimer = setInterval(() => {
    const host = hostCpu();
    cpu.push({
      atMs: Date.now(),
      generator: workers.reduce((sum, w) => sum + cpuOf(w.pid!), 0),
      servers: servers.reduce((sum, s) => sum + cpuOf(s.child.pid!), 0),
      hostBusy: host.busy,
      hostTotal: host.total,
    });
  }, 500);
  const openAll = () => openOf.reduce((a, b) => a + b, 0);
  const until = async (condition: () => boolean, timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (!condition() && Date.now() < deadline) await settle(50);
    return condition();
  };
  const admins = servers.map((s) => new AdminClient(s.adminUrl, s.info.token));
  const broadcast = (times: number) =>
    Promise.all(admins.map((a) => a.broadcast({ topic: 'bench', count: times, size: 64 })));
  const per = Math.ceil(count / processes);
  try {
    const started = Date.now();
    servers.forEach((server, i) => {
      const users = Math.min(per, count - i * per);
      const worker = fork(
        join(bundles, 'floor-scale.mjs'),
        [`${server.url}?topics=bench`, String(users), String(i * per), String(ratePerSec / processes)],
        {
          execArgv: [],
          stdio: 'ignore',
        },
      );
      worker.on('message', (m: { type: string } & Partial<HealthLine> & { received?: number }) => {
        if (m.type === 'health') {
          openOf[i] = m.open!;
          lines.push({ worker: i, atMs: m.atMs!, open: m.open!, health: m.health! });
        } else if (m.type === 'done') done.push({ received: m.received! });
      });
      workers.push(worker);
    });
    await until(() => openAll() >= count, 200_000);
    const quietAt = Date.now();
    await settle(6000);
    const steadyAt = Date.now();
    for (let i = 0; i < 3; i++) {
      await broadcast(1);
      await settle(2000);
    }
    await settle(1000);
    const burstAt = Date.now();
    await broadcast(3);
    await settle(5000);
    const chaosAt = Date.now();
    for (const w of workers) w.send({ type: 'kill', share: 0.1 });
    // the drops are seen within a second; then every user back
    await until(() => openAll() < count, 2000);
    const recovered = await until(() => openAll() >= count, 60_000);
    const recoveredMs = recovered ? Date.now() - chaosAt : null;
    await settle(2000);
    const endAt = Date.now();
    for (const w of workers) w.send({ type: 'stop' });
    await until(() => done.length === processes, 10_000);
    const phases: Phase[] = [
      ['ramp', started, quietAt, ''],
      ['quiet', quietAt, steadyAt, ''],
      ['steady', steadyAt, burstAt, ''],
      ['burst', burstAt, chaosAt, ''],
      ['chaos', chaosAt, endAt, ''],
    ];
    // a second is saturated when any process was, as sockstorm merges its shards; each line is
    // a process's last second, so its middle is 0.5 s before it
    const seconds = new Map<number, boolean>();
    for (const line of lines) {
      const second = Math.floor((line.atMs - 500 - started) / 1000);
      seconds.set(second, (seconds.get(second) ?? false) || line.health.isSaturated);
    }
    const saturated = Object.fromEntries(
      phases.map(([name, from, to]) => {
        const inside = [...seconds].filter(
          ([second]) => started + second * 1000 + 500 > from && started + second * 1000 + 500 <= to,
        );
        return [name, `${inside.filter(([, s]) => s).length}/${inside.length}`];
      }),
    );
    return {
      open: count,
      received: done.reduce((a, d) => a + d.received, 0),
      expected: 6 * count,
      recoveredMs,
      phases,
      saturated,
      cpu,
    };
  } finally {
    clearInterval(cpuTimer);
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.stop()));
  }
}
