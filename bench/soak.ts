/**
 * `npm run bench -- soak [MINUTES]`: the hostile-input catalog's soaks, at length (10 minutes
 * each by default). First the fuzz storm of test/hostile against the bundled server, with a
 * canary checked twice a second; then the interactive console driven through idling and
 * add/kill/broadcast cycles. Each prints its memory and what it handled once a minute.
 */
import { startCanaryServer } from '../test/helpers/canary.ts';
import { runStorm } from '../test/helpers/fuzz-storm.ts';
import { settle } from './bench-util.ts';

const MiB = 1048576;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

async function serverSoak(engine: 'uws' | 'ws', minutes: number): Promise<void> {
  console.log(`\nserver soak (${engine}): 50 fuzz clients and 4 admin callers for ${minutes} min, canary checked twice a second`);
  const s = await startCanaryServer(engine);
  const watcher = s.watch();
  const start = await s.stats();
  console.log(`  start    RSS ${mib(start.rssBytes)}, heap ${mib(start.heapUsedBytes)} in use of ${mib(start.heapTotalBytes)}`);
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
    console.log(
      `  min ${String(minute).padStart(2)}   RSS ${mib(now.rssBytes)}, heap ${mib(now.heapUsedBytes)} in use of ${mib(now.heapTotalBytes)}; frames sent ${frames}, handled ${now.messagesIn}, refused: ${refused}; admin ${now.admin.requests} (${Object.entries(
        now.admin.refused,
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')})`,
    );
  }
  const { checks, failures } = await watcher.stop();
  const end = await s.stats();
  // the first minute grows V8's heap reservation to its working size; growth after it is what a leak would show
  console.log(
    `  end      RSS ${mib(end.rssBytes)} (${((end.rssBytes / start.rssBytes - 1) * 100).toFixed(0)}% over the start, ${((end.rssBytes / afterFirst - 1) * 100).toFixed(0)}% over minute 1), ${adminRequests} admin requests sent, canary ${checks} ok, ${failures.length} failed${failures.length ? `: ${failures[0]}` : ''}`,
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
  console.log(`\nconsole soak: the Ink console for ${minutes} min, 8 s idle then +100, b, k y, -100, snapshots once a second`);
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
    `  end      RSS ${mib(process.memoryUsage.rss())} (${((process.memoryUsage.rss() / startRss - 1) * 100).toFixed(0)}% over the start), heap ${mib(heap())}, ${cycles} cycles, ${engine.getSnapshot().totals.connects} connects`,
  );
  view.unmount();
  await engine.stop();
}

/** Runs both soaks for `minutes` each. */
export async function runSoakBench(minutes = 10): Promise<void> {
  await serverSoak('uws', minutes);
  await consoleSoak(minutes);
}
