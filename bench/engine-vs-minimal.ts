/**
 * sockstorm's engine against a minimal `ws` client, each in its own process, each against a
 * fresh bundled uWS server: 10,000 VUs, connect rate, RSS per open VU, fan-out and reach over
 * 10 broadcasts, RTT at 1,000 probes per second, and the client's own loop delay.
 * Goals: connect rate >= 0.9x, memory per VU <= 1.25x, fan-out p99 <= 1.1x the minimal client.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBundledServer } from '../console/engine/bundled-server.ts';

const COUNT = Number(process.env.BENCH_CLIENTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WORKER = fileURLToPath(new URL('./client-worker.ts', import.meta.url));

function runWorker(mode: 'minimal' | 'sockstorm', url: string, adminUrl: string, token: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--import', import.meta.resolve('tsx'), WORKER, mode, url, adminUrl, token, String(COUNT)],
      { timeout: 300_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
        if (error) return reject(new Error(`${mode} worker failed: ${error.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      });
  });
}

async function measure(mode: 'minimal' | 'sockstorm'): Promise<Record<string, number>> {
  const server = await startBundledServer({ engine: 'uws' });
  try {
    return await runWorker(mode, `${server.url}?topics=bench`, server.adminUrl, server.info.token);
  } finally {
    await server.stop();
  }
}

const fmt = (value: number | undefined, digits = 1): string => (value === undefined ? '—' : value.toFixed(digits));

/** Runs both clients and prints the figures side by side with the goals. */
export async function runEngineBench(): Promise<void> {
  console.log(`\n## engine: ${COUNT} VUs against the bundled uWS server, sockstorm beside a minimal ws client`);
  // alternate the two sides and take the median of each figure: one run on 2 cores is noisy
  const runs: Record<'minimal' | 'sockstorm', Array<Record<string, number>>> = { minimal: [], sockstorm: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.minimal.push(await measure('minimal'));
    runs.sockstorm.push(await measure('sockstorm'));
  }
  const median = (rows: Array<Record<string, number>>): Record<string, number> => Object.fromEntries(Object.keys(rows[0]!).map((key) => {
    const sorted = rows.map((r) => r[key]!).sort((a, b) => a - b);
    return [key, sorted[Math.floor(sorted.length / 2)]!];
  }));
  const minimal = median(runs.minimal);
  const ours = median(runs.sockstorm);
  console.log(`  median of ${ROUNDS} alternating rounds per side`);
  const row = (name: string, m: number, s: number, digits = 1) => ({ figure: name, 'minimal ws': fmt(m, digits), sockstorm: fmt(s, digits), ratio: fmt(s / m, 2) });
  console.table([
    row('open VUs', minimal.open!, ours.open!, 0),
    row('connect rate /s', minimal.connectPerSec!, ours.connectPerSec!, 0),
    row('RSS per open VU, KiB', minimal.bytesPerVu! / 1024, ours.bytesPerVu! / 1024, 2),
    row('fan-out p50 ms', minimal.fanoutP50!, ours.fanoutP50!),
    row('fan-out p99 ms', minimal.fanoutP99!, ours.fanoutP99!),
    row('reach', minimal.reach!, ours.reach!, 4),
    row('RTT p50 ms @1000/s', minimal.rttP50!, ours.rttP50!, 2),
    row('RTT p99 ms @1000/s', minimal.rttP99!, ours.rttP99!, 2),
    row('client loop delay p99 ms', minimal.loopP99!, ours.loopP99!),
  ]);
  const goals = [
    ['connect rate >= 0.9x', ours.connectPerSec! / minimal.connectPerSec! >= 0.9],
    ['memory per VU <= 1.25x', ours.bytesPerVu! / minimal.bytesPerVu! <= 1.25],
    ['fan-out p99 <= 1.1x', ours.fanoutP99! / minimal.fanoutP99! <= 1.1],
  ] as const;
  for (const [goal, isMet] of goals) console.log(`  ${isMet ? 'met ' : 'MISSED'}  ${goal}`);
  console.log(`  sockstorm: ${ours.errors} errors, ${ours.saturatedIntervals} saturated intervals, ${ours.rttSamples} RTT samples`);
}
