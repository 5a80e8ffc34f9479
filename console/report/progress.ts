/**
 * The live one-line progress of a headless run, on stderr: on a terminal it rewrites one
 * line each second, elsewhere (CI logs) it prints a line every few seconds.
 */
import type { Snapshot } from '../engine/snapshot.ts';

const ms = (value: number): string => (value >= 1000 ? `${(value / 1000).toFixed(1)}s` : `${value.toFixed(1)}ms`);

/** One line for one snapshot. */
export function progressLine(s: Snapshot): string {
  const f = s.fleet;
  const errors = Object.values(s.errors).reduce((sum, n) => sum + n, 0);
  const parts = [
    `[${(s.elapsedMs / 1000).toFixed(0).padStart(4)}s]`,
    `open ${f.open}/${f.target}`,
    `conn ${f.connecting} wait ${f.waiting}`,
    `+${s.rates.connectsPerSec.toFixed(0)}/s`,
  ];
  if (s.interval.connect.count > 0) parts.push(`hs p99 ${ms(s.interval.connect.p99)}`);
  if (s.interval.rtt.count > 0) parts.push(`rtt p99 ${ms(s.interval.rtt.p99)}`);
  if (s.interval.fanout.count > 0) parts.push(`fanout p99 ${ms(s.interval.fanout.p99)}`);
  parts.push(`err ${errors}`);
  parts.push(`loop p99 ${ms(s.health.loopDelayP99Ms)} cpu ${s.health.cpuPercent.toFixed(0)}%`);
  if (s.health.isSaturated) parts.push('SATURATED');
  return parts.join('  ');
}

/** Writes progress to a stream; returns the snapshot listener and a function that ends the line. */
export function progressWriter(stream: NodeJS.WriteStream): { onSnapshot(s: Snapshot): void; end(): void } {
  const isTty = Boolean(stream.isTTY) && !process.env.CI;
  let hasLine = false;
  return {
    onSnapshot(s) {
      if (isTty) {
        stream.write(`\r\x1b[2K${progressLine(s).slice(0, (stream.columns ?? 200) - 1)}`);
        hasLine = true;
      } else if (s.seq % 5 === 0 || s.health.isSaturated) {
        stream.write(`${progressLine(s)}\n`);
      }
    },
    end() {
      if (hasLine) stream.write('\n');
      hasLine = false;
    },
  };
}
