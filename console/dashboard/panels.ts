/**
 * Pure text of the wall's text panels (figures, recovery, errors, generator, events): each
 * is lines of plain text cut to the panel's inner size, every figure through the one
 * formatter. Tested without a terminal.
 */
import { errorTotal, type Snapshot } from '../engine/measure/snapshot.ts';
import { clock, count, bytes, ms, percent, rate } from '../report/format.ts';

/** A panel's inner size in characters (its box less the border). */
export interface Inner {
  width: number;
  height: number;
}

/** What a panel shows: its lines and whether it calls for attention (drawn in red). */
export interface PanelText {
  lines: string[];
  isAlert?: boolean;
}

/** Cuts `text` to `width` characters, marking the cut with `…`. */
export function clip(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function pair(label: string, value: string, width: number): string {
  const room = Math.max(0, width - label.length - 1);
  return `${label} ${clip(value, room).padStart(room)}`;
}

/** The figures at a glance, in two columns: the fleet on the left, latency and fan-out on the right. */
export function nowPanel(s: Snapshot, inner: Inner): PanelText {
  const l = s.latency;
  const p99 = (summary: { count: number; p99: number }): string => (summary.count > 0 ? ms(summary.p99) : ms(null));
  const errors = errorTotal(s.errors);
  const left: Array<[string, string]> = [
    ['open', `${count(s.fleet.open)}/${count(s.fleet.target)}`],
    ['handshakes', rate(s.rates.attemptsPerSec)],
    ['drops', rate(s.rates.disconnectsPerSec)],
    ['killed', count(s.totals.killed)],
    ['errors', count(errors)],
    ['policy', s.fleet.policy],
    ['target', s.target.isBundled ? `bundled ${s.target.serverEngine ?? ''}`.trim() : s.target.url],
  ];
  const right: Array<[string, string]> = [
    ['connect p99', p99(l.connect)],
    ['rtt p99', p99(l.rtt)],
    ['fan-out p99', p99(l.fanout)],
    ['reach min', s.broadcastsSettled > 0 ? percent(s.minReach) : percent(null)],
    ['missed/cut seq', `${count(s.totals.missed)}/${count(s.totals.cut)}`],
    ['saturated', `${s.saturatedIntervals}/${s.intervals}s`],
    ['server', s.server ? `${count(s.server.connections)} conns` : '—'],
  ];
  const half = Math.floor((inner.width - 1) / 2);
  const lines: string[] = [];
  for (let i = 0; i < Math.min(inner.height, Math.max(left.length, right.length)); i++) {
    const a = left[i] ? pair(left[i]![0], left[i]![1], half) : ''.padEnd(half);
    const b = right[i] ? pair(right[i]![0], right[i]![1], inner.width - half - 1) : '';
    lines.push(`${a} ${b}`);
  }
  return { lines };
}

/** The last chaos actions, newest first, and how long the fleet took to come back (`…`: not yet). */
export function recoveryPanel(s: Snapshot, inner: Inner): PanelText {
  const room = inner.width - 21;
  const row = (action: string, dropped: string, p95: string, full: string): string =>
    `${clip(action, room).padEnd(room)} ${dropped.padStart(6)} ${p95.padStart(6)} ${full.padStart(6)}`;
  const pending = (value: number | null): string => (value === null ? '…' : ms(value));
  const rows = s.recoveries
    .slice()
    .reverse()
    .slice(0, Math.max(0, inner.height - 1))
    .map((r) => row(r.action, count(r.dropped), pending(r.p95Ms), pending(r.fullMs)));
  return { lines: [row('action', 'drop', '95%', '100%'), ...(rows.length > 0 ? rows : ['no chaos yet'])] };
}

/** The largest error classes with their counts. */
export function errorsPanel(s: Snapshot, inner: Inner): PanelText {
  const top = Object.entries(s.errors)
    .sort((a, b) => b[1] - a[1])
    .slice(0, inner.height);
  if (top.length === 0) return { lines: ['none'] };
  return {
    lines: top.map(([name, n]) => pair(name.replace(/^handshake\./, 'hs.'), count(n), inner.width)),
    isAlert: true,
  };
}

/** The generator's load as a percentage (the larger of loop use and delay against its 50 ms limit). */
export function healthPercent(snapshot: Snapshot): number {
  const byUtil = snapshot.health.utilization * 100;
  const byDelay = Math.min(100, (snapshot.health.loopDelayP99Ms / 50) * 90);
  return Math.round(Math.min(100, Math.max(byUtil, byDelay)));
}

/** The generator's own health; an alert while it is saturated (its latencies are then its own). */
export function generatorPanel(s: Snapshot, inner: Inner): PanelText {
  const h = s.health;
  const load = healthPercent(s);
  const barWidth = Math.max(0, inner.width - 10);
  const filled = Math.round((load / 100) * barWidth);
  const isSaturated = h.isSaturated && !s.isStopped;
  // the last snapshot of a run is its teardown, which is not measured: its load is the close storm's
  if (s.isStopped)
    return {
      lines: [
        'run ended',
        pair('saturated', `${s.saturatedIntervals}/${s.intervals}s`, inner.width),
        pair('rss', bytes(h.rssBytes), inner.width),
      ]
        .slice(0, inner.height)
        .map((line) => clip(line, inner.width)),
    };
  return {
    lines: [
      `load ${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)} ${percent(load / 100)}`,
      pair('loop p99', ms(h.loopDelayP99Ms), inner.width),
      isSaturated ? 'SATURATED' : pair('saturated', `${s.saturatedIntervals}/${s.intervals}s`, inner.width),
      pair('cpu', percent(h.cpuPercent / 100), inner.width),
      pair('rss', bytes(h.rssBytes), inner.width),
    ]
      .slice(0, inner.height)
      .map((line) => clip(line, inner.width)),
    isAlert: isSaturated,
  };
}

/** The engine's latest events that fit, oldest first, stamped with the run's clock. */
export function eventsPanel(s: Snapshot, inner: Inner): PanelText {
  const startedAt = s.atMs - s.elapsedMs;
  const events = s.events.slice(-inner.height);
  return {
    lines: events.map((e) =>
      clip(
        `${clock(e.atMs - startedAt)} ${e.level === 'info' ? '' : `${e.level.toUpperCase()} `}${e.text}`,
        inner.width,
      ),
    ),
    isAlert: s.faults.length > 0,
  };
}
