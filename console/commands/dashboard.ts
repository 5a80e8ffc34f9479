/**
 * `sockstorm dashboard`: a full-screen wall in its own terminal and process (blessed-contrib
 * never shares a terminal with Ink). It attaches to the snapshot stream of a running console
 * or run (`--attach URL`, from `--metrics-port`); otherwise it starts a run headless as a
 * child process (the demo, or `--run FILE`), watches it, and after `q` prints that run's
 * verdict on the restored terminal and exits with its code.
 *
 * An `--attach` address that does not answer as a sockstorm endpoint is refused before the
 * screen is taken (exit 104). A stream that ends or breaks later leaves the wall up with its
 * last figures and says so on the key line until `q`.
 */
import { join } from 'node:path';
import blessed from 'blessed';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';
import { PACKAGE_ROOT } from '../runtime.ts';
import { DASHBOARD_KEYS, INITIAL_WALL, reduceWall, type WallAction } from '../dashboard/keys.ts';
import {
  AttachError,
  attachStream,
  parseAttachUrl,
  type AttachedStream,
  type StreamEnd,
} from '../dashboard/stream-client.ts';
import { buildWall } from '../dashboard/wall.ts';
import { RunStartError, startWatchedRun, type WatchedRun } from '../dashboard/watched-run.ts';

const DEMO = join(PACKAGE_ROOT, 'examples', 'demo.storm');

/** How long a run whose stream ended may take to exit by itself before it is stopped. */
const FINISHING_MS = 5000;

const QUIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Snapshots kept for the charts (they show the last `WINDOW`). */
const HISTORY = 600;

/** What `sockstorm dashboard` was asked. */
export interface DashboardOptions {
  /** The base URL of a metrics endpoint to watch. */
  attach?: string;
  /** A script to run and watch instead of the demo. */
  run?: string;
}

function say(text: string): void {
  process.stderr.write(`sockstorm dashboard: ${text}\n`);
}

function hasTerminal(): boolean {
  return Boolean(process.stdout.isTTY && process.stdin.isTTY);
}

const NEEDS_TERMINAL =
  'needs a terminal of its own (stdin and stdout a TTY); `sockstorm run` prints progress without one';

/** Runs the wall until `q`; resolves with the exit code. */
export async function runDashboard(options: DashboardOptions): Promise<number> {
  if (options.attach !== undefined && options.run !== undefined) {
    say('--attach watches a run started elsewhere, --run starts one: give one of them');
    return EXIT.invalid;
  }
  const controller = new AbortController();
  if (options.attach !== undefined) {
    let stream: AttachedStream;
    try {
      stream = await attachStream(parseAttachUrl(options.attach), controller.signal);
    } catch (error) {
      if (!(error instanceof AttachError)) throw error;
      say(`${error.message} [${error.code}]`);
      return EXIT.invalid;
    }
    if (!hasTerminal()) {
      controller.abort();
      say(NEEDS_TERMINAL);
      return EXIT.invalid;
    }
    return showWall(stream, null, controller);
  }
  if (!hasTerminal()) {
    say(NEEDS_TERMINAL);
    return EXIT.invalid;
  }
  let run: WatchedRun;
  try {
    run = await startWatchedRun(options.run ?? DEMO);
  } catch (error) {
    if (!(error instanceof RunStartError)) throw error;
    process.stderr.write(error.stderr);
    say(error.message);
    return error.exitCode === EXIT.passed ? EXIT.error : error.exitCode;
  }
  try {
    return await showWall(await attachStream(run.url, controller.signal), run, controller);
  } catch (error) {
    if (!(error instanceof AttachError)) throw error;
    const code = await run.stop();
    say(error.message);
    process.stdout.write(run.stdout());
    return code === EXIT.passed ? EXIT.error : code;
  }
}

function endReason(end: StreamEnd, isOwnRun: boolean): string {
  if (end.kind === 'broken') return `the stream broke (${end.message})`;
  return isOwnRun ? 'the run finished' : 'stream ended: the run finished or died';
}

async function showWall(stream: AttachedStream, run: WatchedRun | null, controller: AbortController): Promise<number> {
  const screen = blessed.screen({ smartCSR: true, title: 'sockstorm', fullUnicode: true });
  const history: Snapshot[] = [stream.first];
  let state = reduceWall(INITIAL_WALL, { type: 'attached', url: stream.url });
  let wall = buildWall(screen);
  // what a paused wall shows: the history as it was when `p` was pressed
  let frozen: Snapshot[] = history;
  const draw = (): void => {
    wall.update(state.isPaused ? frozen : history);
    wall.setState(state);
    screen.render();
  };
  const dispatch = (action: WallAction): void => {
    state = reduceWall(state, action);
    if (!state.isPaused) frozen = history;
    else if (frozen === history) frozen = history.slice();
    draw();
  };
  screen.on('resize', () => {
    wall.destroy();
    wall = buildWall(screen);
    draw();
  });
  let quit = (): void => {};
  const quitting = new Promise<void>((resolve) => {
    quit = resolve;
  });
  for (const key of DASHBOARD_KEYS)
    screen.key([...key.keys], () => (key.action === 'quit' ? quit() : dispatch({ type: 'key', action: key.action })));
  // a signal, or the terminal closing, is a q: a run the wall started is stopped, not left behind
  for (const signal of QUIT_SIGNALS) process.once(signal, quit);
  draw();
  void stream
    .follow((snapshot) => {
      history.push(snapshot);
      if (history.length > HISTORY) history.shift();
      if (!state.isPaused) draw();
    })
    .then((end) => {
      if (end.kind !== 'aborted')
        dispatch({ type: 'stream-ended', reason: endReason(end, run !== null), isOwnRun: run !== null });
    });
  await quitting;
  for (const signal of QUIT_SIGNALS) process.off(signal, quit);
  controller.abort();
  let code: number = EXIT.passed;
  if (run) {
    dispatch({ type: 'stopping' });
    code = await run.stop(state.isEnded ? FINISHING_MS : 0);
  }
  screen.destroy();
  // the run's verdict, on the terminal the wall gave back
  if (run) process.stdout.write(run.stdout());
  return code;
}
