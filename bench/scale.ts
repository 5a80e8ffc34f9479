/**
 * `npm run bench -- scale`: one host holding 100,000 WebSocket connections on loopback,
 * through `sockstorm run` as a user would run it: 6 bundled servers (one port each) and 6
 * generator processes, a broadcast to everyone, a 10% reset and the recovery. Bounded to
 * 5 minutes; on 2 cores the generator is saturated throughout and the run says so.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));
const COUNT = Number(process.env.BENCH_SCALE ?? 100_000);
const PROCESSES = Number(process.env.BENCH_SCALE_PROCESSES ?? 6);

/** Runs the scale script and prints what was held. */
export async function runScaleBench(): Promise<void> {
  console.log(`\n## scale: ${COUNT} connections from one host (${PROCESSES} bundled servers, ${PROCESSES} generator processes)`);
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-scale-'));
  const script = join(dir, 'scale.storm');
  const json = join(dir, 'scale.json');
  writeFileSync(script, [
    'rate 4000/s', `vus ${COUNT}`, `await open ${COUNT} timeout 200s`, 'wait 2s', 'broadcast 3 size 64', 'wait 5s',
    'kill 10% reset', 'await recovered timeout 60s', `expect open >= ${COUNT}`, 'expect missed == 0', 'expect reach >= 0.99', '',
  ].join('\n'));
  const started = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = execFile(process.execPath, [BIN, 'run', script, '--servers', String(PROCESSES), '--workers', String(PROCESSES), '--json', json], { timeout: 300_000, maxBuffer: 1 << 24 });
    child.on('exit', (exit) => resolve(exit ?? 1));
  });
  const s = JSON.parse(readFileSync(json, 'utf8'));
  const r = s.recoveries[0] ?? {};
  console.table([{
    'exit': code, verdict: s.verdict, 'open at end': s.fleet.open, 'connects': s.totals.connects, 'errors': Object.values(s.errors as Record<string, number>).reduce((a, b) => a + b, 0),
    'bcast received': s.totals.broadcastsReceived, missed: s.totals.missed, 'reach min': s.broadcasts.minReach,
    'killed': r.dropped, 'recovered in s': r.fullMs != null ? (r.fullMs / 1000).toFixed(1) : '—',
    'generator RSS MiB': (s.health.rssMaxBytes / 1048576).toFixed(0), 'KiB/VU': (s.health.bytesPerOpenVu / 1024).toFixed(1),
    'saturated s': `${s.saturated.intervals}/${s.saturated.of}`, 'wall s': ((performance.now() - started) / 1000).toFixed(0),
  }]);
}
