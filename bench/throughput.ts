/**
 * `npm run bench -- throughput` (after the RTT-tail table): messages per second sent and
 * received per generator core at saturation, sockstorm beside the floor (a minimal `ws` client
 * sending the same frames at the highest rate it sustains), each in its own process against a
 * fresh server: the bare uWS echo app and the bundled server's echo (uWS engine), at 1,000 and
 * 10,000 users, in alternating rounds. The goal: sockstorm's messages (sent + received) per
 * CPU-second of its own process at least the floor's. The processes share the host's cores
 * with the server, so per second figures depend on both; per core figures are the generator's.
 *
 * Env: BENCH_THROUGHPUT_USERS (1000,10000), BENCH_THROUGHPUT_ROUNDS (5: the floor alone moved 67,000-95,000 in three), BENCH_THROUGHPUT_SECONDS (5);
 * BENCH_TAIL=0 runs this table alone, without the RTT-tail table before it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
// @ts-expect-error: plain JavaScript, no declarations
import { ensureBundles } from '../console/build.mjs';
import { type Figures, fmt, median, range, startListening, verdict } from './bench-util.ts';

const SIZES = (process.env.BENCH_THROUGHPUT_USERS ?? '1000,10000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_THROUGHPUT_SECONDS ?? 5);
const ENTRIES = {
  server: 'target-server/main.ts',
  'bare-uws-echo': 'bench/bare-uws-echo.ts',
  'throughput-floor': 'bench/throughput-floor.ts',
  'throughput-sockstorm': 'bench/throughput-sockstorm.ts',
};

type Side = 'floor' | 'sockstorm';
type Target = 'bare uWS echo' | 'bundled server';
const TARGETS: Target[] = ['bare uWS echo', 'bundled server'];

function runWorker(bundles: string, side: Side, url: string, count: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(bundles, `throughput-${side}.mjs`), url, String(count), String(SECONDS)],
      { timeout: 180_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${side} worker failed: ${error.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Figures);
      },
    );
  });
}

async function measure(bundles: string, target: Target, side: Side, count: number): Promise<Figures> {
  const server =
    target === 'bundled server'
      ? await startListening(join(bundles, 'server.mjs'), ['--engine', 'uws', '--exit-with-stdin'])
      : await startListening(join(bundles, 'bare-uws-echo.mjs'));
  try {
    return await runWorker(bundles, side, `ws://127.0.0.1:${server.info.port}/`, count);
  } finally {
    await server.stop();
  }
}

const ROWS = [
  ['sent per s', 'sentPerSec', 0],
  ['received per s', 'receivedPerSec', 0],
  ['generator CPU, %', 'cpuPercent', 0],
  ['sent per core-second', 'sentPerCore', 0],
  ['received per core-second', 'receivedPerCore', 0],
  ['sent + received per core-second', 'bothPerCore', 0],
] as const;

async function benchCase(bundles: string, target: Target, count: number): Promise<void> {
  console.log(
    `\n### ${count.toLocaleString('en-US')} users against the ${target}: the floor (a minimal ws client) ` +
      `beside sockstorm, ${SECONDS} s at saturation, ${ROUNDS} alternating rounds`,
  );
  const runs: Record<Side, Figures[]> = { floor: [], sockstorm: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Side[] = round % 2 === 0 ? ['floor', 'sockstorm'] : ['sockstorm', 'floor'];
    for (const side of order) runs[side].push(await measure(bundles, target, side, count));
  }
  const [floor, ours] = [median(runs.floor), median(runs.sockstorm)];
  console.table(
    ROWS.map(([figure, key, digits]) => {
      const ratio = ours[key]! / floor[key]!;
      return {
        figure,
        floor: `${fmt(floor[key]!, digits)} (${range(runs.floor, key, digits)})`,
        sockstorm: `${fmt(ours[key]!, digits)} (${range(runs.sockstorm, key, digits)})`,
        ratio: Number.isFinite(ratio) ? fmt(ratio, 2) : '—',
        goal: key === 'bothPerCore' ? verdict(ratio >= 1, '>= 1') : '',
      };
    }),
  );
  console.log(
    `  medians (min-max); open at the end ${floor.open}/${ours.open}, errors ${floor.errors}/${ours.errors} (floor/sockstorm)`,
  );
}

/** Runs the throughput tables: each size against each target. */
export async function runThroughputBench(): Promise<void> {
  const bundles = (await ensureBundles(ENTRIES)) as string | null;
  if (!bundles) throw new Error('the throughput workers could not be bundled (is esbuild installed?)');
  console.log(
    `\n## throughput: messages per generator core at saturation, sockstorm beside the floor ` +
      `(${new Date().toISOString().slice(0, 10)}, ${process.versions.node}, loopback)`,
  );
  for (const count of SIZES) for (const target of TARGETS) await benchCase(bundles, target, count);
}
