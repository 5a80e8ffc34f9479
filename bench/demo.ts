/**
 * `npm run bench -- demo`: the event-loop tuning demo of the README, as a user runs it:
 * `sockstorm compare examples/event-loop.storm` with the `ws` engine's JavaScript loop, the
 * same loop in slices that yield (`batched`) and uWS's C++ publish, at 10,000 users on this
 * machine, and prints the table (the HTML report goes to a temporary file, named at the end).
 * `BENCH_DEMO_USERS` shrinks it (the script's 10,000 becomes that), `BENCH_DEMO_ROUNDS` repeats
 * every variant in alternating order (default 1). About 1½ minutes at 10,000 on 2 cores.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../examples/event-loop.storm', import.meta.url));
const USERS = Number(process.env.BENCH_DEMO_USERS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_DEMO_ROUNDS ?? 1);
/** The variants the README's demo compares. */
export const DEMO_VARIANTS = [
  'ws-loop:engine=ws,fanout=loop',
  'ws-batched:engine=ws,fanout=batched',
  'uws:engine=uws',
] as const;

/** Runs the demo comparison and prints its table; resolves with the compare's exit code. */
export async function runDemoBench(): Promise<number> {
  if (!(Number.isInteger(USERS) && USERS > 0))
    throw new Error(`BENCH_DEMO_USERS must be a whole number, not "${process.env.BENCH_DEMO_USERS}"`);
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-demo-'));
  // the example as written holds 10,000 users; a smaller demo is the same script with fewer
  const script = USERS === 10_000 ? SCRIPT : join(dir, 'event-loop.storm');
  if (script !== SCRIPT) writeFileSync(script, readFileSync(SCRIPT, 'utf8').replaceAll('10000', String(USERS)));
  const report = join(dir, 'compare.html');
  const args = [
    'compare',
    script,
    ...DEMO_VARIANTS.flatMap((v) => ['--variant', v]),
    '--rounds',
    String(ROUNDS),
    '--report',
    report,
    '--json',
    join(dir, 'compare.json'),
    '--progress-interval',
    '5s',
  ];
  console.log(
    `\n## the event-loop tuning demo: ${USERS.toLocaleString('en-US')} users, ` +
      `${DEMO_VARIANTS.length} server setups, ${ROUNDS} round${ROUNDS > 1 ? 's' : ''} (loopback)`,
  );
  console.log(`sockstorm ${args.join(' ')}\n`);
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CI: 'true' },
  });
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  console.log(`\nexit ${code}; the report is ${report}`);
  return code;
}
