/**
 * The end summary as a person reads it: one screen, every figure with its unit, each
 * threshold's verdict and the share of its samples the generator's saturation touched.
 * Failed thresholds are red on a terminal. Pure.
 */
import { adviceFor } from '../engine/measure/classify-error.ts';
import { errorTotal } from '../engine/measure/snapshot.ts';
import { namedAddresses } from '../engine/users/sources.ts';
import { MAX_TOPICS, MAX_TOPICS_PER_USER } from '../engine/measure/topic-lru.ts';
import { metricKind, type ThresholdResult } from '../verdict/thresholds.ts';
import { bytes, count, ms, NONE, percent, plain } from './format.ts';
import { partLine } from './part-health.ts';
import type { LatencyFigures, RunSummary } from './summary.ts';
import { INCONCLUSIVE_SHARE } from '../verdict/verdict.ts';

/** How to print: colours only on a terminal that wants them. */
export interface TextOptions {
  color?: boolean;
}

const PAINT = { red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', bold: '\x1b[1m', off: '\x1b[0m' } as const;

/** A metric's value in its form: `169ms`, `99.5%` (or `0.995` when the threshold was written as a ratio), `3`. */
export function metricText(metric: string, value: number | null, asWritten = ''): string {
  if (value === null) return NONE;
  const kind = metricKind(metric);
  if (kind === 'duration') return ms(value);
  if (kind === 'ratio') return /%/.test(asWritten) || asWritten === '' ? percent(value) : plain(value);
  return plain(value);
}

function latencyLine(name: string, s: LatencyFigures): string {
  if (s.count === 0) return `  ${name.padEnd(10)} ${NONE.padStart(8)}  (not measured)`;
  return (
    `  ${name.padEnd(10)} ${[s.p50, s.p90, s.p99, s.max].map((v) => ms(v).padStart(8)).join(' ')}  ` +
    `${count(s.count).padStart(7)}`
  );
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || host.startsWith('127.');
  } catch {
    return false;
  }
}

/** One result line: mark, what was asked, what was measured, and how much of it the generator's saturation touched. */
export function thresholdLine(r: ThresholdResult): string {
  if (r.metric === 'command') return `  ✗ failed: ${r.source}`;
  if (r.metric === 'fault') return `  ✗ fault: ${r.source}`;
  if (r.metric === 'await') return `  ✗ ${r.source}: timed out with ${r.actual} of ${r.value} open`;
  if (r.metric === 'connects') return `  ✗ ${r.source}`;
  const mark = r.status === 'passed' ? '✓' : r.status === 'failed' ? '✗' : r.status === 'stopped' ? '-' : '?';
  const written = r.source.split(/\s+/).pop() ?? '';
  const share =
    r.saturatedShare === null || r.actual === null ? '' : `, ${percent(r.saturatedShare)} of its samples saturated`;
  const why =
    r.status === 'stopped'
      ? ': not judged, the run was stopped'
      : r.status === 'inconclusive'
        ? `: INCONCLUSIVE, more than ${percent(INCONCLUSIVE_SHARE)} of its samples were taken while the generator was saturated (its figure is partly the generator's)`
        : r.actual === null
          ? ': not measured (a threshold cannot pass unmeasured)'
          : '';
  return `  ${mark} expect ${r.source}  (actual ${metricText(r.metric, r.actual, written)}${share})${why}`;
}

/** The end summary as a person reads it: one screen. */
export function formatSummary(summary: RunSummary, options: TextOptions = {}): string {
  const paint = (color: keyof typeof PAINT, text: string): string =>
    options.color ? `${PAINT[color]}${text}${PAINT.off}` : text;
  const lines: string[] = [];
  const t = summary.totals;
  const verdictWord =
    summary.verdict === 'passed' && summary.thresholds.length === 0
      ? 'PASSED (no thresholds)'
      : summary.verdict.toUpperCase();
  const verdictColor = summary.verdict === 'passed' ? 'green' : summary.verdict === 'failed' ? 'red' : 'yellow';
  const more = summary.target.endpoints > 1 ? ` and ${summary.target.endpoints - 1} more` : '';
  const bundled = summary.target.isBundled ? ` (bundled ${summary.target.serverEngine})` : '';
  const target = `${summary.target.url}${more}${bundled}`;
  lines.push(
    `sockstorm run: ${paint(verdictColor, `${verdictWord} (exit ${summary.exitCode})`)} after ` +
      `${ms(summary.durationMs)} against ${target}`,
  );
  // over several parts the peak is the sum of theirs, which they may not have reached together
  const partCount = summary.parts?.length ?? 0;
  const peak =
    partCount > 1
      ? `peak at most ${summary.fleet.peakOpen}, over ${partCount} parts`
      : `peak ${summary.fleet.peakOpen}`;
  lines.push(
    `fleet      open ${summary.fleet.open}/${summary.fleet.target} at the end of the script (${peak})  ` +
      `attempts ${t.attempts}  connects ${t.connects}  failures ${t.failures}  drops ${t.disconnects}  ` +
      `killed ${t.killed}  reconnect ${summary.fleet.policy}`,
  );
  lines.push(
    `latency    ${['p50', 'p90', 'p99', 'max'].map((h) => h.padStart(8)).join(' ')}  ${'samples'.padStart(7)}`,
  );
  for (const [name, s] of Object.entries(summary.latency)) lines.push(latencyLine(name, s));
  if (summary.latency.fanout.count > 0 && !summary.target.isBundled && !isLoopback(summary.target.url)) {
    lines.push(
      "  fan-out from the target's send time is one-way across two clocks: trust it only as far as they agree",
    );
  }
  for (const r of summary.recoveries.slice(-3)) {
    lines.push(
      `recovery   ${r.action}: dropped ${r.dropped}, 95% in ${ms(r.p95Ms)}, 100% in ${ms(r.fullMs)}, ` +
        `peak ${r.peakHandshakesPerSec} handshakes/s, ${r.attempts} attempts, ${r.failures} failed`,
    );
  }
  const b = summary.broadcasts;
  if (b.settled > 0 || b.unsent > 0) {
    const unsent = b.unsent > 0 ? `; ${b.unsent} never sent (the script ended before their series did)` : '';
    lines.push(
      `broadcast  ${b.settled} settled, lowest reach ${percent(b.minReach)}, missed seq ${t.missed}, ` +
        `cut seq ${t.cut} (by the tool's own cuts), received ${t.broadcastsReceived}${unsent}`,
    );
  }
  if (t.topicsEvicted > 0 || t.userTopicsEvicted > 0) {
    lines.push(
      `topics     evicted ${count(t.topicsEvicted)} past the fleet's bound of ${count(MAX_TOPICS)}, ` +
        `${count(t.userTopicsEvicted)} past a user's of ${MAX_TOPICS_PER_USER}: figures on a topic start ` +
        `over when it comes back`,
    );
  }
  const checks = Object.entries(summary.checks ?? {});
  if (checks.length > 0) {
    const each = checks.map(([name, c]) => {
      const judged = c.passes + c.fails;
      const failed = c.fails > 0 ? ` (${count(c.fails)} failed)` : '';
      return `${name} ${percent(judged > 0 ? c.passes / judged : null)} of ${count(judged)}${failed}`;
    });
    lines.push(`checks     ${each.join('  ')}`);
  }
  if (summary.sources) {
    const { addresses, chosenBy, peakOpenPerAddress } = summary.sources;
    lines.push(
      `sources    users dialled from ${namedAddresses(addresses)} ` +
        `(${chosenBy === 'spread' ? 'spread: one address had too few ports' : '--source-addresses'}): at ` +
        `most ${peakOpenPerAddress} open at once from one address, which is what a per-address limit on ` +
        `the target saw`,
    );
  }
  if (t.sendDropped > 0)
    lines.push(
      `sends      ${count(t.sendDropped)} dropped: users already held their send buffer unsent (the ` +
        `target was not reading fast enough; --send-buffer)`,
    );
  if (t.churn > 0)
    lines.push(
      `churn      ${count(t.churn)} sessions ended as planned and reconnected (session D): not drops, not errors`,
    );
  const errors = Object.entries(summary.errors).sort((x, y) => y[1] - x[1]);
  const errorLine = `${errorTotal(summary.errors)} (${percent(summary.errorRate)} of attempts failed)`;
  lines.push(`errors     ${errors.length === 0 ? 'none' : errorLine}`);
  for (const [errorClass, n] of errors.slice(0, 6))
    lines.push(`  ${errorClass.padEnd(24)} ${String(n).padStart(7)}  ${adviceFor(errorClass)}`);
  const h = summary.health;
  lines.push(
    `generator  loop delay p99 max ${ms(h.loopDelayP99MaxMs)}, utilisation max ` +
      `${percent(h.utilizationMax)}, CPU max ${percent(h.cpuPercentMax / 100)}, RSS max ` +
      `${bytes(h.rssMaxBytes)}, ${bytes(h.bytesPerOpenVu)} per open user`,
  );
  const sat = summary.saturated;
  lines.push(
    `           saturated ${sat.intervals} of ${sat.of} s (${percent(sat.share)}); each threshold below says how many of its samples were`,
  );
  // each part on a line of its own when there are several (one agent's is the generator line above)
  const parts = summary.parts ?? [];
  if (parts.length > 1 || parts.some((p) => p.lost))
    for (const [i, part] of parts.entries()) lines.push(`${i === 0 ? 'parts     ' : '          '} ${partLine(part)}`);
  if (summary.server) {
    const s = summary.server;
    lines.push(
      `server     (last /stats) ${s.engine}${s.native ? ' (native)' : ''}: ${s.connections} open, ` +
        `${s.messagesOut} sent, loop delay p99 ${ms(s.loop.delayP99Ms)}, publish max ` +
        `${ms(s.publishMsMax)}, RSS ${bytes(s.rssBytes)}`,
    );
  }
  if (summary.thresholds.length > 0) lines.push('thresholds');
  for (const r of summary.thresholds) {
    const line = thresholdLine(r);
    lines.push(r.status === 'failed' ? paint('red', line) : r.status === 'inconclusive' ? paint('yellow', line) : line);
  }
  for (const note of summary.notes) lines.push(`note       ${note}`);
  return lines.join('\n');
}
