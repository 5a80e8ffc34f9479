/**
 * `npm run bench -- scale`: one host holding 100,000 WebSocket connections on loopback,
 * through `sockstorm run` as a user would run it: 6 bundled servers (one port each) and 6
 * generator processes, a quiet spell, a broadcast to everyone, a 10% reset and the recovery.
 * The generator's memory is read from /proc (the coordinator and every shard, baselines
 * included) during the quiet spell, as RSS and as PSS: RSS counts the pages of the Node
 * binary and libraries that all the processes share once per process (about 40 MiB each),
 * PSS splits them among the processes that share them, so its sum is what the host holds.
 * Saturation is told per phase from the NDJSON series.
 * Bounded to 5 minutes; on 2 cores the connect ramp saturates the generator, and says so.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Snapshot } from '../console/engine/snapshot.ts';

const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));
const COUNT = Number(process.env.BENCH_SCALE ?? 100_000);
const PROCESSES = Number(process.env.BENCH_SCALE_PROCESSES ?? 6);
const MiB = 1048576;

interface Memory {
  rss: number;
  pss: number;
}
interface Sample {
  atMs: number;
  generator: Memory;
  servers: Memory;
  processes: number;
}

function memoryOf(pid: number): Memory {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

function add(a: Memory, b: Memory): Memory {
  return { rss: a.rss + b.rss, pss: a.pss + b.pss };
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

/** The generator (the run and its shards) and the bundled servers, by RSS. */
function sample(runPid: number): Sample {
  let generator = memoryOf(runPid);
  let servers: Memory = { rss: 0, pss: 0 };
  let processes = 1;
  for (const child of childrenOf(runPid)) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes('server')) servers = add(servers, memoryOf(child));
    else {
      generator = add(generator, memoryOf(child));
      processes++;
    }
  }
  return { atMs: Date.now(), generator, servers, processes };
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Runs the scale script and prints what was held, at what memory and saturation. */
export async function runScaleBench(): Promise<void> {
  console.log(`\n## scale: ${COUNT.toLocaleString('en-US')} connections from one host (${PROCESSES} bundled servers, ${PROCESSES} generator processes)`);
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-scale-'));
  const script = join(dir, 'scale.storm');
  const json = join(dir, 'scale.json');
  const ndjson = join(dir, 'scale.ndjson');
  writeFileSync(
    script,
    [
      'rate 4000/s',
      `vus ${COUNT}`,
      `await open ${COUNT} timeout 200s`,
      'mark quiet',
      'wait 6s',
      'mark broadcast',
      'broadcast 3 size 64',
      'wait 5s',
      'mark chaos',
      'kill 10% reset',
      'await recovered timeout 60s',
      'wait 2s',
      `expect open >= ${COUNT}`,
      'expect missed == 0',
      'expect reach >= 0.99',
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const samples: Sample[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, 'run', script, '--servers', String(PROCESSES), '--workers', String(PROCESSES), '--json', json, '--ndjson', ndjson],
      { timeout: 300_000, maxBuffer: 1 << 24 },
    );
    const timer = setInterval(() => samples.push(sample(child.pid!)), 500);
    child.on('exit', (exit) => {
      clearInterval(timer);
      resolve(exit ?? 1);
    });
  });
  const s = JSON.parse(readFileSync(json, 'utf8'));
  const series = readFileSync(ndjson, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Snapshot);
  const markAt = (label: string): number => s.marks.find((m: { label: string }) => m.label === label)?.atMs ?? Infinity;
  const [quietAt, broadcastAt, chaosAt] = [markAt('quiet'), markAt('broadcast'), markAt('chaos')];
  // the quiet spell's memory: every process of the generator, baselines included, 1 s in
  const quiet = samples.filter((x) => x.atMs >= quietAt + 1000 && x.atMs < broadcastAt);
  const generatorRss = median(quiet.map((x) => x.generator.rss));
  const generatorPss = median(quiet.map((x) => x.generator.pss));
  const serverPss = median(quiet.map((x) => x.servers.pss));
  const phase = (from: number, to: number): string => {
    const seconds = series.filter((x) => !x.isStopped && x.atMs > from && x.atMs <= to);
    return `${seconds.filter((x) => x.health.isSaturated).length}/${seconds.length}`;
  };
  const r = s.recoveries[0] ?? {};
  console.table([
    {
      exit: code,
      verdict: s.verdict,
      'open at end': s.fleet.open,
      connects: s.totals.connects,
      errors: Object.values(s.errors as Record<string, number>).reduce((a, b) => a + b, 0),
      'bcast received': s.totals.broadcastsReceived,
      missed: s.totals.missed,
      'reach min': s.broadcasts.minReach,
      killed: r.dropped,
      'recovered in s': r.fullMs != null ? (r.fullMs / 1000).toFixed(1) : '—',
      'wall s': ((performance.now() - started) / 1000).toFixed(0),
    },
  ]);
  const perUser = (bytes: number): string => (bytes / COUNT / 1024).toFixed(2);
  console.table([
    {
      'generator processes': quiet[0]?.processes ?? 0,
      'PSS, quiet, MiB': (generatorPss / MiB).toFixed(0),
      'PSS KiB per user': perUser(generatorPss),
      'goal <= 8 KiB': generatorPss / COUNT / 1024 <= 8 ? 'met' : 'MISSED',
      'RSS sum, MiB': (generatorRss / MiB).toFixed(0),
      'RSS sum KiB per user': perUser(generatorRss),
      'servers PSS, MiB': (serverPss / MiB).toFixed(0),
    },
  ]);
  console.table([
    {
      'saturated s: ramp': phase(0, quietAt),
      quiet: phase(quietAt, broadcastAt),
      broadcast: phase(broadcastAt, chaosAt),
      chaos: phase(chaosAt, Infinity),
      'goal: saturated only during the ramp': phase(quietAt, Infinity).startsWith('0/') ? 'met' : 'MISSED',
    },
  ]);
}
