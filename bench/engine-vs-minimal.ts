/**
 * `npm run bench -- engine`: does the generator add anything to what it measures? sockstorm's
 * engine beside the floor (a minimal one-process `ws` client doing the same work), each in its
 * own process against a fresh bundled uWS server, at 1,000 and at 18,000 users, in alternating
 * rounds; the medians go into one table per size with the goals marked met or missed.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startBundledServer } from '../console/engine/bundled/bundled-server.ts';
import { type Figures, fmt, median, range } from './bench-util.ts';
// @ts-expect-error: plain JavaScript, no declarations
import { ensureBundles } from '../console/build.mjs';

const SIZES = (process.env.BENCH_USERS ?? '1000,18000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
// both sides bundled and run on plain Node, as `sockstorm` runs: neither pays for a TypeScript loader
const WORKERS = { minimal: 'bench/floor-worker.ts', sockstorm: 'bench/sockstorm-worker.ts' };
let bundles: string | null = null;

type Side = 'minimal' | 'sockstorm';

function runWorker(mode: Side, url: string, adminUrl: string, token: string, count: number): Promise<Figures> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', join(bundles!, `${mode}.mjs`), url, adminUrl, token, String(count)],
      { timeout: 300_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${mode} worker failed: ${error.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Figures);
      },
    );
  });
}

async function measure(mode: Side, count: number): Promise<Figures> {
  const server = await startBundledServer({ engine: 'uws' });
  try {
    return await runWorker(mode, `${server.url}?topics=bench`, server.adminUrl, server.info.token, count);
  } finally {
    await server.stop();
  }
}

interface Row {
  figure: string;
  key: string;
  digits: number;
  scale?: number;
  /** The largest ratio sockstorm / floor that meets the goal, or an absolute limit for sockstorm. */
  goal?: { ratio?: number; below?: number };
}

const ROWS: Row[] = [
  { figure: 'time to open all users, s', key: 'openMs', digits: 2, scale: 1 / 1000, goal: { ratio: 1.0 } },
  {
    figure: 'RSS per user, baseline included, KiB',
    key: 'rssPerUser',
    digits: 2,
    scale: 1 / 1024,
    goal: { ratio: 1.0 },
  },
  { figure: 'echo RTT p50 at 1,000/s, ms', key: 'rttP50', digits: 2 },
  { figure: 'echo RTT p90 at 1,000/s, ms', key: 'rttP90', digits: 2 },
  { figure: 'echo RTT p99 at 1,000/s, ms', key: 'rttP99', digits: 2, goal: { ratio: 1.2 } },
  { figure: 'fan-out p50 of 5 broadcasts, ms', key: 'fanoutP50', digits: 1 },
  { figure: 'fan-out p99 of 5 broadcasts, ms', key: 'fanoutP99', digits: 1, goal: { ratio: 1.1 } },
  { figure: 'reach', key: 'reach', digits: 4 },
  { figure: 'loop delay p99, fleet idle, ms', key: 'idleLoopP99', digits: 2, goal: { below: 2 } },
  { figure: 'loop delay p99 during the RTT phase, ms', key: 'rttLoopP99', digits: 2 },
  { figure: 'CPU during the RTT phase, %', key: 'rttCpu', digits: 0 },
  { figure: 'loop delay p99 during the broadcasts, ms', key: 'fanoutLoopP99', digits: 1 },
];

async function benchSize(count: number): Promise<void> {
  console.log(
    `\n### ${count.toLocaleString('en-US')} users against a uWS server: the floor (a minimal ws ` +
      `client) beside sockstorm, ${ROUNDS} alternating rounds`,
  );
  const runs: Record<Side, Figures[]> = { minimal: [], sockstorm: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // who goes first alternates too, so warming up the machine favours neither
    const order: Side[] = round % 2 === 0 ? ['minimal', 'sockstorm'] : ['sockstorm', 'minimal'];
    for (const side of order) {
      const figures = await measure(side, count);
      runs[side].push({ ...figures, rssPerUser: figures.rssBytes! / Math.max(1, figures.open!) });
    }
  }
  const floor = median(runs.minimal);
  const ours = median(runs.sockstorm);
  const table = ROWS.map((row) => {
    const scale = row.scale ?? 1;
    const ratio = ours[row.key]! / floor[row.key]!;
    let goal = '';
    if (row.goal?.ratio !== undefined) goal = `${ratio <= row.goal.ratio ? 'met' : 'MISSED'} (<= ${row.goal.ratio})`;
    if (row.goal?.below !== undefined && count >= 18_000)
      goal = `${ours[row.key]! < row.goal.below ? 'met' : 'MISSED'} (< ${row.goal.below} ms)`;
    return {
      figure: row.figure,
      floor: `${fmt(floor[row.key]! * scale, row.digits)} (${range(runs.minimal, row.key, row.digits, scale)})`,
      sockstorm: `${fmt(ours[row.key]! * scale, row.digits)} (${range(runs.sockstorm, row.key, row.digits, scale)})`,
      ratio: Number.isFinite(ratio) ? fmt(ratio, 2) : '—',
      goal,
    };
  });
  console.table(table);
  console.log(
    `  medians (min-max); sockstorm: ${ours.errors} errors, ` +
      `${runs.sockstorm.map((r) => r.saturatedIntervals).join('/')} saturated seconds per round, ` +
      `${ours.rttSamples} RTT samples; open ${floor.open}/${ours.open}`,
  );
}

/** Runs both sizes and prints their tables. */
export async function runEngineBench(): Promise<void> {
  bundles = (await ensureBundles(WORKERS)) as string | null;
  if (!bundles) throw new Error('the bench workers could not be bundled (is esbuild installed?)');
  console.log(
    `\n## engine: does the generator add to what it measures? ` +
      `(${new Date().toISOString().slice(0, 10)}, ${process.versions.node}, loopback)`,
  );
  for (const count of SIZES) await benchSize(count);
}
