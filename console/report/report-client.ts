/**
 * The report page's own script: draws each chart of `report-series.ts`'s data with uPlot
 * (inlined before it), one value scale a unit, saturated seconds shaded behind the grid and
 * the markers as numbered vertical lines whose numbers are stacked in rows above the plot so
 * none overprints another. The cursor is synced across charts; the legend under each chart
 * shows the values under it. Plain browser JavaScript, kept as a string: it never runs in Node.
 */

/**
 * The pages' one short figure for ticks and legends, 3 significant digits at most (`1.2M`,
 * `12.3k`, `312`, `8.3`, `0.42`): the run report and the compare page both use it.
 */
// biome-ignore lint/complexity/noUselessStringRaw: the scripts it joins are raw strings too
export const NUM_SCRIPT = String.raw`
  function num(v) {
    var a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
    return a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
`;

/** The script; it reads its data from `<script type="application/json" id="report-data">`. */
// biome-ignore lint/complexity/noUselessStringRaw: a backslash written in the script must reach the browser as written
export const REPORT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var SUFFIX = { ms: ' ms', users: '', '/s': '/s', '%': '%', MiB: ' MiB', s: ' s' };
  var AXIS = { ms: 'ms', users: 'users', '/s': 'per second', '%': '%', MiB: 'MiB' };
  var MARKER = { mark: '#555', chaos: '#c62828', outage: '#e65100', broadcast: '#2458c6' };
  var SHADE = 'rgba(229, 57, 53, 0.16)';
  var ROW = 14; // css px per row of marker numbers
  var ROWS = 3;

${NUM_SCRIPT}  function fmt(v, unit) { return v === null || v === undefined ? '—' : num(v) + SUFFIX[unit]; }

  var xMax = Math.max(1, data.times.length > 0 ? data.times[data.times.length - 1] : 1);

  function shadeBands(u) {
    var ctx = u.ctx;
    var drawn = 0;
    ctx.save();
    ctx.fillStyle = SHADE;
    data.bands.forEach(function (b) {
      var x0 = u.valToPos(b[0], 'x', true);
      var x1 = u.valToPos(b[1], 'x', true);
      ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
      drawn++;
    });
    ctx.restore();
    u.root.dataset.shadedBands = String(drawn);
  }

  function drawMarkers(u) {
    var ctx = u.ctx;
    var px = uPlot.pxRatio;
    var rowEnds = [];
    var drawn = 0;
    ctx.save();
    ctx.font = (11 * px) + 'px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    data.markers.forEach(function (m) {
      if (m.atS < u.scales.x.min || m.atS > u.scales.x.max) return;
      var x = Math.round(u.valToPos(m.atS, 'x', true));
      ctx.strokeStyle = MARKER[m.kind];
      ctx.lineWidth = px;
      ctx.setLineDash([4 * px, 3 * px]);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      drawn++;
      // the number goes in the first row above the plot where it overlaps nothing
      var text = String(m.n);
      var w = ctx.measureText(text).width + 6 * px;
      var row = 0;
      while (row < rowEnds.length && rowEnds[row] > x - w / 2) row++;
      if (row >= ROWS) return;
      rowEnds[row] = x + w / 2 + 2 * px;
      var y = u.bbox.top - (row + 0.5) * ROW * px;
      ctx.setLineDash([]);
      ctx.fillStyle = MARKER[m.kind];
      ctx.fillRect(x - w / 2, y - 6 * px, w, 12 * px);
      ctx.fillStyle = '#fff';
      ctx.textAlign = 'center';
      ctx.fillText(text, x, y);
    });
    ctx.restore();
    u.root.dataset.markers = String(drawn);
  }

  // a measured second between two unmeasured ones is a point, not a line: show points there
  function isGappy(values) {
    return values.some(function (v, i) {
      return v !== null && (i === 0 || values[i - 1] === null) && (i === values.length - 1 || values[i + 1] === null);
    });
  }

  function options(spec, width) {
    var units = [];
    spec.series.forEach(function (s) { if (units.indexOf(s.unit) < 0) units.push(s.unit); });
    var scales = { x: { time: false, range: [0, xMax] } };
    units.forEach(function (unit) {
      scales[unit] = { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } };
    });
    var axes = [{
      label: 'seconds since start',
      values: function (u, splits) { return splits.map(function (v) { return num(v) + ' s'; }); },
    }];
    units.forEach(function (unit, i) {
      axes.push({
        scale: unit, side: i === 0 ? 3 : 1, label: AXIS[unit], grid: { show: i === 0 }, size: 60,
        values: function (u, splits) { return splits.map(function (v) { return num(v) + SUFFIX[unit]; }); },
      });
    });
    var series = [{ label: 'time', value: function (u, v) { return fmt(v, 's'); } }];
    spec.series.forEach(function (s) {
      series.push({
        label: s.label + ' (' + AXIS[s.unit] + ')', scale: s.unit, stroke: s.color,
        width: s.isDashed ? 1.25 : 1.75, spanGaps: false,
        dash: s.isDashed ? [6, 4] : undefined,
        points: isGappy(s.values) ? { show: true, size: 5, fill: s.color } : {},
        value: function (u, v) { return fmt(v, s.unit); },
      });
    });
    return {
      title: spec.title, width: width, height: 220, scales: scales, axes: axes, series: series,
      padding: [data.markers.length > 0 ? ROWS * ROW + 4 : 12, units.length > 1 ? 0 : 16, 0, 0],
      cursor: { sync: { key: 'sockstorm' } }, legend: { live: true },
      hooks: { drawClear: [shadeBands], draw: [drawMarkers] },
    };
  }

  var plots = [];
  function widthOf(el) { return Math.max(320, el.clientWidth); }
  data.charts.forEach(function (spec) {
    var el = document.getElementById('chart-' + spec.id);
    if (!el || spec.series.length === 0 || data.times.length === 0) return;
    var columns = [data.times].concat(spec.series.map(function (s) { return s.values; }));
    plots.push({ el: el, plot: new uPlot(options(spec, widthOf(el)), columns, el) });
  });
  window.addEventListener('resize', function () {
    plots.forEach(function (p) { p.plot.setSize({ width: widthOf(p.el), height: 220 }); });
  });
  document.body.dataset.charts = String(plots.length);
})();
`;
