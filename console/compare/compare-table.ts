/**
 * The comparison as figures: one column a variant (the runs of its rounds, or one saved
 * summary), one row a figure, each row's best value marked and every value set beside the first
 * variant's as a ratio. The terminal table is drawn here; the HTML report draws the same rows.
 * Pure: summaries in, rows and text out. Figures are printed through the one formatter.
 */
import { bytes, ms, NONE, percent, plain } from '../report/format.ts';
import type { RunSummary } from '../report/summary.ts';

/** One column: a variant and the summaries of its runs (one a round). */
export interface CompareColumn {
  name: string;
  /** What set it up: a variant's knobs, or the file a summary came from. */
  knobs: string;
  runs: RunSummary[];
}

type Kind = 'ms' | 'share' | 'ratio' | 'bytes' | 'cpu';

interface RowSpec {
  id: string;
  label: string;
  kind: Kind;
  isHigherBetter?: boolean;
  value(s: RunSummary): number | null;
}

/** A row of the table: the value of each column (median over its runs), the best ones, the ratios to the first. */
export interface CompareRow {
  id: string;
  label: string;
  values: Array<number | null>;
  texts: string[];
  /** Indices of the columns holding the row's best value (none when fewer than two were measured). */
  best: number[];
  /** Each value over the first column's; null where either is missing or the first is 0. */
  ratios: Array<number | null>;
}

// the worst measured second of a per-second server figure; the last /stats for a summary without series
function worstSecond(
  s: RunSummary,
  pick: (t: NonNullable<RunSummary['series']>[number]) => number | null,
  fallback: number | null,
): number | null {
  const values = (s.series ?? []).map(pick).filter((v): v is number => v !== null);
  return values.length > 0 ? Math.max(...values) : fallback;
}

const SERVER_CPU = (s: RunSummary): number | null =>
  s.server ? s.server.cpu.userPercent + s.server.cpu.systemPercent : null;

const ROWS: RowSpec[] = [
  { id: 'fanout.p50', label: 'fan-out p50', kind: 'ms', value: (s) => s.latency.fanout.p50 },
  { id: 'fanout.p99', label: 'fan-out p99', kind: 'ms', value: (s) => s.latency.fanout.p99 },
  { id: 'fanout.max', label: 'fan-out max', kind: 'ms', value: (s) => s.latency.fanout.max },
  {
    id: 'reach',
    label: 'reach (lowest broadcast)',
    kind: 'share',
    isHigherBetter: true,
    value: (s) => s.broadcasts.minReach,
  },
  { id: 'rtt.p50', label: 'RTT p50', kind: 'ms', value: (s) => s.latency.rtt.p50 },
  { id: 'rtt.p99', label: 'RTT p99', kind: 'ms', value: (s) => s.latency.rtt.p99 },
  { id: 'connect.p99', label: 'connect p99', kind: 'ms', value: (s) => s.latency.connect.p99 },
  {
    id: 'server.loopP99',
    label: 'server loop delay p99',
    kind: 'ms',
    value: (s) => worstSecond(s, (t) => t.serverLoopP99, s.server?.loop.delayP99Ms ?? null),
  },
  {
    id: 'server.loopMax',
    label: 'server loop delay max',
    kind: 'ms',
    value: (s) => worstSecond(s, (t) => t.serverLoopMax ?? null, s.server?.loop.delayMaxMs ?? null),
  },
  {
    id: 'server.utilization',
    label: 'server loop utilisation',
    kind: 'ratio',
    value: (s) => worstSecond(s, (t) => t.serverUtilization, s.server?.loop.utilization ?? null),
  },
  {
    id: 'server.publishMax',
    label: 'server publish (longest)',
    kind: 'ms',
    value: (s) => (s.server && s.server.publishMsMax > 0 ? s.server.publishMsMax : null),
  },
  {
    id: 'server.cpu',
    label: 'server CPU (busiest second)',
    kind: 'cpu',
    value: (s) => worstSecond(s, (t) => t.serverCpuPercent, SERVER_CPU(s)),
  },
  {
    id: 'server.rssPerConnection',
    label: 'server RSS / connection',
    kind: 'bytes',
    value: (s) => (s.server && s.server.connections > 0 ? s.server.rssBytes / s.server.connections : null),
  },
  { id: 'generator.saturated', label: 'generator saturated', kind: 'share', value: (s) => s.saturated.share },
];

function median(values: Array<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const mid = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
}

