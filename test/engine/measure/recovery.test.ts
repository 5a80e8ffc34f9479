import { describe, expect, it } from 'vitest';
import { RecoveryTracker } from '../../../console/engine/measure/recovery.ts';

describe('RecoveryTracker', () => {
  it('times 95% and 100% of the target and the peak handshakes per second', () => {
    const tracker = new RecoveryTracker();
    tracker.start('kill 20% reset', 1000, 0, 100, 20);
    tracker.check(1000, 80);
    for (let i = 0; i < 15; i++) tracker.onAttempt(1100 + i);
    tracker.check(1200, 95);
    for (let i = 0; i < 5; i++) tracker.onAttempt(2100 + i);
    tracker.onFailure();
    tracker.check(2500, 100);
    expect(tracker.last).toMatchObject({
      p95Ms: 200,
      fullMs: 1500,
      peakHandshakesPerSec: 15,
      attempts: 20,
      failures: 1,
    });
    expect(tracker.isRecovered).toBe(true);
  });
  it('waits for announced server-side drops before it can call the fleet recovered', () => {
    const tracker = new RecoveryTracker();
    tracker.start('kill 10% server', 0, 0, 10, 0, true);
    tracker.check(5, 10);
    expect(tracker.isRecovered).toBe(false);
    tracker.announce(1);
    tracker.check(6, 10);
    expect(tracker.isRecovered).toBe(false);
    tracker.onDrop();
    tracker.check(50, 10);
    expect(tracker.last).toMatchObject({ fullMs: 50, dropped: 1 });
  });
  it('counts drops that land before the server answers', () => {
    const tracker = new RecoveryTracker();
    tracker.start('kill 20% server', 0, 0, 10, 0, true);
    tracker.onDrop();
    tracker.onDrop();
    tracker.announce(2);
    tracker.check(30, 10);
    expect(tracker.last).toMatchObject({ fullMs: 30, dropped: 2 });
  });
  it('calls a fleet recovered at the announcement when every victim was back before it, timed from when they were', () => {
    const tracker = new RecoveryTracker();
    tracker.start('kill 20% server', 0, 0, 100, 0, true);
    tracker.check(5, 100);
    for (let i = 0; i < 15; i++) tracker.onDrop();
    tracker.check(60, 85);
    tracker.check(120, 96);
    tracker.check(140, 100);
    expect(tracker.isRecovered).toBe(false);
    // the count comes after the last user reopened, and no open follows it
    tracker.announce(15);
    expect(tracker.isRecovered).toBe(true);
    expect(tracker.last).toMatchObject({ p95Ms: 120, fullMs: 140, dropped: 15 });
  });
  it('times the comeback from the last drop: a dip after a full count starts it again', () => {
    const tracker = new RecoveryTracker();
    tracker.start('kill 20% server', 0, 0, 10, 0, true);
    tracker.onDrop();
    tracker.check(10, 10);
    tracker.onDrop();
    tracker.check(20, 9);
    tracker.check(35, 10);
    tracker.announce(2);
    expect(tracker.last).toMatchObject({ fullMs: 35 });
  });
});
