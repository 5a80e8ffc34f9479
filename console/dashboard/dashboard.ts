/**
 * `sockstorm dashboard`: a full-screen wall in its own terminal and process (blessed-contrib
 * never shares a terminal with Ink). It attaches to the snapshot stream of a running console
 * or run (`--metrics-port`); without `--attach` it starts the demo headless as a child
 * process and attaches to that. A 12×12 grid; one widget a file; `q` quits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import blessed from 'blessed';
import contrib from 'blessed-contrib';
import type { Snapshot } from '../engine/snapshot.ts';
import { fleetLines, latencyLines, surgeLines } from './series.ts';
import { followStream } from './stream-client.ts';
import { errorsBar } from './widgets/errors-bar.ts';
import { eventLog } from './widgets/event-log.ts';
import { healthGauge } from './widgets/health-gauge.ts';
import { lineChart } from './widgets/line-chart.ts';
import { recoveryTable } from './widgets/recovery-table.ts';
import { summaryBox } from './widgets/summary-box.ts';
import { PACKAGE_ROOT } from '../runtime.ts';
import { EXIT } from '../../target-server/exit-codes.ts';

const BIN = join(PACKAGE_ROOT, 'console', 'bin.mjs');
const DEMO = join(PACKAGE_ROOT, 'examples', 'demo.storm');

/** Starts the demo headless with a metrics port and resolves with its base URL. */
function startDemo(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'run', DEMO, '--metrics-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' } });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /metrics at (http:\/\/[^\s/]+)\/metrics/.exec(stderr);
      if (match) resolve({ url: match[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before it served snapshots: ${stderr.slice(-300)}`)));
  });
}

/** Runs the wall until `q`; resolves with the exit code. */
export async function runDashboard(attach: string | undefined): Promise<number> {
  if (!process.stdout.isTTY) {
    process.stderr.write('sockstorm dashboard: needs a terminal of its own\n');
    return EXIT.invalid;
  }
  const demo = attach ? null : await startDemo();
  const url = attach ?? demo!.url;
  const screen = blessed.screen({ smartCSR: true, title: 'sockstorm' });
  const grid = new contrib.grid({ rows: 12, cols: 12, screen });
  const updates: Array<(s: Snapshot, h: Snapshot[]) => void> = [
    lineChart(grid, [0, 0, 4, 6], 'Fleet (VUs)', fleetLines),
    lineChart(grid, [0, 6, 4, 6], 'Latency p99 per second (ms)', latencyLines),
    lineChart(grid, [4, 0, 4, 6], 'Reconnect surge (per second)', surgeLines),
    errorsBar(grid, [4, 6, 4, 3]),
    healthGauge(grid, [4, 9, 2, 3]),
    recoveryTable(grid, [8, 0, 4, 4]),
    summaryBox(grid, [8, 4, 4, 3]),
    eventLog(grid, [8, 7, 4, 5]),
  ];
  const status = grid.set(6, 9, 2, 3, contrib.log, { label: 'Stream' });
  const history: Snapshot[] = [];
  const controller = new AbortController();
  const done = new Promise<void>((resolve) => {
    screen.key(['q', 'C-c', 'escape'], () => {
      controller.abort();
      resolve();
    });
  });
  void followStream(url, (snapshot) => {
    history.push(snapshot);
    if (history.length > 600) history.shift();
    for (const update of updates) update(snapshot, history);
    screen.render();
  }, (text) => {
    status.log(text);
    screen.render();
  }, controller.signal);
  screen.render();
  await done;
  screen.destroy();
  if (demo) demo.child.kill('SIGINT');
  return 0;
}
