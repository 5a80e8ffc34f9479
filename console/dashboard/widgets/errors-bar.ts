import contrib from 'blessed-contrib';
import type { Snapshot } from '../../engine/snapshot.ts';
import { errorBars } from '../series.ts';

/** Errors by class as bars. */
export function errorsBar(grid: contrib.grid, at: [number, number, number, number]) {
  const bar = grid.set(...at, contrib.bar, { label: 'Errors by class', barWidth: 8, barSpacing: 2, xOffset: 0, maxHeight: 9 });
  return (snapshot: Snapshot): void => {
    const bars = errorBars(snapshot);
    bar.setData(bars.titles.length > 0 ? bars : { titles: ['none'], data: [0] });
  };
}
