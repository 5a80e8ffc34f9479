/**
 * `npm run bench -- scale`: one host holding 100,000 WebSocket connections on loopback,
 * through `sockstorm run` as a user would run it: 6 bundled servers (one port each) and 6
 * generator processes, a quiet spell, broadcasts to everyone (2 s apart, then 3 at once), a 10%
 * reset and the recovery.
 * The generator's memory is read from /proc (the coordinator and every shard, baselines
 * included) during the quiet spell, as RSS and as PSS: RSS counts the pages of the Node
 * binary and libraries that all the processes share once per process (about 40 MiB each),
 * PSS splits them among the processes that share them, so its sum is what the host holds.
 * Saturation is told per phase from the NDJSON series, each second in the phase its middle falls in.
 * Then the floor does the same (scale-floor.ts: minimal ws clients in as many processes, judged
 * by the same rule), so a phase that saturates it too is the host's work, not the generator's.
 * Bounded to 5 minutes each; on 2 cores the connect ramp saturates the generator, and says so.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Snapshot } from '../console/engine/measure/snapshot.ts';
import { cpuOf, hostCpu } from './proc-stats.ts';
import { type CpuSample, cpuIn, type Phase, runScaleFloor } from './scale-floor.ts';

const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));
const COUNT = Number(process.env.BENCH_SCALE ?? 100_000);
const PROCESSES = Number(process.env.BENCH_SCALE_PROCESSES ?? 6);
const RATE = 4000;
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
  /** CPU seconds so far: the generator's processes, the bundled servers', and the host's busy and total time. */
  cpu: { generator: number; servers: number; hostBusy: number; hostTotal: number };
}

