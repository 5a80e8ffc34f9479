import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../console/engine/snapshot.ts';
import { errorBars, fleetLines, healthPercent, recoveryRows, surgeLines } from '../../console/dashboard/series.ts';
import { followStream } from '../../console/dashboard/stream-client.ts';
import { startMetricsEndpoint } from '../../console/report/metrics-endpoint.ts';
import { eventually } from '../helpers/test-client.ts';
import { useEngines } from '../helpers/engines.ts';

const engines = useEngines();

describe('dashboard series', () => {
  it('folds real snapshots into chart lines, error bars, recovery rows and a load percentage', async () => {
    const engine = await engines.start({ ratePerSec: 5000, snapshotIntervalMs: 200 });
    const history: Snapshot[] = [];
    engine.subscribe((s) => history.push(s));
    await engine.dispatch({ type: 'set-target', count: 20 });
    await eventually(() => engine.live().open === 20, 10_000);
    await engine.dispatch({ type: 'kill', percent: 50, mode: 'reset', victims: 'oldest' });
    await eventually(() => history.length > 0 && history[history.length - 1]!.recovery?.fullMs != null, 10_000);
    const last = history[history.length - 1]!;
    const [open, target] = fleetLines(history);
    expect(open!.y[open!.y.length - 1]).toBe(20);
    expect(target!.y.every((y) => y === 20 || y === 0)).toBe(true);
    expect(open!.x).toHaveLength(open!.y.length);
    expect(Math.max(...surgeLines(history)[1]!.y)).toBeGreaterThan(0);
    expect(recoveryRows(last)[0]!.slice(0, 2)).toEqual(['kill 50% reset', '10']);
    expect(errorBars(last)).toEqual({ titles: [], data: [] });
    const percent = healthPercent(last);
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThanOrEqual(100);
  });
});

describe('dashboard stream client', () => {
  it('attaches to a live endpoint, receives snapshots, and reports a refused one', async () => {
    const engine = await engines.start({ snapshotIntervalMs: 200 });
    const endpoint = await startMetricsEndpoint(engine);
    const received: Snapshot[] = [];
    const statuses: string[] = [];
    const controller = new AbortController();
    const following = followStream(endpoint.url, (s) => received.push(s), (t) => statuses.push(t), controller.signal);
    await eventually(() => received.length >= 3, 5000);
    expect(statuses[0]).toBe(`attached to ${endpoint.url}`);
    expect(received[2]!.seq).toBeGreaterThan(received[0]!.seq);
    controller.abort();
    await following;
    await endpoint.close();
    const refused: string[] = [];
    await followStream(endpoint.url, () => {}, (t) => refused.push(t), new AbortController().signal);
    expect(refused[0]).toContain('cannot reach');
  });
});
