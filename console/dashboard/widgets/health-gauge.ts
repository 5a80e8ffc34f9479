import contrib from 'blessed-contrib';
import type { Snapshot } from '../../engine/snapshot.ts';
import { healthPercent } from '../series.ts';

/** The generator's own load; the label turns to SATURATED when it is the bottleneck. */
export function healthGauge(grid: contrib.grid, at: [number, number, number, number]) {
  const gauge = grid.set(...at, contrib.gauge, { label: 'Generator load', stroke: 'green', fill: 'white' });
  return (snapshot: Snapshot): void => {
    const h = snapshot.health;
    // the last snapshot of a run is its teardown, which is not measured
    const label = snapshot.isStopped ? `Generator: run ended, saturated ${snapshot.saturatedIntervals}/${snapshot.intervals}s`
      : h.isSaturated ? 'Generator SATURATED' : `Generator load (loop p99 ${h.loopDelayP99Ms.toFixed(0)}ms)`;
    gauge.setLabel(label);
    gauge.setPercent(healthPercent(snapshot));
  };
}
