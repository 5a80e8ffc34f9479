/**
 * Pure folds from snapshots to the wall's line charts: a window of time series and a label
 * that names each series in its colour (the charts are too small for a legend box at 80×24).
 * Tested without a terminal.
 */
import type { Snapshot } from '../engine/measure/snapshot.ts';
import { clock } from '../report/format.ts';

/** One line of a line chart. */
export interface Line {
  title: string;
  x: string[];
  y: number[];
  color: string;
}

/** How many snapshots the charts show. */
export const WINDOW = 120;

function xs(history: Snapshot[]): string[] {
  return history.map((s) => clock(s.elapsedMs));
}

/** Open, target and connecting users over time. */
export function fleetLines(history: Snapshot[]): Line[] {
  const h = history.slice(-WINDOW);
  return [
    { title: 'open', x: xs(h), y: h.map((s) => s.fleet.open), color: 'green' },
    { title: 'target', x: xs(h), y: h.map((s) => s.fleet.target), color: 'white' },
    { title: 'conn', x: xs(h), y: h.map((s) => s.fleet.connecting + s.fleet.waiting), color: 'yellow' },
  ];
}

/** p99 per interval of connect, RTT and fan-out, in ms. */
export function latencyLines(history: Snapshot[]): Line[] {
  const h = history.slice(-WINDOW);
  return [
    { title: 'hs', x: xs(h), y: h.map((s) => s.interval.connect.p99), color: 'yellow' },
    { title: 'rtt', x: xs(h), y: h.map((s) => s.interval.rtt.p99), color: 'cyan' },
    { title: 'fan', x: xs(h), y: h.map((s) => s.interval.fanout.p99), color: 'green' },
  ];
}

/** Handshakes and drops per second: the reconnect surge. */
export function surgeLines(history: Snapshot[]): Line[] {
  const h = history.slice(-WINDOW);
  return [
    { title: 'hs/s', x: xs(h), y: h.map((s) => Math.round(s.rates.attemptsPerSec)), color: 'yellow' },
    { title: 'drops/s', x: xs(h), y: h.map((s) => Math.round(s.rates.disconnectsPerSec)), color: 'red' },
  ];
}

/** The charts: their title, what they plot, and the fold. */
export const CHARTS = {
  fleet: { title: 'VUs', fold: fleetLines },
  latency: { title: 'p99 ms', fold: latencyLines },
  surge: { title: 'surge', fold: surgeLines },
} as const;

/**
 * A chart's label in blessed tags: its title, then each series' name in the series' colour;
 * the title goes first when the whole does not fit in `width` (the series names are the key).
 */
export function chartLabel(title: string, lines: Line[], width: number): string {
  const names = lines.map((l) => l.title).join(' ');
  const tagged = lines.map((l) => `{${l.color}-fg}${l.title}{/${l.color}-fg}`).join(' ');
  return ` ${title}: ${names} `.length <= width ? ` ${title}: ${tagged} ` : ` ${tagged} `;
}
