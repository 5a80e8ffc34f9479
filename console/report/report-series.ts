/**
 * The report's charts as data: what each chart draws, one value a measured second (null where
 * that second measured nothing, so the chart shows a gap), the saturated seconds as bands, and
 * marks, chaos actions and broadcasts as numbered markers. Pure: built from the summary and the
 * snapshots; the page (`report-client.ts`) only draws it.
 */
import { OUTAGE } from '../engine/measure/recovery.ts';
import type { LatencyName } from '../engine/measure/metrics.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';
import { ms } from './format.ts';
import type { RunSummary } from './summary.ts';

/** A value axis's unit; the page names its axis and suffixes its figures with it. */
export type ChartUnit = 'ms' | 'users' | '/s' | '%' | 'MiB';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  color: string;
  unit: ChartUnit;
  /** One value per plotted second; null: not measured in that second. */
  values: Array<number | null>;
  /** A goal rather than a measurement (the fleet's target): drawn dashed. */
  isDashed: boolean;
}

/** One chart; a chart whose series measured nothing has none and says so in `empty`. */
export interface ChartSpec {
  id: string;
  title: string;
  series: ChartSeries[];
  empty: string;
}

/** A vertical line on every chart, numbered in time order. */
export interface Marker {
  n: number;
  /** Seconds since the start of the run. */
  atS: number;
  kind: 'mark' | 'chaos' | 'outage' | 'broadcast';
  label: string;
}

/** Everything the page's script draws. */
export interface ReportData {
  /** Seconds since the start, one per plotted snapshot (the teardown second is not one). */
  times: number[];
  /** Saturated stretches, [from, to] in seconds. */
  bands: Array<[number, number]>;
  markers: Marker[];
  charts: ChartSpec[];
}

const MIB = 1024 * 1024;
// broadcasts sent less than this apart share one marker (a burst is one line, not fifty)
const BROADCAST_GAP_MS = 500;

/** One line of a chart, as a figure of a snapshot. */
interface SeriesSpec {
  label: string;
  color: string;
  unit: ChartUnit;
  value: (s: Snapshot) => number | null;
  isDashed?: boolean;
}

/** One chart: its lines, what it says when none measured anything, and whether it applies to the run at all. */
interface ChartTemplate {
  id: string;
  title: string;
  empty: string;
  series: SeriesSpec[];
  isShown?: (plotted: Snapshot[]) => boolean;
}

// p99 of a second that measured something; null (a gap) where its count is 0
const p99 =
  (name: LatencyName) =>
  (s: Snapshot): number | null =>
    s.interval[name].count > 0 ? s.interval[name].p99 : null;

const CHARTS: ChartTemplate[] = [
  {
    id: 'fleet',
    title: 'Fleet',
    empty: 'No fleet figures.',
    // the target first, so the open line is drawn over it where they agree
    series: [
      { label: 'target', color: '#8a8a8a', unit: 'users', value: (s) => s.fleet.target, isDashed: true },
      { label: 'open', color: '#1b7f3b', unit: 'users', value: (s) => s.fleet.open },
      {
        label: 'connecting + waiting',
        color: '#d08700',
        unit: 'users',
        value: (s) => s.fleet.connecting + s.fleet.waiting,
      },
    ],
  },
  {
    id: 'latency',
    title: 'Latency p99, per second',
    empty: 'No connect, RTT or fan-out latency was measured in any second.',
    series: [
      { label: 'connect p99', color: '#d08700', unit: 'ms', value: p99('connect') },
      { label: 'RTT p99', color: '#2458c6', unit: 'ms', value: p99('rtt') },
      { label: 'fan-out p99', color: '#1b7f3b', unit: 'ms', value: p99('fanout') },
    ],
  },
  {
    id: 'rates',
    title: 'Handshakes and drops per second',
    empty: 'No rates.',
    series: [
      { label: 'handshakes', color: '#d08700', unit: '/s', value: (s) => s.rates.attemptsPerSec },
      { label: 'drops', color: '#c62828', unit: '/s', value: (s) => s.rates.disconnectsPerSec },
    ],
  },
  {
    id: 'generator',
    title: 'Generator health',
    empty: 'No health samples.',
    series: [
      { label: 'loop delay p99', color: '#7b1fa2', unit: 'ms', value: (s) => s.health.loopDelayP99Ms },
      { label: 'CPU', color: '#00838f', unit: '%', value: (s) => s.health.cpuPercent },
    ],
  },
  {
    id: 'memory',
    title: 'Memory (RSS)',
    empty: 'No memory samples.',
    series: [
      { label: 'generator RSS', color: '#5d4037', unit: 'MiB', value: (s) => s.health.rssBytes / MIB },
      { label: 'server RSS', color: '#8d6e63', unit: 'MiB', value: (s) => (s.server ? s.server.rssBytes / MIB : null) },
    ],
  },
  {
    id: 'server',
    title: 'Bundled server',
    empty: 'The server answered no /stats.',
    series: [
      { label: 'server loop delay p99', color: '#7b1fa2', unit: 'ms', value: (s) => s.server?.loop.delayP99Ms ?? null },
      {
        label: 'server CPU',
        color: '#00838f',
        unit: '%',
        value: (s) => (s.server ? s.server.cpu.userPercent + s.server.cpu.systemPercent : null),
      },
    ],
    isShown: (plotted) => plotted.some((s) => s.server !== null),
  },
];

