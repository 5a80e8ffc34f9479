/**
 * A `sockstorm run` the dashboard starts and watches (the demo, or `--run FILE`): headless in a
 * child process with a metrics port, its output kept for after the wall, its exit code the
 * dashboard's. It cannot outlive the dashboard: stopping is bounded, and an exit kills it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import { PACKAGE_ROOT } from '../runtime.ts';

const BIN = join(PACKAGE_ROOT, 'console', 'bin.mjs');

/** How long a stopped run may take to write its verdict before it is killed. */
export const STOP_TIMEOUT_MS = 20_000;

const STDERR_KEPT = 64 * 1024;

/** The run could not start serving snapshots: it exited first, with this code and output. */
export class RunStartError extends Error {
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`the run exited (${exitCode}) before it served snapshots`);
    this.name = 'RunStartError';
  }
}

/** A run being watched. */
export interface WatchedRun {
  /** The base URL of its metrics endpoint. */
  readonly url: string;
  /** Resolves with its exit code once it has exited (by itself or stopped). */
  readonly exited: Promise<number>;
  /** What it printed on stdout: its summary. */
  stdout(): string;
  stderr(): string;
  /**
   * Stops it as Ctrl+C would (it still prints its summary) and resolves with its exit code;
   * idempotent. `graceMs` first leaves a run that is finishing by itself that long to exit.
   */
  stop(graceMs?: number): Promise<number>;
}

function exitCodeOf(code: number | null): number {
  return code ?? EXIT.signal;
}

/** Starts `sockstorm run script --metrics-port 0` and resolves once it serves snapshots. */
export function startWatchedRun(script: string, extraArgs: readonly string[] = []): Promise<WatchedRun> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'run', script, '--metrics-port', '0', '--metrics-linger', '0', ...extraArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    },
  );
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number>((resolve) =>
    child.once('close', (code) => {
      process.off('exit', killOnExit);
      resolve(exitCodeOf(code));
    }),
  );
  let stopping: Promise<number> | null = null;
  return new Promise((resolve, reject) => {
    let isServing = false;
    child.stderr!.on('data', (chunk: Buffer) => {
      // its progress lines: the tail is enough to explain a failure
      stderr = (stderr + chunk.toString()).slice(-STDERR_KEPT);
      const match = isServing ? null : /metrics at (http:\/\/[^\s/]+)\/metrics/.exec(stderr);
      if (!match) return;
      isServing = true;
      resolve({
        url: match[1]!,
        exited,
        stdout: () => stdout,
        stderr: () => stderr,
        stop(graceMs = 0) {
          stopping ??= (async () => {
            // a run whose stream ended is writing its verdict: a Ctrl+C now would make it 105
            if (graceMs > 0)
              await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
            const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
            const code = await exited;
            clearTimeout(timer);
            return code;
          })();
          return stopping;
        },
      });
    });
    void exited.then((code) => reject(new RunStartError(code, stderr)));
  });
}
