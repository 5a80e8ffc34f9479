import contrib from 'blessed-contrib';
import type { Snapshot } from '../../engine/snapshot.ts';
import type { Line } from '../series.ts';

/** A line chart at a grid cell, fed with one of the series folds. */
export function lineChart(grid: contrib.grid, at: [number, number, number, number], label: string, fold: (history: Snapshot[]) => Line[]) {
  const chart = grid.set(...at, contrib.line, { label, showLegend: true, legend: { width: 14 }, wholeNumbersOnly: false, style: { text: 'green', baseline: 'black' } });
  return (_snapshot: Snapshot, history: Snapshot[]): void => {
    const lines = fold(history);
    chart.setData(lines.map((l) => ({ title: l.title, x: l.x.length > 0 ? l.x : ['0s'], y: l.y.length > 0 ? l.y : [0], style: { line: l.color } })));
  };
}
