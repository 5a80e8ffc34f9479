import { useEffect, useState } from 'react';
import type { Engine } from '../engine/engine.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';

/** How many snapshots the panels keep for their sparklines. */
const HISTORY = 60;

/** The latest snapshot and the recent ones, re-rendering once per snapshot (about once a second). */
export function useSnapshot(engine: Engine): { snapshot: Snapshot; history: Snapshot[] } {
  const [state, setState] = useState(() => ({ snapshot: engine.getSnapshot(), history: [engine.getSnapshot()] }));
  useEffect(
    () =>
      engine.subscribe((snapshot) => {
        setState((previous) => ({ snapshot, history: [...previous.history, snapshot].slice(-HISTORY) }));
      }),
    [engine],
  );
  return state;
}
