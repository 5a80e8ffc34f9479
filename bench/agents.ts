/**
 * `npm run bench -- agents`: the same work on three agents, each in a network namespace of
 * its own (a "host" with its own address and ports), and on `--workers 3` on this host,
 * against three bundled servers: counts, merged latencies and per-part health, as ratios.
 * 19,000 users per part: one process holds at most its fd limit (20,000 here, less a few
 * for itself), so 3 × 19,000 = 57,000 is what three single-process parts can hold.
 * Bounded to 4 minutes per variant; traffic stays on loopback and inside the namespaces.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../console/engine/measure/snapshot.ts';
import { makeHosts } from '../test/helpers/netns.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PER_PART = Number(process.env.BENCH_AGENTS_PER_PART ?? 19_000);
const PARTS = 3;
const COUNT = PER_PART * PARTS;
const TOKEN = 'bench-agents-token-0123456789';
const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));

/** `sockstorm ...args` as a user runs it (CI set: progress as lines); stderr is collected. */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function waitForOutput(read: () => string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`${pattern} did not appear: ${read().slice(-500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return read();
}

interface Outcome {
  summary: {
    verdict: string;
    fleet: { open: number };
    totals: Record<string, number>;
    errors: Record<string, number>;
    latency: Record<string, { p50: number | null; p99: number | null }>;
    recoveries: Array<{ dropped: number; fullMs: number | null; p95Ms: number | null }>;
    broadcasts: { minReach: number | null };
    saturated: { intervals: number; of: number };
  };
  series: Snapshot[];
  wallS: number;
}

async function runVariant(name: string, flags: string[], agents: ((url: string) => void) | null): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), `sockstorm-bench-${name}-`));
  const script = join(dir, 'work.storm');
  writeFileSync(
    script,
    [
      'rate 4000/s',
      `vus ${COUNT}`,
      `await open ${COUNT} timeout 150s`,
      'wait 5s',
      'broadcast 3 size 64',
      'wait 4s',
      'kill 10% reset',
      'await recovered timeout 60s',
      'wait 2s',
      `expect open >= ${COUNT}`,
      'expect missed == 0',
      '',
    ].join('\n'),
  );
  const json = join(dir, 'out.json');
  const ndjson = join(dir, 'out.ndjson');
  const started = performance.now();
  const run = startCli([
    'run',
    script,
    '--servers',
    String(PARTS),
    '--json',
    json,
    '--ndjson',
    ndjson,
    '--progress-interval',
    '10s',
    ...flags,
  ]);
  const timer = setTimeout(() => run.child.kill('SIGINT'), 240_000);
  if (agents) {
    const stderr = await waitForOutput(run.stderr, /waiting for \d+ agents at (ws:\/\/[\d.]+:\d+)/, 30_000);
    agents(/waiting for \d+ agents at (ws:\/\/[\d.]+:\d+)/.exec(stderr)![1]!);
  }
  await run.exit;
  clearTimeout(timer);
  return {
    summary: JSON.parse(readFileSync(json, 'utf8')),
    series: readFileSync(ndjson, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Snapshot),
    wallS: (performance.now() - started) / 1000,
  };
}

const ms = (v: number | null | undefined): string => (v == null ? '—' : v.toFixed(1));
const ratio = (a: number | null | undefined, b: number | null | undefined): string =>
  a == null || b == null || b === 0 ? '—' : (a / b).toFixed(2);

/** Per part over the run: open at the end, saturated seconds, loop p99 max, RSS max. */
function partsHealth(series: Snapshot[]): Array<Record<string, string | number>> {
  const names = [...new Set(series.flatMap((s) => s.parts?.map((p) => p.name) ?? []))];
  return names.map((name) => {
    const seen = series
      .filter((s) => !s.isStopped)
      .map((s) => s.parts?.find((p) => p.name === name))
      .filter((p) => p !== undefined);
    return {
      part: name,
      'open at end': seen[seen.length - 1]?.open ?? 0,
      'saturated s': `${seen.filter((p) => p.isSaturated).length}/${seen.length}`,
      'loop p99 max ms': ms(Math.max(0, ...seen.map((p) => p.loopDelayP99Ms))),
      'RSS max MiB': (Math.max(0, ...seen.map((p) => p.rssBytes)) / 1048576).toFixed(0),
      lost: seen.some((p) => p.isLost) ? 'LOST' : '',
    };
  });
}

/** Runs both variants and prints them side by side. */
export async function runAgentsBench(): Promise<void> {
  console.log(
    `\n## agents: ${COUNT.toLocaleString('en-US')} users as 3 agents in network namespaces vs ` +
      `--workers 3 on this host (3 bundled servers)`,
  );
  const hosts = makeHosts(PARTS, 'b');
  try {
    const onAgents = await runVariant(
      'agents',
      ['--agents', String(PARTS), '--listen', `${hosts.root}:0`, '--token', TOKEN, '--agents-timeout', '30'],
      (url) => {
        for (let i = 0; i < PARTS; i++)
          hosts.sockstorm(i, [
            'agent',
            '--coordinator',
            url,
            '--token',
            TOKEN,
            '--plaintext',
            '--name',
            `agent-${i}`,
            '--retry-for',
            '5',
          ]);
      },
    );
    const onWorkers = await runVariant('workers', ['--workers', String(PARTS)], null);
    const row = (o: Outcome) => {
      const s = o.summary;
      const r = s.recoveries[0];
      return {
        verdict: s.verdict,
        open: s.fleet.open,
        connects: s.totals.connects,
        errors: Object.values(s.errors).reduce((a, b) => a + b, 0),
        'bcast received': s.totals.broadcastsReceived,
        missed: s.totals.missed,
        killed: r?.dropped ?? 0,
        'connect p99': s.latency.connect?.p99 ?? null,
        'fanout p99': s.latency.fanout?.p99 ?? null,
        'reconnect p99': s.latency.reconnect?.p99 ?? null,
        'recovery 95%': r?.p95Ms ?? null,
        'recovery 100%': r?.fullMs ?? null,
        saturated: `${s.saturated.intervals}/${s.saturated.of}`,
        'wall s': o.wallS.toFixed(0),
      };
    };
    const a = row(onAgents);
    const w = row(onWorkers);
    const latency = ['connect p99', 'fanout p99', 'reconnect p99', 'recovery 95%', 'recovery 100%'] as const;
    console.table([
      { variant: '3 agents', ...a, ...Object.fromEntries(latency.map((k) => [k, ms(a[k])])) },
      { variant: '--workers 3', ...w, ...Object.fromEntries(latency.map((k) => [k, ms(w[k])])) },
      {
        variant: 'agents / workers',
        ...Object.fromEntries(latency.map((k) => [k, ratio(a[k], w[k])])),
        open: ratio(a.open, w.open),
        connects: ratio(a.connects, w.connects),
      },
    ]);
    console.log('per part, 3 agents:');
    console.table(partsHealth(onAgents.series));
    console.log('per part, --workers 3:');
    console.table(partsHealth(onWorkers.series));
  } finally {
    hosts.remove();
  }
}
