/**
 * `--report FILE`: one self-contained HTML file (inline SVG charts, no scripts, no network)
 * with the summary, the fleet over time, latencies per interval and the generator's health.
 */
import type { Snapshot } from '../engine/snapshot.ts';
import { formatSummary, type RunSummary } from './summary.ts';

const WIDTH = 760;
const HEIGHT = 160;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

interface Series {
  label: string;
  color: string;
  values: number[];
}

function chart(title: string, unit: string, times: number[], series: Series[], saturated: boolean[], marks: Array<{ x: number; label: string }>): string {
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values));
  const tMax = Math.max(1, times[times.length - 1] ?? 1);
  const x = (t: number): number => (t / tMax) * WIDTH;
  const y = (v: number): number => HEIGHT - (v / max) * (HEIGHT - 10);
  const bands = saturated.map((isSat, i) => (isSat ? `<rect x="${x(times[i - 1] ?? 0).toFixed(1)}" y="0" width="${Math.max(1, x(times[i]!) - x(times[i - 1] ?? 0)).toFixed(1)}" height="${HEIGHT}" fill="#fdd"/>` : '')).join('');
  const lines = series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.values.map((v, i) => `${x(times[i]!).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`).join('');
  const markLines = marks.map((m) => `<line x1="${x(m.x).toFixed(1)}" x2="${x(m.x).toFixed(1)}" y1="0" y2="${HEIGHT}" stroke="#888" stroke-dasharray="3"/><text x="${(x(m.x) + 3).toFixed(1)}" y="12" font-size="10">${escapeHtml(m.label)}</text>`).join('');
  const legend = series.map((s) => `<span style="color:${s.color}">■ ${escapeHtml(s.label)}</span>`).join(' ');
  return `<h3>${escapeHtml(title)} <small>(max ${max.toFixed(1)} ${unit})</small></h3><div>${legend}</div>
<svg width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" style="border:1px solid #ccc">${bands}${markLines}${lines}</svg>`;
}

/** Renders the report. */
export function renderReport(summary: RunSummary, snapshots: Snapshot[]): string {
  const start = snapshots[0]?.atMs ?? 0;
  const times = snapshots.map((s) => s.elapsedMs / 1000);
  const saturated = snapshots.map((s) => s.health.isSaturated);
  const marks = summary.marks.map((m) => ({ x: (m.atMs - start) / 1000 + (times[0] ?? 0), label: m.label }))
    .concat(summary.recoveries.map((r) => ({ x: (r.atMs - start) / 1000 + (times[0] ?? 0), label: r.action })));
  const pick = (f: (s: Snapshot) => number): number[] => snapshots.map(f);
  const charts = [
    chart('Fleet', 'VUs', times, [
      { label: 'open', color: '#070', values: pick((s) => s.fleet.open) },
      { label: 'target', color: '#999', values: pick((s) => s.fleet.target) },
      { label: 'connecting', color: '#c80', values: pick((s) => s.fleet.connecting) },
      { label: 'waiting', color: '#a0a', values: pick((s) => s.fleet.waiting) },
    ], saturated, marks),
    chart('Handshakes and drops per second', '/s', times, [
      { label: 'attempts/s', color: '#c80', values: pick((s) => s.rates.attemptsPerSec) },
      { label: 'disconnects/s', color: '#c00', values: pick((s) => s.rates.disconnectsPerSec) },
    ], saturated, marks),
    chart('Latency p99 per interval', 'ms', times, [
      { label: 'connect', color: '#c80', values: pick((s) => s.interval.connect.p99) },
      { label: 'rtt', color: '#00c', values: pick((s) => s.interval.rtt.p99) },
      { label: 'fan-out', color: '#070', values: pick((s) => s.interval.fanout.p99) },
    ], saturated, marks),
    chart('Generator event-loop delay p99 (red bands: saturated)', 'ms', times, [
      { label: 'loop delay p99', color: '#c00', values: pick((s) => s.health.loopDelayP99Ms) },
    ], saturated, marks),
  ];
  return `<!doctype html><html><head><meta charset="utf-8"><title>sockstorm report: ${summary.verdict}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:820px}pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></head>
<body><h1>sockstorm: ${escapeHtml(summary.verdict)}</h1><pre>${escapeHtml(formatSummary(summary))}</pre>${charts.join('\n')}
<h3>Broadcasts</h3><pre>${escapeHtml(summary.broadcasts.last.map((b) => `${b.topic}#${b.seq}: reach ${(b.reach * 100).toFixed(1)}% (${b.receivers}/${b.openAtSend}) first ${b.firstMs.toFixed(1)} p50 ${b.p50Ms.toFixed(1)} p99 ${b.p99Ms.toFixed(1)} last ${b.lastMs.toFixed(1)} ms`).join('\n') || 'none')}</pre>
</body></html>\n`;
}
