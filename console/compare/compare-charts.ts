/**
 * The comparison's charts as data. The latency distributions: each variant's whole-run
 * percentile curve (p50 to p99.9, medians over its rounds) overlaid, one chart a latency. The
 * per-second series: fan-out p99, RTT p99 and the server's longest loop stall, a line a run, on
 * time axes shared by every chart, with each run's marks (a live `server fanout loop` is one),
 * in the shape the run report's page script draws. Pure: built from summaries.
 */
import { CURVE_PERCENTILES, type SecondFigures } from '../report/comparable.ts';
import type { LatencyName } from '../engine/measure/metrics.ts';
import type { ChartSeries, ChartSpec, Marker, ReportData } from '../report/report-series.ts';
import type { RunSummary } from '../report/summary.ts';
import type { CompareColumn } from './compare-table.ts';

/** A variant's colour, by its column. */
export const VARIANT_COLORS = [
  '#c62828',
  '#2458c6',
  '#1b7f3b',
  '#d08700',
  '#7b1fa2',
  '#00838f',
  '#5d4037',
  '#555555',
] as const;

const colorOf = (i: number): string => VARIANT_COLORS[i % VARIANT_COLORS.length]!;

/** One variant's curve on a distribution chart: a value (ms) at each of the chart's percentiles. */
export interface CurveSeries {
  label: string;
  color: string;
  values: Array<number | null>;
  /** The largest value recorded (ms), which a percentile axis cannot place. */
  maxMs: number | null;
}

/** One latency's distribution chart. */
export interface CurveChart {
  id: LatencyName;
  title: string;
  series: CurveSeries[];
}

/** What the page's curve script draws. */
export interface CurveData {
  /** The percentiles on the x axis, p50..p99.9. */
  percentiles: number[];
  curves: CurveChart[];
}

const CURVES: Array<[LatencyName, string]> = [
  ['fanout', 'Fan-out latency by percentile'],
  ['rtt', 'RTT by percentile'],
  ['connect', 'Connect (handshake) time by percentile'],
  ['reconnect', 'Reconnect time by percentile'],
];

const PLOTTED = CURVE_PERCENTILES.filter((p) => p < 100);

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// a percentile's value in each run that measured it, medians over the runs
function pointOf(runs: RunSummary[], name: LatencyName, p: number): number | null {
  return median(runs.flatMap((r) => r.distributions?.[name]?.find(([q]) => q === p)?.[1] ?? []));
}

/** The distribution charts: a latency measured by at least one variant gets a chart. */
export function curveData(columns: CompareColumn[]): CurveData {
  const curves = CURVES.map(
    ([id, title]): CurveChart => ({
      id,
      title,
      series: columns
        .map((c, i) => ({
          label: c.name,
          color: colorOf(i),
          values: PLOTTED.map((p) => pointOf(c.runs, id, p)),
          maxMs: pointOf(c.runs, id, 100),
        }))
        .filter((s) => s.values.some((v) => v !== null)),
    }),
  ).filter((c) => c.series.length > 0);
  return { percentiles: [...PLOTTED], curves };
}

interface TimeChart {
  id: string;
  title: string;
  empty: string;
  value: (s: SecondFigures) => number | null;
}

const TIME_CHARTS: TimeChart[] = [
  {
    id: 'fanout',
    title: 'Fan-out p99, per second',
    empty: 'No variant measured a fan-out.',
    value: (s) => s.fanoutP99,
  },
  { id: 'rtt', title: 'RTT p99, per second', empty: 'No variant sent RTT probes.', value: (s) => s.rttP99 },
  // the max, not the p99: a fan-out that blocks the loop once a second is one sample in 500
  {
    id: 'server-loop',
    title: 'Server loop delay, longest stall per second',
    empty: 'No variant had server /stats.',
    value: (s) => s.serverLoopMax ?? null,
  },
];

interface PlottedRun {
  label: string;
  color: string;
  isLater: boolean;
  summary: RunSummary;
}

function plottedRuns(columns: CompareColumn[]): PlottedRun[] {
  return columns.flatMap((c, i) =>
    c.runs.map((summary, round) => ({
      label: c.runs.length > 1 ? `${c.name} round ${round + 1}` : c.name,
      color: colorOf(i),
      isLater: round > 0,
      summary,
    })),
  );
}

// each run's seconds on one axis: whole seconds since its start (snapshots are a second apart)
const second = (s: SecondFigures): number => Math.round(s.t);

/** Marks of every run, as numbered markers on the time axes, named by the run. */
function compareMarkers(runs: PlottedRun[]): Marker[] {
  const all = runs.flatMap((run) => {
    const start = run.summary.startedAtMs;
    if (start === null || start === undefined) return [];
    return run.summary.marks.map((m) => ({
      atS: (m.atMs - start) / 1000,
      kind: 'mark' as const,
      label: `${run.label}: ${m.label}`,
    }));
  });
  return all.sort((a, b) => a.atS - b.atS).map((m, i) => ({ ...m, n: i + 1 }));
}

/**
 * The per-second charts, in the shape of the run report's data
 * (no saturated bands: each variant's share is in the table).
 */
export function timeData(columns: CompareColumn[]): ReportData {
  const runs = plottedRuns(columns);
  const times = [...new Set(runs.flatMap((r) => (r.summary.series ?? []).map(second)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const charts: ChartSpec[] = TIME_CHARTS.map((chart) => ({
    id: chart.id,
    title: chart.title,
    empty: chart.empty,
    series: runs
      .map((run): ChartSeries => {
        const values: Array<number | null> = times.map(() => null);
        for (const s of run.summary.series ?? []) values[index.get(second(s))!] = chart.value(s);
        return { label: run.label, color: run.color, unit: 'ms', values, isDashed: run.isLater };
      })
      .filter((s) => s.values.some((v) => v !== null)),
  }));
  return { times, bands: [], markers: compareMarkers(runs), charts };
}
