/**
 * `--report FILE`: one self-contained HTML file (uPlot and its stylesheet inlined, no network)
 * with the verdict, the end summary, the thresholds, charts over time (fleet, latency p99 per
 * second, handshakes and drops, generator and server health, memory; saturated seconds
 * shaded; marks, chaos actions and broadcasts as numbered lines), the recoveries, the
 * settled broadcasts, and each part of a run over agents or processes. The charts' data goes into the page as JSON; `report-client.ts` draws it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SATURATION } from '../engine/measure/generator-health.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';
import { PACKAGE_ROOT } from '../runtime.ts';
import { metricKind, type ThresholdResult, type ThresholdStatus } from '../verdict/thresholds.ts';
import { bytes, clock, count, ms, percent, plain, rate } from './format.ts';
import { REPORT_SCRIPT } from './report-client.ts';
import { reportData, runStartMs, type Marker, type ReportData } from './report-series.ts';
import type { RunSummary } from './summary.ts';
import { formatSummary } from './summary-text.ts';

// the most recent settled broadcasts listed; the summary says how many settled in all
const BROADCAST_ROWS = 100;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * uPlot's files, resolved the way Node resolves the package (works from
 * the sources and from the bundles); the compare report inlines them too.
 */
export function uplotFile(name: 'uPlot.iife.min.js' | 'uPlot.min.css'): string {
  const require = createRequire(join(PACKAGE_ROOT, 'package.json'));
  return readFileSync(require.resolve(`uplot/dist/${name}`), 'utf8');
}

/** JSON safe inside a `<script>` element: no `</script>`, no `<!--`. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

// a summary written before thresholds had a status (an old --json) has only `passed`
function statusOf(result: ThresholdResult): ThresholdStatus {
  return result.status ?? (result.passed ? 'passed' : 'failed');
}

function actualText(result: ThresholdResult): string {
  if (result.actual === null) return result.metric === 'command' || result.metric === 'fault' ? '' : 'not measured';
  if (result.metric === 'await') return `${count(result.actual)} open`;
  const kind = metricKind(result.metric);
  return kind === 'duration' ? ms(result.actual) : kind === 'ratio' ? percent(result.actual) : plain(result.actual);
}

/** The summary text, each threshold's line coloured by its status. */
function summaryBox(summary: RunSummary): string {
  const bySource = summary.thresholds
    .map((r) => ({ source: r.source, status: statusOf(r) }))
    .sort((a, b) => b.source.length - a.source.length);
  const lines = formatSummary(summary)
    .split('\n')
    .map((line) => {
      const status =
        bySource.find((t) => line.includes(t.source))?.status ?? (line.trimStart().startsWith('✗') ? 'failed' : null);
      return status && status !== 'passed' ? `<span class="${status}">${escapeHtml(line)}</span>` : escapeHtml(line);
    });
  return `<pre class="summary">${lines.join('\n')}</pre>`;
}

