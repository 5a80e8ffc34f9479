/**
 * `npm run bench -- tail` (and the first table of `-- throughput`): does the bundled server add
 * to the RTT tail? The same `sockstorm run` script (open the users, probes at 1,000/s for 5 s)
 * against a bare uWS echo app (bench/bare-uws-echo.ts: `ws.send` in `message`, nothing else) and
 * against the bundled server as `sockstorm run` starts it (uWS engine, /stats polled every
 * second), at 5,000 and 18,000 users, each user subscribed to 'all' on both (uWS's own cost
 * of a subscribed socket is the same on both sides), in alternating rounds; the medians go into
 * one table with the goals (bundled p99 at most 1.2x the bare app's, max at most 2x) marked met or missed, and
 * the generator's own saturation during the probes beside them, so a tail that is the
 * generator's shows as such. Both runs dial from the same 64 loopback addresses (what
 * `sockstorm run` does against the bundled server), so the generator's side is the same.
 *
 * BENCH_TAIL_APART=1 adds a third target: the bundled server started apart and given to the
 * run as `--target`, so nobody polls its /stats and users subscribe to nothing; when the tail of
 * the bundled server as run starts it is longer, the difference is the poll's (on either side)
 * and the subscriptions' together (the bare app's users subscribe, this server's do not).
 *
 * Env: BENCH_TAIL_USERS (5000,18000), BENCH_TAIL_ROUNDS (5: a round's p99 at 5,000 users moves 3x), BENCH_TAIL_SECONDS (5), BENCH_TAIL_APART.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Snapshot } from '../console/engine/measure/snapshot.ts';
import { LOOPBACK_POOL } from '../console/engine/users/sources.ts';
import { ENGINE_DEFAULTS } from '../console/engine/engine-options.ts';
// @ts-expect-error: plain JavaScript, no declarations
import { ensureBundles } from '../console/build.mjs';
import { type Figures, fmt, median, range, startListening, verdict } from './bench-util.ts';

const SIZES = (process.env.BENCH_TAIL_USERS ?? '5000,18000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_TAIL_ROUNDS ?? 5);
const PROBE_SECONDS = Number(process.env.BENCH_TAIL_SECONDS ?? 5);
const PROBE_RATE = 1000;
const GOALS = { p99: 1.2, max: 2 } as const;
const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));
const SOURCES = Array.from({ length: LOOPBACK_POOL }, (_, i) => `127.0.0.${i + 1}`).join(',');

type Target = 'bare' | 'bundled' | 'apart';
const TARGETS: Target[] = process.env.BENCH_TAIL_APART === '1' ? ['bare', 'bundled', 'apart'] : ['bare', 'bundled'];

function script(count: number): string {
  return [
    'rate 5000/s',
    `vus ${count}`,
    `await open ${count} timeout 120s`,
    'wait 2s',
    'mark probes',
    `probe ${PROBE_RATE}/s`,
    `wait ${PROBE_SECONDS}s`,
    'probe 0/s',
    // the last replies land, and the last second's samples join the run's histogram
    'wait 1500ms',
    'mark end',
    '',
  ].join('\n');
}

/** One `sockstorm run` of the probe script; the figures of its JSON summary and its series. */
function runScript(dir: string, count: number, target: string | null): Promise<Figures> {
  const file = join(dir, 'tail.storm');
  const [json, ndjson] = [join(dir, 'tail.json'), join(dir, 'tail.ndjson')];
  writeFileSync(file, script(count));
  const args = [BIN, 'run', file, '--json', json, '--ndjson', ndjson, '--source-addresses', SOURCES];
  args.push(...(target ? ['--target', target] : ['--engine', 'uws']));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 240_000, maxBuffer: 1 << 24 }, (error, _stdout, stderr) => {
      if (error && error.code !== 99 && error.code !== 100)
        return reject(new Error(`sockstorm run failed: ${error.message}\n${stderr.slice(-2000)}`));
      const s = JSON.parse(readFileSync(json, 'utf8'));
      const markAt = (label: string): number => s.marks.find((m: { label: string }) => m.label === label).atMs;
      const [from, to] = [markAt('probes'), markAt('end')];
      // the seconds of the probes: a snapshot's second ends at its atMs
      const seconds = readFileSync(ndjson, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Snapshot)
        .filter((x) => x.atMs - 500 > from && x.atMs - 500 <= to);
      const rtt = s.latency.rtt;
      resolve({
        p50: rtt.p50,
        p99: rtt.p99,
        max: rtt.max,
        samples: rtt.count,
        open: s.fleet.open,
        loopP99: Math.max(0, ...seconds.map((x) => x.health.loopDelayP99Ms)),
        cpu: Math.max(0, ...seconds.map((x) => x.health.cpuPercent)),
        saturated: seconds.filter((x) => x.health.isSaturated).length,
        seconds: seconds.length,
      });
    });
  });
}

