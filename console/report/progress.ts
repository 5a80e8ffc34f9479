/**
 * The live progress of a headless run, on stderr: one line per interval (a second unless
 * `--progress-interval` says otherwise) with the elapsed time and, when the script's length
 * is known, the total. On a terminal the line is rewritten in place; in CI logs each is a line
 * of its own. Teardown is not progress: the snapshot taken while stopping is not shown.
 */
import { errorTotal, type Snapshot } from '../engine/measure/snapshot.ts';
import { clock, ms, percent, rate } from './format.ts';

/** One progress line a second, unless `--progress-interval` says otherwise. */
export const PROGRESS_INTERVAL_MS = 1000;

/** One line for one snapshot; `totalMs` is the script's length when it is known. */
export function progressLine(s: Snapshot, totalMs: number | null = null): string {
  const f = s.fleet;
  const errors = errorTotal(s.errors);
  const parts = [
    `[${clock(s.elapsedMs)}${totalMs === null ? '' : `/${clock(totalMs)}`}]`,
    `open ${f.open}/${f.target}`,
    `conn ${f.connecting} wait ${f.waiting}`,
    `+${rate(s.rates.connectsPerSec)}`,
  ];
  if (s.interval.connect.count > 0) parts.push(`hs p99 ${ms(s.interval.connect.p99)}`);
  if (s.interval.rtt.count > 0) parts.push(`rtt p99 ${ms(s.interval.rtt.p99)}`);
  if (s.interval.fanout.count > 0) parts.push(`fanout p99 ${ms(s.interval.fanout.p99)}`);
  parts.push(`err ${errors}`);
  parts.push(`loop p99 ${ms(s.health.loopDelayP99Ms)} cpu ${percent(s.health.cpuPercent / 100)}`);
  if (s.health.isSaturated) parts.push(`SATURATED (${s.saturatedIntervals}/${s.intervals} s)`);
  return parts.join('  ');
}

/** Options of {@link progressWriter}. */
export interface ProgressOptions {
  /** One line per this many ms (rounded to whole snapshots). @default 1000 */
  intervalMs?: number;
  /** The script's length, when every step has one. */
  totalMs?: number | null;
}

/** Writes progress to a stream; returns the snapshot listener and a function that ends the line. */
export function progressWriter(
  stream: NodeJS.WriteStream,
  options: ProgressOptions = {},
): { onSnapshot(s: Snapshot): void; end(): void } {
  const isTty = Boolean(stream.isTTY) && !process.env.CI;
  const intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  let hasLine = false;
  let lastAt = -Infinity;
  return {
    onSnapshot(s) {
      // the start (nothing measured yet) and the teardown are not progress
      if (s.isStopped || s.intervals === 0) return;
      if (s.elapsedMs - lastAt < intervalMs - 100) return;
      lastAt = s.elapsedMs;
      const line = progressLine(s, options.totalMs ?? null);
      if (isTty) {
        stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 200) - 1)}`);
        hasLine = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    end() {
      if (hasLine) stream.write('\n');
      hasLine = false;
    },
  };
}
