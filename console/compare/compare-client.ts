/**
 * The compare page's own script for the latency distributions: each chart overlays the
 * variants' percentile curves with uPlot (inlined before it), the percentile on a log axis of
 * 1 / (1 - p) so that p50, p90, p99 and p99.9 are a step apart and the tail gets the room (the
 * classic "default vs tuned" picture). The per-second charts are drawn by the run report's
 * script. Plain browser JavaScript, kept as a string: it never runs in Node.
 */

import { NUM_SCRIPT } from '../report/report-client.ts';

/** The script; it reads its data from `<script type="application/json" id="compare-data">`. */
// biome-ignore lint/complexity/noUselessStringRaw: a backslash written in the script must reach the browser as written
export const CURVE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('compare-data').textContent);
${NUM_SCRIPT}  function ms(v) { return v === null || v === undefined ? '—' : num(v) + ' ms'; }
  // the x of a percentile, and back
  function xOf(p) { return 1 / (1 - p / 100); }
  function pOf(x) { return x === null || x === undefined ? '' : 'p' + String(Math.round((100 - 100 / x) * 10) / 10); }

  var xs = data.percentiles.map(xOf);
  var plots = [];
  function widthOf(el) { return Math.max(320, el.clientWidth); }

  function options(chart, width) {
    var series = [
      { label: 'percentile', value: function (u, v) { return v === null || v === undefined ? '—' : pOf(v); } },
    ];
    chart.series.forEach(function (s) {
      series.push({
        label: s.label + ' (ms, max ' + ms(s.maxMs) + ')', stroke: s.color, width: 2, spanGaps: false,
        points: { show: true, size: 6, fill: s.color },
        value: function (u, v) { return ms(v); },
      });
    });
    return {
      title: chart.title, width: width, height: 260, series: series,
      scales: {
        x: { time: false, distr: 3, log: 10, range: [xs[0] / 1.2, xs[xs.length - 1] * 1.2] },
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } },
      },
      axes: [
        // every percentile is a tick: uPlot's log axes would otherwise label only 1, 2 and 5 × 10^n
        {
          label: 'percentile (log scale of 1 / (1 - p))',
          splits: function () { return xs; },
          filter: function (u, splits) { return splits; },
          values: function (u, splits) { return splits.map(pOf); },
        },
        {
          label: 'ms', size: 60,
          values: function (u, splits) { return splits.map(function (v) { return num(v) + ' ms'; }); },
        },
      ],
      legend: { live: true },
    };
  }

  data.curves.forEach(function (chart) {
    var el = document.getElementById('curve-' + chart.id);
    if (!el) return;
    var columns = [xs].concat(chart.series.map(function (s) { return s.values; }));
    var plot = new uPlot(options(chart, widthOf(el)), columns, el);
    el.dataset.curves = String(chart.series.length);
    plots.push({ el: el, plot: plot });
  });
  window.addEventListener('resize', function () {
    plots.forEach(function (p) { p.plot.setSize({ width: widthOf(p.el), height: 260 }); });
  });
  document.body.dataset.curveCharts = String(plots.length);
})();
`;