async function measure(dir: string, bundles: string, side: Target, count: number): Promise<Figures> {
  if (side === 'bundled') return runScript(dir, count, null);
  const server =
    side === 'bare'
      ? await startListening(join(bundles, 'bare-uws-echo.mjs'))
      : await startListening(join(bundles, 'server.mjs'), ['--engine', 'uws', '--exit-with-stdin']);
  try {
    // the bare app's users subscribe to 'all' as `run` has the bundled server's do; the server
    // started apart is given none (with the poll, what it tells apart)
    const query = side === 'bare' ? `?topics=${ENGINE_DEFAULTS.topics.join(',')}` : '';
    return await runScript(dir, count, `ws://127.0.0.1:${server.info.port}/${query}`);
  } finally {
    await server.stop();
  }
}

const ROWS = [
  ['RTT p50, ms', 'p50', 2],
  ['RTT p99, ms', 'p99', 2],
  ['RTT max, ms', 'max', 1],
  ['generator loop delay p99 (worst second), ms', 'loopP99', 1],
  ['generator CPU (worst second), %', 'cpu', 0],
  ['generator saturated seconds', 'saturated', 0],
] as const;

async function benchSize(dir: string, bundles: string, count: number): Promise<void> {
  console.log(
    `\n### ${count.toLocaleString('en-US')} users, probes at ${PROBE_RATE.toLocaleString('en-US')}/s for ` +
      `${PROBE_SECONDS} s: a bare uWS echo app beside the bundled server, ${ROUNDS} alternating rounds`,
  );
  const runs: Record<Target, Figures[]> = { bare: [], bundled: [], apart: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? TARGETS : TARGETS.slice().reverse();
    for (const side of order) runs[side].push(await measure(dir, bundles, side, count));
  }
  const [bare, ours] = [median(runs.bare), median(runs.bundled)];
  const apart = runs.apart.length > 0 ? median(runs.apart) : null;
  const goalOf = (key: string, ratio: number): string => {
    if (key === 'p99') return verdict(ratio <= GOALS.p99, `<= ${GOALS.p99}`);
    if (key === 'max') return verdict(ratio <= GOALS.max, `<= ${GOALS.max}`);
    return '';
  };
  console.table(
    ROWS.map(([figure, key, digits]) => {
      const ratio = ours[key]! / bare[key]!;
      return {
        figure,
        'bare uWS': `${fmt(bare[key]!, digits)} (${range(runs.bare, key, digits)})`,
        bundled: `${fmt(ours[key]!, digits)} (${range(runs.bundled, key, digits)})`,
        ratio: Number.isFinite(ratio) ? fmt(ratio, 2) : '—',
        goal: goalOf(key, ratio),
        ...(apart
          ? { 'bundled, apart (no /stats poll)': `${fmt(apart[key]!, digits)} (${range(runs.apart, key, digits)})` }
          : {}),
      };
    }),
  );
  console.log(
    `  medians (min-max); RTT samples ${bare.samples}/${ours.samples}, open ${bare.open}/${ours.open} ` +
      `(bare/bundled), ${bare.seconds} s of probes judged for saturation`,
  );
}

/** Runs the RTT-tail table for each size. */
export async function runTailBench(): Promise<void> {
  const entries = { server: 'target-server/main.ts', 'bare-uws-echo': 'bench/bare-uws-echo.ts' };
  const bundles = (await ensureBundles(entries)) as string | null;
  if (!bundles) throw new Error('the bare uWS echo app could not be bundled (is esbuild installed?)');
  console.log(
    `\n## tail: does the bundled server add to the RTT tail? ` +
      `(${new Date().toISOString().slice(0, 10)}, ${process.versions.node}, loopback)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-tail-'));
  try {
    for (const count of SIZES) await benchSize(dir, bundles, count);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
