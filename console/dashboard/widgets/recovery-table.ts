import contrib from 'blessed-contrib';
import type { Snapshot } from '../../engine/snapshot.ts';
import { recoveryRows } from '../series.ts';

/** The last chaos actions and their recovery. */
export function recoveryTable(grid: contrib.grid, at: [number, number, number, number]) {
  const table = grid.set(...at, contrib.table, { label: 'Recovery after chaos', keys: false, interactive: false, columnSpacing: 2, columnWidth: [16, 7, 7, 7, 6] });
  return (snapshot: Snapshot): void => {
    table.setData({ headers: ['action', 'drop', '95%', '100%', 'hs/s'], data: recoveryRows(snapshot) });
  };
}
