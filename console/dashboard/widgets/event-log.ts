import contrib from 'blessed-contrib';
import type { Snapshot } from '../../engine/snapshot.ts';

/** The engine's event log, each event once. */
export function eventLog(grid: contrib.grid, at: [number, number, number, number]) {
  const log = grid.set(...at, contrib.log, { label: 'Events', fg: 'white', selectedFg: 'white' });
  let lastId = 0;
  return (snapshot: Snapshot): void => {
    for (const event of snapshot.events) {
      if (event.id <= lastId) continue;
      lastId = event.id;
      log.log(`${new Date(event.atMs).toISOString().slice(11, 19)} ${event.level === 'info' ? '' : `${event.level.toUpperCase()} `}${event.text}`);
    }
  };
}