function table(head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

const td = (text: string, cls = ''): string => `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</td>`;

function thresholdsTable(summary: RunSummary): string {
  const rows = summary.thresholds.map((r) => {
    const status = statusOf(r);
    return [
      td(r.source),
      td(actualText(r), 'num'),
      td(percent(r.saturatedShare), 'num'),
      td(status === 'stopped' ? 'not judged: stopped' : status, `status ${status}`),
    ];
  });
  const empty =
    summary.verdict === 'stopped'
      ? 'Not judged: the run was stopped before its end.'
      : 'No thresholds: nothing was expected of this run.';
  return table(['threshold', 'actual', 'of its samples saturated', 'status'], rows, empty);
}

function markerList(markers: Marker[]): string {
  if (markers.length === 0) return '<p class="empty">No marks, chaos actions or broadcasts.</p>';
  const items = markers.map(
    (m) =>
      `<li><span class="num ${m.kind}">${m.n}</span> <span ` +
      `class="at">${escapeHtml(ms(m.atS * 1000))}</span> <span class="kind">${m.kind}</span> ` +
      `${escapeHtml(m.label)}</li>`,
  );
  return `<ol class="markers">${items.join('')}</ol>`;
}

function recoveriesTable(summary: RunSummary, markers: Marker[], startMs: number | null): string {
  const rows = summary.recoveries.map((r) => {
    const atS = startMs === null ? null : (r.atMs - startMs) / 1000;
    const marker = markers.find(
      (m) =>
        (m.kind === 'chaos' || m.kind === 'outage') &&
        m.label === r.action &&
        atS !== null &&
        Math.abs(m.atS - atS) < 1e-6,
    );
    return [
      td(marker ? String(marker.n) : '—', 'num'),
      td(r.action),
      td(atS === null ? '—' : ms(atS * 1000), 'num'),
      td(count(r.dropped), 'num'),
      td(ms(r.p95Ms), 'num'),
      td(ms(r.fullMs), 'num'),
      td(rate(r.peakHandshakesPerSec), 'num'),
      td(count(r.attempts), 'num'),
      td(count(r.failures), r.failures > 0 ? 'num failed' : 'num'),
    ];
  });
  return table(
    ['#', 'action', 'at', 'dropped', '95% back', '100% back', 'peak handshakes', 'attempts', 'failures'],
    rows,
    'No chaos action or outage in this run.',
  );
}

function broadcastsTable(summary: RunSummary): string {
  const last = summary.broadcasts.last.slice(-BROADCAST_ROWS);
  const rows = last.map((b) => [
    td(b.topic),
    td(String(b.seq), 'num'),
    td(count(b.openAtSend), 'num'),
    td(count(b.receivers), 'num'),
    td(count(b.cut), 'num'),
    td(percent(b.reach), b.reach < 1 ? 'num failed' : 'num'),
    td(ms(b.firstMs), 'num'),
    td(ms(b.p50Ms), 'num'),
    td(ms(b.p99Ms), 'num'),
    td(ms(b.lastMs), 'num'),
  ]);
  const note =
    summary.broadcasts.settled > last.length
      ? `<p class="note">The last ${last.length} of ${summary.broadcasts.settled} settled broadcasts.</p>`
      : '';
  return (
    note +
    table(
      ['topic', 'seq', 'owed (ready at send)', 'receivers', 'cut', 'reach', 'first', 'p50', 'p99', 'last (max)'],
      rows,
      'No broadcast settled in this run.',
    )
  );
}

function partsTable(summary: RunSummary): string {
  const rows = (summary.parts ?? []).map((p) => [
    td(p.name),
    td(p.address ?? '—'),
    td(percent(p.share), 'num'),
    td(count(p.open), 'num'),
    td(count(p.connects), 'num'),
    td(ms(p.loopDelayP99MaxMs), 'num'),
    td(percent(p.cpuPercentMax / 100), 'num'),
    td(bytes(p.rssMaxBytes), 'num'),
    td(`${p.saturatedSeconds} s`, p.saturatedSeconds > 0 ? 'num failed' : 'num'),
    td(p.lost ? `at ${clock(p.lost.afterMs)}: ${p.lost.reason}` : '—', p.lost ? 'failed' : ''),
  ]);
  return table(
    ['part', 'address', 'share', 'open', 'connects', 'loop delay p99 max', 'CPU max', 'RSS max', 'saturated', 'lost'],
    rows,
    'The fleet ran in one process.',
  );
}

function chartsSection(data: ReportData): string {
  if (data.times.length === 0)
    return '<p class="empty">No measured second to plot: the run ended within its first second.</p>';
  const key =
    `<p class="key"><span class="swatch"></span> shaded: a saturated second (the generator's ` +
    `event-loop delay p99 over ${ms(SATURATION.loopDelayP99Ms)} or its utilisation over ` +
    `${SATURATION.utilization}): its figures are the generator's as much as the target's. ` +
    `${data.bands.length === 0 ? 'None in this run.' : ''}</p>`;
  const boxes = data.charts.map((c) =>
    c.series.length === 0
      ? `<div class="chart"><div class="u-title">${escapeHtml(c.title)}</div><p ` +
        `class="empty">${escapeHtml(c.empty)}</p></div>`
      : `<div class="chart" id="chart-${c.id}"></div>`,
  );
  return key + boxes.join('\n');
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:1.5em 2em;max-width:1100px;color:#222}
h1.verdict{font-size:3em;margin:0 0 .1em;letter-spacing:.04em}
.verdict.passed{color:#1b7f3b}.verdict.failed{color:#c62828}.verdict.inconclusive{color:#b26a00}
.verdict.stopped{color:#555}
h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
pre.summary{background:#f6f6f6;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12.5px}
.failed{color:#c62828;font-weight:600}.inconclusive{color:#b26a00;font-weight:600}
td.status.passed{color:#1b7f3b}
table{border-collapse:collapse;margin:.3em 0}
th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.chart{margin:1.2em 0}.chart .u-title{font-size:15px;font-weight:600}
.key .swatch{display:inline-block;width:1.4em;height:1em;background:rgba(229,57,53,.16);
border:1px solid rgba(229,57,53,.5);vertical-align:middle}
.empty,.note{color:#666;font-style:italic}
ol.markers{list-style:none;padding:0;columns:2}ol.markers li{break-inside:avoid;margin:.15em 0}
.markers .num{display:inline-block;min-width:1.6em;text-align:center;color:#fff;border-radius:3px;
font-size:12px}
.num.mark{background:#555}.num.chaos{background:#c62828}.num.outage{background:#e65100}
.num.broadcast{background:#2458c6}
.markers .at{display:inline-block;min-width:4em;color:#555}.markers .kind{color:#777}
`;

/** Renders the report page for a run's summary and its snapshots (any number of them, none included). */
export function renderReport(summary: RunSummary, snapshots: Snapshot[]): string {
  const data = reportData(summary, snapshots);
  const startMs = runStartMs(snapshots);
  const started = startMs === null ? '' : `, started ${new Date(startMs).toISOString()}`;
  const against = `${escapeHtml(summary.target.url)}${escapeHtml(started)}`;
  const headline = `exit ${summary.exitCode} after ${escapeHtml(ms(summary.durationMs))} against ${against}`;
  const uplotJs = uplotFile('uPlot.iife.min.js').replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>sockstorm report: ${escapeHtml(summary.verdict)}</title>
<style>${uplotFile('uPlot.min.css')}</style><style>${STYLE}</style></head>
<body>
<h1 class="verdict ${escapeHtml(summary.verdict)}">${escapeHtml(summary.verdict.toUpperCase())}</h1>
<p>${headline}</p>
<h2>Summary</h2>
${summaryBox(summary)}
<h2>Thresholds</h2>
${thresholdsTable(summary)}
<h2>Over time</h2>
${chartsSection(data)}
<h2>Marks, chaos actions and broadcasts</h2>
${markerList(data.markers)}
<h2>Recoveries</h2>
${recoveriesTable(summary, data.markers, startMs)}
<h2>Broadcasts</h2>
${broadcastsTable(summary)}
${summary.parts ? `<h2>Parts</h2>\n${partsTable(summary)}\n` : ''}<script>${uplotJs}</script>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}