function text(kind: Kind, value: number | null): string {
  if (value === null) return NONE;
  if (kind === 'ms') return ms(value);
  if (kind === 'share') return percent(value);
  if (kind === 'bytes') return bytes(value);
  if (kind === 'cpu') return percent(value / 100);
  return plain(value);
}

/** A ratio to three significant digits: `×93.6`, `×1.05`, `×0.0123`. */
export function ratioText(ratio: number | null): string {
  return ratio === null || !Number.isFinite(ratio) ? '' : `×${plain(Number(ratio.toPrecision(3)))}`;
}

/** The rows of a comparison (medians over each column's runs). */
export function compareRows(columns: CompareColumn[]): CompareRow[] {
  return ROWS.map((spec) => {
    const values = columns.map((c) => median(c.runs.map(spec.value)));
    const known = values.filter((v): v is number => v !== null);
    const bestValue = known.length < 2 ? null : spec.isHigherBetter ? Math.max(...known) : Math.min(...known);
    const best =
      bestValue === null || known.every((v) => v === bestValue)
        ? []
        : values.flatMap((v, i) => (v === bestValue ? [i] : []));
    const first = values[0] ?? null;
    const ratios = values.map((v) => (v === null || first === null || first === 0 ? null : v / first));
    return { id: spec.id, label: spec.label, values, texts: values.map((v) => text(spec.kind, v)), best, ratios };
  });
}

/** What each column's bundled server was, from its first run's last /stats: `ws loop`, `uws publish, workMs 5`. */
export function serverText(column: CompareColumn): string {
  if (column.runs.length === 0) return 'not run';
  const server = column.runs[0]?.server;
  if (!server) return 'no /stats';
  const extra = [
    server.config.workMs > 0 ? `workMs ${plain(server.config.workMs)}` : '',
    server.config.compression ? 'compression' : '',
  ].filter(Boolean);
  // `ws` has no native publish: asked for one it loops, and says so as the console's server panel does
  const fanout = server.engine === 'ws' && server.config.fanout === 'publish' ? 'publish=loop' : server.config.fanout;
  return [`${server.engine} ${fanout}`, ...extra].join(', ');
}

/** The lines under the table: how to read it, each column's saturation, and any warnings. */
export function compareNotes(columns: CompareColumn[], warnings: readonly string[]): string[] {
  const rounds = Math.max(...columns.map((c) => c.runs.length));
  const notes = [
    `* the best of its row; ×N: the figure over ` +
      `${columns[0]?.name ?? 'the first'}'s${rounds > 1 ? `; medians of ${rounds} rounds` : ''}`,
    'server loop delay, utilisation and CPU: the worst second of the run; publish: the longest ' +
      'fan-out of one message; RSS: the last /stats, baseline included',
  ];
  for (const column of columns) {
    const seconds = column.runs.reduce((n, r) => n + r.saturated.intervals, 0);
    const of = column.runs.reduce((n, r) => n + r.saturated.of, 0);
    if (seconds > 0)
      notes.push(
        `${column.name}: the generator was SATURATED in ${seconds} of ${of} s ` +
          `(${percent(seconds / of)}): its latencies are partly the generator's`,
      );
  }
  return [...notes, ...warnings.map((w) => `warning: ${w}`)];
}

/** The terminal table: a column a variant, the best value of each row marked `*`. */
export function formatCompareTable(columns: CompareColumn[], warnings: readonly string[] = []): string {
  const rows = compareRows(columns);
  const cell = (row: CompareRow, i: number): string => {
    const ratio = i === 0 ? '' : ratioText(row.ratios[i] ?? null);
    return `${row.texts[i]}${ratio ? ` ${ratio}` : ''}${row.best.includes(i) ? ' *' : '  '}`;
  };
  const body: string[][] = [
    ['', ...columns.map((c) => `${c.name}  `)],
    ['server', ...columns.map((c) => `${serverText(c)}  `)],
    ['verdict', ...columns.map((c) => `${[...new Set(c.runs.map((r) => r.verdict))].join(', ')}  `)],
    ...rows.map((row) => [row.label, ...columns.map((_, i) => cell(row, i))]),
  ];
  const widths = body[0]!.map((_, k) => Math.max(...body.map((line) => line[k]!.length)));
  const lines = body.map((line) =>
    line
      .map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!)))
      .join('  ')
      .trimEnd(),
  );
  return [...lines, '', ...compareNotes(columns, warnings)].join('\n');
}
