/**
 * `npm run bench -- soak [MINUTES]`: the hostile-input catalog's soaks, at length (10 minutes
 * each by default). First the fuzz storm of test/hostile against the bundled server, with a
 * canary checked twice a second; then the interactive console driven through idling and
 * add/kill/broadcast cycles; then `sockstorm run` against a hostile target (test/helpers/
 * hostile-target.ts), a quarter of the time for each preset, beside a one-minute clean run
 * against the same server with the hostility off. Each prints its memory once a minute.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCanaryServer } from '../test/helpers/canary.ts';
import { runStorm } from '../test/helpers/fuzz-storm.ts';
import { type Preset, startHostileTarget } from '../test/helpers/hostile-target.ts';
import { ENGINE_DEFAULTS } from '../console/engine/engine-options.ts';
import { settle } from './bench-util.ts';

const MiB = 1048576;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

async function serverSoak(engine: 'uws' | 'ws', minutes: number): Promise<void> {
  console.log(
    `\nserver soak (${engine}): 50 fuzz clients and 4 admin callers for ${minutes} min, canary checked twice a second`,
  );
  const s = await startCanaryServer(engine);
  const watcher = s.watch();
  const start = await s.stats();
  console.log(
    `  start    RSS ${mib(start.rssBytes)}, heap ${mib(start.heapUsedBytes)} in use of ${mib(start.heapTotalBytes)}`,
  );
  const target = s.target;
  let frames = 0;
  let adminRequests = 0;
  let afterFirst = 0;
  for (let minute = 1; minute <= minutes; minute++) {
    const storm = await runStorm(target, { clients: 50, adminCallers: 4, durationMs: 60_000, seed: minute });
    frames += storm.frames;
    adminRequests += storm.adminRequests;
    await settle(2000);
    const now = await s.stats();
    if (minute === 1) afterFirst = now.rssBytes;
    const refused = Object.entries(now.refused)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const adminRefused = Object.entries(now.admin.refused)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    console.log(
      `  min ${String(minute).padStart(2)}   RSS ${mib(now.rssBytes)}, heap ${mib(now.heapUsedBytes)} ` +
        `in use of ${mib(now.heapTotalBytes)}; frames sent ${frames}, handled ${now.messagesIn}, ` +
        `refused: ${refused}; admin ${now.admin.requests} (${adminRefused})`,
    );
  }
  const { checks, failures } = await watcher.stop();
  const end = await s.stats();
  // the first minute grows V8's heap reservation to its working size; growth after it is what a leak would show
  console.log(
    `  end      RSS ${mib(end.rssBytes)} (${((end.rssBytes / start.rssBytes - 1) * 100).toFixed(0)}% ` +
      `over the start, ${((end.rssBytes / afterFirst - 1) * 100).toFixed(0)}% over minute 1), ` +
      `${adminRequests} admin requests sent, canary ${checks} ok, ${failures.length} ` +
      `failed${failures.length ? `: ${failures[0]}` : ''}`,
  );
  await s.stop();
}

async function consoleSoak(minutes: number): Promise<void> {
  // the console as users run it: React's production build (the test covers the development one)
  process.env.NODE_ENV ??= 'production';
  const { render } = await import('ink-testing-library');
  const React = await import('react');
  const { createEngine } = await import('../console/engine/engine.ts');
  const { ConsoleSession } = await import('../console/script/console-session.ts');
  const { App } = await import('../console/ui/app.tsx');
  console.log(
    `\nconsole soak: the Ink console for ${minutes} min, 8 s idle then +100, b, k y, -100, snapshots once a second`,
  );
  const engine = await createEngine({ ratePerSec: 5000 });
  const view = render(React.createElement(App, { engine, session: new ConsoleSession(engine), onQuit: () => {} }));
  const until = (check: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const timer = setInterval(() => {
        if (check()) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
  const heap = (): number => process.memoryUsage().heapUsed;
  const startRss = process.memoryUsage.rss();
  console.log(`  start    RSS ${mib(startRss)}, heap ${mib(heap())}`);
  let cycles = 0;
  const deadline = performance.now() + minutes * 60_000;
  let nextReport = performance.now() + 60_000;
  while (performance.now() < deadline) {
    await settle(8000);
    view.stdin.write('+');
    await until(() => engine.live().open === 100);
    view.stdin.write('b');
    await settle(300);
    view.stdin.write('k');
    await settle(50);
    view.stdin.write('y');
    await until(() => engine.live().isRecovered && engine.live().open === 100);
    view.stdin.write('-');
    await until(() => engine.live().open === 0);
    cycles++;
    if (performance.now() >= nextReport) {
      nextReport += 60_000;
      console.log(`  ${cycles} cycles   RSS ${mib(process.memoryUsage.rss())}, heap ${mib(heap())}`);
    }
  }
  console.log(
    `  end      RSS ${mib(process.memoryUsage.rss())} ` +
      `(${((process.memoryUsage.rss() / startRss - 1) * 100).toFixed(0)}% over the start), heap ` +
      `${mib(heap())}, ${cycles} cycles, ${engine.getSnapshot().totals.connects} connects`,
  );
  view.unmount();
  await engine.stop();
}

const USERS = 50;
const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));
const PAD = 'x'.repeat(200);
const HOSTILE_SCRIPTS: Record<Preset, string> = {
  raw: `vus ${USERS}\nwait 3s\nmessages 2000/s {"pad":"${PAD}"}\ncheck canary data.seq > 0\n`,
  socketio: `protocol socketio\nvus ${USERS}\nwait 3s\nmessages 2000/s pad {"pad":"${PAD}"}\ncheck canary seq > 0\n`,
  'graphql-ws':
    `protocol graphql-ws\non open send {"query":"subscription { canary }"}\nvus ${USERS}\nwait ` +
    `3s\ncheck canary seq > 0\n`,
  mqtt:
    `protocol mqtt\nconnect {"clientId":"c{{vu}}"}\non open send subscribe canary\nvus ` +
    `${USERS}\nwait 3s\nmessages 2000/s publish pad {"pad":"${PAD}"}\ncheck canary seq > 0\n`,
};

/**
 * One `sockstorm run` of `minutes` against a hostile (or clean) target;
 * prints RSS once a minute from its NDJSON; returns its summary.
 */
