/**
 * Pure folds from snapshots to what the wall's widgets show: time series for the line
 * charts, error bars, the recovery table and the health gauge. Tested without a terminal.
 */
import type { Snapshot } from '../engine/snapshot.ts';

/** One line of a line chart. */
export interface Line {
  title: string;
  x: string[];
  y: number[];
  color: string;
}

/** How many seconds the charts show. */
export const WINDOW = 120;

function xs(history: Snapshot[]): string[] {
  return history.map((s) => `${Math.round(s.elapsedMs / 1000)}s`);
}

/** Open, target and connecting users over time. */
export function fleetLines(history: Snapshot[]): Line[] {
  const h = history.slice(-WINDOW);
  return [
    { title: 'open', x: xs(h), y: h.map((s) => s.fleet.open), color: 'green' },
    { title: 'target', x: xs(h), y: h.map((s) => s.fleet.target), color: 'white' },
    { title: 'connecting', x: xs(h), y: h.map((s) => s.fleet.connecting + s.fleet.waiting), color: 'yellow' },
  ];
}

/** p99 per second of connect, RTT and fan-out, in ms. */
export function latencyLines(history: Snapshot[]): Line[] {
  const h = history.slice(-WINDOW);
  return [
    { title: 'connect p99', x: xs(h), y: h.map((s) => s.interval.connect.p99), color: 'yellow' },
    { title: 'rtt p99', x: xs(h), y: h.map((s) => s.interval.rtt.p99), color: 'cyan' },
    { title: 'fan-out p99', x: xs(h), y: h.map((s) => s.interval.fanout.p99), color: 'green' },
  ];
}

/** Handshakes and drops per second: the reconnect surge. */
export function surgeLines(history: Snapshot[]): Line[] {
  const h = history.slice(-WINDOW);
  return [
    { title: 'handshakes/s', x: xs(h), y: h.map((s) => Math.round(s.rates.attemptsPerSec)), color: 'yellow' },
    { title: 'drops/s', x: xs(h), y: h.map((s) => Math.round(s.rates.disconnectsPerSec)), color: 'red' },
  ];
}

/** The largest error classes as bars. */
export function errorBars(snapshot: Snapshot, most = 6): { titles: string[]; data: number[] } {
  const top = Object.entries(snapshot.errors).sort((a, b) => b[1] - a[1]).slice(0, most);
  return { titles: top.map(([name]) => name.replace(/^handshake\./, 'hs.')), data: top.map(([, n]) => n) };
}

const show = (ms: number | null): string => (ms === null ? '…' : ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms.toFixed(0)}ms`);

/** The last chaos actions and how the fleet came back. */
export function recoveryRows(snapshot: Snapshot): string[][] {
  return snapshot.recoveries.slice(-6).reverse().map((r) => [r.action, String(r.dropped), show(r.p95Ms), show(r.fullMs), String(r.peakHandshakesPerSec)]);
}

/** The generator's load as a percentage, for the gauge (the larger of loop use and delay over 50 ms). */
export function healthPercent(snapshot: Snapshot): number {
  const byUtil = snapshot.health.utilization * 100;
  const byDelay = Math.min(100, (snapshot.health.loopDelayP99Ms / 50) * 90);
  return Math.round(Math.min(100, Math.max(byUtil, byDelay)));
}
