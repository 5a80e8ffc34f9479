import type blessed from 'blessed';
import contrib from 'blessed-contrib';
import type { Snapshot } from '../../engine/measure/snapshot.ts';
import type { Box } from '../layout.ts';
import { chartLabel, type Line } from '../series.ts';

/** A braille line chart in `box`, fed with one of the series folds; its label names the series in their colours. */
export function lineChart(
  screen: blessed.Widgets.Screen,
  box: Box,
  title: string,
  fold: (history: Snapshot[]) => Line[],
) {
  const chart = contrib.line({
    ...box,
    tags: true,
    border: { type: 'line' },
    style: { border: { fg: 'cyan' }, text: 'green', baseline: 'black' },
    showLegend: false,
    wholeNumbersOnly: false,
    numYLabels: Math.max(2, Math.min(5, box.height - 4)),
  });
  screen.append(chart);
  return {
    element: chart,
    update(_snapshot: Snapshot, history: Snapshot[]): void {
      const lines = fold(history);
      // the border's corners and a space either side are not the label's
      chart.setLabel(chartLabel(title, lines, box.width - 4));
      chart.setData(
        lines.map((l) => ({
          title: l.title,
          x: l.x.length > 0 ? l.x : ['0:00'],
          y: l.y.length > 0 ? l.y : [0],
          style: { line: l.color },
        })),
      );
    },
  };
}
