/**
 * `compare --report FILE`: one self-contained HTML file (uPlot inlined as in the run report, no
 * network) with the comparison's table (best value of each row marked, ratios to the first
 * variant), each latency's percentile curves overlaid on a log axis, and the per-second fan-out
 * p99, RTT p99 and server loop delay of every run on shared time axes with their marks.
 */
import { escapeHtml, scriptJson, uplotFile } from '../report/html-report.ts';
import { ms } from '../report/format.ts';
import { REPORT_SCRIPT } from '../report/report-client.ts';
import type { Marker, ReportData } from '../report/report-series.ts';
import { CURVE_SCRIPT } from './compare-client.ts';
import { curveData, timeData, VARIANT_COLORS, type CurveData } from './compare-charts.ts';
import { compareNotes, compareRows, ratioText, serverText, type CompareColumn } from './compare-table.ts';

function figuresTable(columns: CompareColumn[]): string {
  const head = columns
    .map(
      (c, i) =>
        `<th><span class="swatch" ` +
        `style="background:${VARIANT_COLORS[i % VARIANT_COLORS.length]}"></span>${escapeHtml(c.name)}<div ` +
        `class="knobs">${escapeHtml(c.knobs)}</div></th>`,
    )
    .join('');
  const textRow = (label: string, cells: string[]): string =>
    `<tr><th>${escapeHtml(label)}</th>${cells.map((t) => `<td>${escapeHtml(t)}</td>`).join('')}</tr>`;
  const rows = compareRows(columns).map((row) => {
    const cells = row.texts.map((t, i) => {
      const ratio = i === 0 ? '' : ratioText(row.ratios[i] ?? null);
      const isBest = row.best.includes(i);
      const ratioSpan = ratio ? ` <span class="ratio">${escapeHtml(ratio)}</span>` : '';
      const mark = isBest ? ' <span class="mark">*</span>' : '';
      const attributes = `class="num${isBest ? ' best' : ''}" data-row="${escapeHtml(row.id)}"`;
      return `<td ${attributes}>${escapeHtml(t)}${ratioSpan}${mark}</td>`;
    });
    return `<tr><th>${escapeHtml(row.label)}</th>${cells.join('')}</tr>`;
  });
  return `<table class="figures"><thead><tr><th></th>${head}</tr></thead><tbody>
${textRow('server', columns.map(serverText))}
${textRow(
  'verdict',
  columns.map((c) => [...new Set(c.runs.map((r) => r.verdict))].join(', ')),
)}
${textRow(
  'runs',
  columns.map((c) => c.runs.map((r) => ms(r.durationMs)).join(', ')),
)}
${rows.join('\n')}
</tbody></table>`;
}

function curvesSection(data: CurveData): string {
  if (data.curves.length === 0)
    return (
      '<p class="empty">No latency distribution in these summaries (a summary written by an older ' +
      'sockstorm has none).</p>'
    );
  return data.curves.map((c) => `<div class="chart" id="curve-${c.id}"></div>`).join('\n');
}

function timeSection(data: ReportData): string {
  if (data.times.length === 0) return '<p class="empty">No per-second figures in these summaries.</p>';
  return data.charts
    .map((c) =>
      c.series.length === 0
        ? `<div class="chart"><div class="u-title">${escapeHtml(c.title)}</div><p ` +
          `class="empty">${escapeHtml(c.empty)}</p></div>`
        : `<div class="chart" id="chart-${c.id}"></div>`,
    )
    .join('\n');
}

function markerList(markers: Marker[]): string {
  if (markers.length === 0) return '<p class="empty">No marks in these runs.</p>';
  const items = markers.map((m) => {
    const at = `<span class="at">${escapeHtml(ms(m.atS * 1000))}</span>`;
    return `<li><span class="n">${m.n}</span> ${at} ${escapeHtml(m.label)}</li>`;
  });
  return `<ol class="markers">${items.join('')}</ol>`;
}

function scriptSection(columns: CompareColumn[]): string {
  const scripts = new Map<string, string[]>();
  for (const c of columns) {
    const script = c.runs[0]?.script;
    if (script) scripts.set(script.sha256, [...(scripts.get(script.sha256) ?? []), c.name]);
  }
  if (scripts.size === 0) return '<p class="empty">The summaries carry no script record.</p>';
  return [...scripts.entries()]
    .map(([sha, names]) => {
      const commands = columns.find((c) => c.runs[0]?.script?.sha256 === sha)!.runs[0]!.script!.commands;
      return (
        `<p>${escapeHtml(names.join(', '))} (sha256 ${escapeHtml(sha.slice(0, 12))}…)</p><pre ` +
        `class="script">${escapeHtml(commands.join('\n'))}</pre>`
      );
    })
    .join('\n');
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:1.5em 2em;max-width:1100px;color:#222}
h1{font-size:1.8em;margin:0 0 .3em}
h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.3em 0}
th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
thead th{background:#f3f3f3}tbody th{font-weight:normal;color:#444}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{font-weight:700;color:#1b7f3b}.ratio{color:#777;font-size:12px}
.knobs{font-weight:normal;color:#666;font-size:12px}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.4em;
vertical-align:baseline}
ul.warnings li{color:#b26a00;font-weight:600}.note,.empty{color:#666;font-style:italic}
.chart{margin:1.2em 0}.chart .u-title{font-size:15px;font-weight:600}
pre.script{background:#f6f6f6;padding:.8em;white-space:pre-wrap;font-size:12.5px}
ol.markers{list-style:none;padding:0;columns:2}ol.markers li{break-inside:avoid;margin:.15em 0}
.markers .n{display:inline-block;min-width:1.6em;text-align:center;color:#fff;background:#555;
border-radius:3px;font-size:12px}
.markers .at{display:inline-block;min-width:4em;color:#555}
`;

function warningList(warnings: readonly string[]): string {
  if (warnings.length === 0) return '';
  return `<ul class="warnings">${warnings.map((w) => `<li>warning: ${escapeHtml(w)}</li>`).join('')}</ul>`;
}

/** Renders the comparison page; `warnings` (summaries of different scripts) are shown at the top. */
export function renderCompareReport(columns: CompareColumn[], warnings: readonly string[] = []): string {
  const curves = curveData(columns);
  const times = timeData(columns);
  const notes = compareNotes(columns, []);
  const uplotJs = uplotFile('uPlot.iife.min.js').replace(/<\/script/gi, '<\\/script');
  const title = `sockstorm compare: ${columns.map((c) => c.name).join(' vs ')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${uplotFile('uPlot.min.css')}</style><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
${warningList(warnings)}
<h2>Figures</h2>
${figuresTable(columns)}
${notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
<h2>Latency distribution</h2>
<p class="note">Each variant's whole-run percentiles, p50 to p99.9 (medians over its rounds); the percentile axis is
logarithmic so the tail gets the room. The max is in each legend.</p>
${curvesSection(curves)}
<h2>Over time</h2>
<p class="note">Seconds since each run's start, one line a run; the cursor is shared by the charts. Numbered lines are
marks (a live <code>server KNOB VALUE</code> is one).</p>
${timeSection(times)}
${markerList(times.markers)}
<h2>Script</h2>
${scriptSection(columns)}
<script>${uplotJs}</script>
<script type="application/json" id="report-data">${scriptJson(times)}</script>
<script>${REPORT_SCRIPT}</script>
<script type="application/json" id="compare-data">${scriptJson(curves)}</script>
<script>${CURVE_SCRIPT}</script>
</body></html>
`;
}