async function hostileRun(
  preset: Preset,
  minutes: number,
  isHostile: boolean,
): Promise<{ rssMaxBytes: number; errors: Record<string, number>; code: number | null; checks: number }> {
  const target = await startHostileTarget({ seed: 11, kinds: isHostile ? undefined : [] });
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-soak-'));
  const [script, json, ndjson] = [join(dir, 's.storm'), join(dir, 'summary.json'), join(dir, 'series.ndjson')];
  writeFileSync(script, `${HOSTILE_SCRIPTS[preset]}wait ${minutes}m\n`);
  const paths =
    preset === 'raw'
      ? ['--topic-path', 'topic', '--seq-path', 'data.seq', '--ts-path', 'data.ts']
      : ['--seq-path', 'seq', '--ts-path', 'ts'];
  const child = spawn(
    process.execPath,
    [BIN, 'run', script, '--target', target.url, ...paths, '--json', json, '--ndjson', ndjson],
    {
      stdio: 'ignore',
      env: { ...process.env, CI: 'true' },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const minute = setInterval(() => {
    if (!existsSync(ndjson)) return;
    const lines = readFileSync(ndjson, 'utf8').trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as {
      elapsedMs: number;
      fleet: { open: number };
      health: { rssBytes: number; heapUsedBytes: number };
      errors: Record<string, number>;
    };
    const faults = Object.values(last.errors).reduce((sum, n) => sum + n, 0);
    console.log(
      `  ${preset.padEnd(10)} ${(last.elapsedMs / 60_000).toFixed(0)} min  RSS ` +
        `${mib(last.health.rssBytes)}, heap ${mib(last.health.heapUsedBytes)}, open ${last.fleet.open}, ` +
        `faults counted ${faults}`,
    );
  }, 60_000);
  const code = await exited;
  clearInterval(minute);
  await target.close();
  const summary = JSON.parse(readFileSync(json, 'utf8')) as {
    health: { rssMaxBytes: number };
    errors: Record<string, number>;
    checks: Record<string, { passes: number }>;
  };
  return {
    rssMaxBytes: summary.health.rssMaxBytes,
    errors: summary.errors,
    code,
    checks: summary.checks.canary?.passes ?? 0,
  };
}

async function hostileTargetSoak(minutes: number): Promise<void> {
  const each = Math.max(1, Math.round(minutes / 4));
  console.log(
    `\nhostile target soak: sockstorm run, 50 users for ${each} min a preset against a server mixing ` +
      `nested, huge, partial, endless-topic, control-character, garbage and not-reading traffic with a ` +
      `canary tick`,
  );
  for (const preset of ['raw', 'socketio', 'graphql-ws', 'mqtt'] as const) {
    const clean = await hostileRun(preset, 1, false);
    const hostile = await hostileRun(preset, each, true);
    const classes = Object.entries(hostile.errors)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    // what the README bounds: each user holds at most a frame (--max-payload) being read and its --send-buffer unsent
    const bound = clean.rssMaxBytes + USERS * (ENGINE_DEFAULTS.maxPayloadBytes + ENGINE_DEFAULTS.sendBufferBytes);
    console.log(
      `  ${preset.padEnd(10)} RSS max ${mib(hostile.rssMaxBytes)} hostile against ` +
        `${mib(clean.rssMaxBytes)} clean (${(hostile.rssMaxBytes / clean.rssMaxBytes).toFixed(2)}x); ` +
        `within the clean run plus ${USERS} users x (max-payload + send-buffer) = ${mib(bound)}: ` +
        `${hostile.rssMaxBytes <= bound ? 'met' : 'MISSED'}; exit ${hostile.code}, canary checks passed ` +
        `${hostile.checks}; counted: ${classes}`,
    );
  }
}

/** Runs the three soaks for `minutes` each. */
export async function runSoakBench(minutes = 10): Promise<void> {
  await serverSoak('uws', minutes);
  await consoleSoak(minutes);
  await hostileTargetSoak(minutes);
}