function memoryOfPid(pid: number): Memory {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
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
function sample(runPid: number, withMemory: boolean): Sample {
  const memoryOf = withMemory ? memoryOfPid : (): Memory => ({ rss: 0, pss: 0 });
  let generator = memoryOf(runPid);
  let servers: Memory = { rss: 0, pss: 0 };
  const cpu = { generator: cpuOf(runPid), servers: 0, hostBusy: 0, hostTotal: 0 };
  let processes = 1;
  for (const child of childrenOf(runPid)) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes('server')) {
      servers = add(servers, memoryOf(child));
      cpu.servers += cpuOf(child);
    } else {
      generator = add(generator, memoryOf(child));
      cpu.generator += cpuOf(child);
      processes++;
    }
  }
  const host = hostCpu();
  cpu.hostBusy = host.busy;
  cpu.hostTotal = host.total;
  return { atMs: Date.now(), generator, servers, processes, cpu };
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Runs the scale script and prints what was held, at what memory and saturation. */
export async function runScaleBench(): Promise<void> {
  console.log(
    `\n## scale: ${COUNT.toLocaleString('en-US')} connections from one host (${PROCESSES} bundled ` +
      `servers, ${PROCESSES} generator processes)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-scale-'));
  const script = join(dir, 'scale.storm');
  const json = join(dir, 'scale.json');
  const ndjson = join(dir, 'scale.ndjson');
  writeFileSync(
    script,
    [
      `rate ${RATE}/s`,
      `vus ${COUNT}`,
      `await open ${COUNT} timeout 200s`,
      'mark quiet',
      'wait 6s',
      'mark steady',
      'broadcast 3 size 64 every 2s',
      'wait 7s',
      'mark burst',
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
      [
        BIN,
        'run',
        script,
        '--servers',
        String(PROCESSES),
        '--workers',
        String(PROCESSES),
        '--json',
        json,
        '--ndjson',
        ndjson,
      ],
      { timeout: 300_000, maxBuffer: 1 << 24 },
    );
    // smaps_rollup walks every page table of the process read: 13 processes every 500 ms took a
    // tenth of a core (perf: smaps_account), so memory is read only in the quiet spell, from the
    // first progress line with every user open, and CPU times (cheap) all along
    let quietFrom = Infinity;
    const openAll = `open ${COUNT}/${COUNT}`;
    child.stderr?.on('data', (chunk: Buffer) => {
      if (quietFrom === Infinity && chunk.toString().includes(openAll)) quietFrom = Date.now();
    });
    const timer = setInterval(() => {
      const now = Date.now();
      samples.push(sample(child.pid!, now >= quietFrom && now < quietFrom + 5000));
    }, 500);
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
  const [quietAt, steadyAt, burstAt, chaosAt] = [markAt('quiet'), markAt('steady'), markAt('burst'), markAt('chaos')];
  const endAt = series.filter((x) => !x.isStopped).at(-1)?.atMs ?? Infinity;
  // the quiet spell's memory: every process of the generator, baselines included, 1 s in
  const quiet = samples.filter((x) => x.atMs >= quietAt + 1000 && x.atMs < steadyAt && x.generator.pss > 0);
  const generatorRss = median(quiet.map((x) => x.generator.rss));
  const generatorPss = median(quiet.map((x) => x.generator.pss));
  const serverPss = median(quiet.map((x) => x.servers.pss));
  // an interval belongs to the phase its middle falls in: the one that ends 0.1 s after `quiet` is the ramp's
  const middle = (i: number): number => (i === 0 ? series[0]!.atMs : (series[i - 1]!.atMs + series[i]!.atMs) / 2);
  const phase = (from: number, to: number): string => {
    const seconds = series.filter((x, i) => !x.isStopped && middle(i) > from && middle(i) <= to);
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
  // where the host's two cores went in each phase: a generator starved by the servers and the
  // kernel is saturated as surely as one busy with its own work, and this says which it is
  const cpu: CpuSample[] = samples.map((x) => ({ atMs: x.atMs, ...x.cpu }));
  const phases: Phase[] = [
    ['ramp', 0, quietAt, `${COUNT.toLocaleString('en-US')} connects at ${RATE.toLocaleString('en-US')}/s`],
    ['quiet', quietAt, steadyAt, 'idle fleet'],
    ['steady', steadyAt, burstAt, `3 broadcasts 2 s apart (${(COUNT / 2).toLocaleString('en-US')} frames/s)`],
    ['burst', burstAt, chaosAt, `3 broadcasts at once (${(3 * COUNT).toLocaleString('en-US')} frames)`],
    ['chaos', chaosAt, endAt, `${(COUNT / 10).toLocaleString('en-US')} reset, reconnecting within 100 ms`],
  ];
  // the floor: minimal ws clients doing the same, judged by the same rule (scale-floor.ts)
  console.log(
    `  the floor: ${COUNT.toLocaleString('en-US')} minimal ws clients in ${PROCESSES} processes ` +
      `against ${PROCESSES} bundled servers, the same phases`,
  );
  const floor = await runScaleFloor(COUNT, PROCESSES, RATE);
  const floorPhase = new Map(floor.phases.map(([name, from, to]) => [name, cpuIn(floor.cpu, from, to)]));
  console.table(
    phases.map(([name, from, to, what]) => {
      const ours = cpuIn(cpu, from, to);
      const theirs = floorPhase.get(name)!;
      return {
        phase: name,
        what,
        'saturated s': phase(from, to),
        'floor saturated s': floor.saturated[name],
        'host busy': `${ours['host busy']} / ${theirs['host busy']}`,
        'generator cores': `${ours.generator} / ${theirs.generator}`,
        'servers cores': `${ours.servers} / ${theirs.servers}`,
      };
    }),
  );
  console.log(
    `  (host busy and cores: sockstorm / floor) floor: ${floor.received.toLocaleString('en-US')} of ` +
      `${floor.expected.toLocaleString('en-US')} broadcasts received, recovered in ` +
      `${floor.recoveredMs === null ? '—' : `${(floor.recoveredMs / 1000).toFixed(1)} s`}`,
  );
  const outsideRamp = phases.slice(1).map(([name, from, to]) => [name, phase(from, to)] as const);
  const saturatedOutside = outsideRamp.filter(([, p]) => !p.startsWith('0/')).map(([name]) => name);
  const floorOutside = phases
    .slice(1)
    .filter(([name]) => !floor.saturated[name]!.startsWith('0/'))
    .map(([name]) => name);
  console.log(
    `goal: saturated only during the connect ramp: ` +
      `${saturatedOutside.length === 0 ? 'met' : `MISSED (also in ${saturatedOutside.join(', ')})`}`,
  );
  const floorSaturated =
    floorOutside.length === 0
      ? 'saturated only during the connect ramp'
      : `saturated also in ${floorOutside.join(', ')}`;
  console.log(`  the floor, by the same rule: ${floorSaturated}`);
}
