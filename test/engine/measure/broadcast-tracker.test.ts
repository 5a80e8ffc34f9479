import { describe, expect, it } from 'vitest';
import { BroadcastTracker } from '../../../console/engine/measure/broadcast-tracker.ts';

describe('BroadcastTracker', () => {
  it('settles a record once every user owed it has it and a pass saw no receipt of it, with reach and percentiles', () => {
    const tracker = new BroadcastTracker(5000);
    const all = tracker.topic('all');
    all.readyCount = 4;
    const stamp = tracker.readyStamp;
    tracker.expect('all', 1, 0);
    for (const latency of [5, 1, 3, 2]) tracker.receive(all, 1, latency, 10, stamp);
    tracker.settle(20);
    // users not owed it may still be receiving it: it settles when a pass finds it quiet
    expect(tracker.settled).toHaveLength(0);
    tracker.settle(30);
    expect(tracker.settled[0]).toMatchObject({
      seq: 1,
      openAtSend: 4,
      receivers: 4,
      reached: 4,
      reach: 1,
      firstMs: 1,
      lastMs: 5,
      p50Ms: 2,
      p99Ms: 5,
    });
  });
  it('settles a partial record after the settle time and reports its reach', () => {
    const tracker = new BroadcastTracker(1000);
    const all = tracker.topic('all');
    all.readyCount = 10;
    const stamp = tracker.readyStamp;
    tracker.expect('all', 7, 0);
    tracker.receive(all, 7, 1, 10, stamp);
    tracker.settle(500);
    expect(tracker.settled).toHaveLength(0);
    tracker.settle(1001);
    expect(tracker.minReach).toBeCloseTo(0.1);
  });
  it('takes a receipt of a seq that settled as late, not as a new broadcast', () => {
    const tracker = new BroadcastTracker(1000);
    const t = tracker.topic('t');
    t.readyCount = 1;
    tracker.receive(t, 3, 1, 0, tracker.readyStamp);
    tracker.settle(10);
    tracker.settle(20);
    tracker.receive(t, 3, 1, 20, tracker.readyStamp);
    tracker.settle(2000, true);
    expect(tracker.settled.map((r) => [r.seq, r.receivers])).toEqual([[3, 1]]);
  });
});