/** Epoch ms of the run's start (elapsed 0), or null without snapshots. */
export function runStartMs(snapshots: Snapshot[]): number | null {
  const first = snapshots[0];
  return first ? first.atMs - first.elapsedMs : null;
}

function charts(plotted: Snapshot[]): ChartSpec[] {
  return CHARTS.filter((c) => c.isShown?.(plotted) ?? true).map((c) => ({
    id: c.id,
    title: c.title,
    empty: c.empty,
    series: c.series
      .map((spec) => ({
        label: spec.label,
        color: spec.color,
        unit: spec.unit,
        values: plotted.map(spec.value),
        isDashed: spec.isDashed ?? false,
      }))
      // a series that measured no second at all is neither drawn nor listed
      .filter((line) => line.values.some((v) => v !== null)),
  }));
}

/**
 * Saturated seconds as [from, to] stretches: a snapshot covers the time since the one before.
 * Only measured seconds count (its `intervals` grew), as in the summary: the engine's first
 * snapshot, taken as it starts, samples the start-up work and is no interval of the run.
 */
function bands(plotted: Snapshot[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  plotted.forEach((s, i) => {
    const previous = plotted[i - 1];
    if (!s.health.isSaturated || s.intervals <= (previous?.intervals ?? 0)) return;
    const from = previous ? previous.elapsedMs / 1000 : 0;
    const to = s.elapsedMs / 1000;
    const last = out[out.length - 1];
    if (last && last[1] === from) last[1] = to;
    else out.push([from, to]);
  });
  return out;
}

// the engine logs each broadcast it sets off: "broadcast 1 × 16 B to "all" via admin (seq 3..3), 40 open"
// (a broadcast record carries no send time, so the event log is where the times are)
const BROADCAST_EVENT = /^broadcast (\d+) × (\d+) B to "([^"]*)"(?: via \w+)?(?: \(seq (\d+)\.\.(\d+)\))?/;

interface SentBroadcast {
  atMs: number;
  messages: number;
  sizeBytes: number;
  topic: string;
  seqs: [number, number] | null;
}

function sentBroadcasts(snapshots: Snapshot[]): SentBroadcast[] {
  const byId = new Map<number, SentBroadcast>();
  for (const s of snapshots) {
    for (const e of s.events) {
      const m = BROADCAST_EVENT.exec(e.text);
      if (!m || byId.has(e.id)) continue;
      const seqs: [number, number] | null = m[4] && m[5] ? [Number(m[4]), Number(m[5])] : null;
      byId.set(e.id, { atMs: e.atMs, messages: Number(m[1]), sizeBytes: Number(m[2]), topic: m[3] ?? '', seqs });
    }
  }
  return [...byId.values()].sort((a, b) => a.atMs - b.atMs);
}

function broadcastLabel(group: SentBroadcast[]): string {
  const first = group[0]!;
  const last = group[group.length - 1]!;
  const messages = group.reduce((n, b) => n + b.messages, 0);
  const span = group.length > 1 ? ` in ${group.length} sends over ${ms(last.atMs - first.atMs)}` : '';
  const withSeqs = group.filter((b) => b.seqs !== null);
  const seqs = withSeqs.length > 0 ? `, seq ${withSeqs[0]!.seqs![0]}..${withSeqs[withSeqs.length - 1]!.seqs![1]}` : '';
  return `broadcast ${messages} × ${first.sizeBytes} B to "${first.topic}"${span}${seqs}`;
}

function broadcastMarkers(snapshots: Snapshot[], startMs: number): Array<Omit<Marker, 'n'>> {
  const groups: SentBroadcast[][] = [];
  for (const sent of sentBroadcasts(snapshots)) {
    const group = groups[groups.length - 1];
    const previous = group?.[group.length - 1];
    if (group && previous && sent.atMs - previous.atMs < BROADCAST_GAP_MS) group.push(sent);
    else groups.push([sent]);
  }
  return groups.map((group) => ({
    atS: (group[0]!.atMs - startMs) / 1000,
    kind: 'broadcast' as const,
    label: broadcastLabel(group),
  }));
}

/** Marks, chaos actions (and outages) and broadcasts, in time order, numbered from 1. */
export function reportMarkers(summary: RunSummary, snapshots: Snapshot[]): Marker[] {
  const startMs = runStartMs(snapshots);
  if (startMs === null) return [];
  const at = (epochMs: number): number => (epochMs - startMs) / 1000;
  const all: Array<Omit<Marker, 'n'>> = [
    ...summary.marks.map((m) => ({ atS: at(m.atMs), kind: 'mark' as const, label: m.label })),
    ...summary.recoveries.map((r) => ({
      atS: at(r.atMs),
      kind: r.action === OUTAGE.action ? ('outage' as const) : ('chaos' as const),
      label: r.action,
    })),
    ...broadcastMarkers(snapshots, startMs),
  ];
  return all.sort((a, b) => a.atS - b.atS).map((m, i) => ({ ...m, n: i + 1 }));
}

/** The charts' data: the teardown second (`isStopped`) is not plotted. */
export function reportData(summary: RunSummary, snapshots: Snapshot[]): ReportData {
  const plotted = snapshots.filter((s) => !s.isStopped);
  return {
    times: plotted.map((s) => s.elapsedMs / 1000),
    bands: bands(plotted),
    markers: reportMarkers(summary, snapshots),
    charts: charts(plotted),
  };
}
