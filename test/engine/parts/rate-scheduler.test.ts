import { describe, expect, it } from 'vitest';
import { MAX_SENDS_PER_TURN, RateScheduler } from '../../../console/engine/parts/rate-scheduler.ts';

describe('RateScheduler', () => {
  it('issues intended send times at a fixed rate and keeps them when the caller is late', () => {
    const scheduler = new RateScheduler();
    scheduler.setRate(10, 0);
    expect(scheduler.due(0)).toEqual([0]);
    expect(scheduler.due(250)).toEqual([100, 200]);
    expect(scheduler.due(250)).toEqual([]);
    expect(scheduler.due(600)).toEqual([300, 400, 500, 600]);
  });

  it('sends at most MAX_SENDS_PER_TURN of a backlog in one call, oldest first, and keeps the rest due in order', () => {
    const scheduler = new RateScheduler();
    // 50,000/s and a 100 ms stall: 5,001 sends are due at 100 ms
    scheduler.setRate(50_000, 0);
    const first = scheduler.due(100);
    expect(first).toHaveLength(MAX_SENDS_PER_TURN);
    expect(first[0]).toBe(0);
    expect(first.at(-1)).toBeCloseTo((MAX_SENDS_PER_TURN - 1) * 0.02, 9);
    // the rest are still due, the next one first
    expect(scheduler.nextDueAt()).toBeCloseTo(MAX_SENDS_PER_TURN * 0.02, 9);
    let sent = first.length;
    let turns = 1;
    for (let times = scheduler.due(101); times.length > 0; times = scheduler.due(101)) {
      expect(times[0]).toBeCloseTo(sent * 0.02, 9);
      expect(times.length).toBeLessThanOrEqual(MAX_SENDS_PER_TURN);
      sent += times.length;
      turns++;
    }
    // nothing skipped, nothing sent twice: every send due by 101 ms, in 11 turns
    expect(sent).toBe(5051);
    expect(turns).toBe(11);
    expect(scheduler.skipped).toBe(0);
  });

  it('skips what was due longer than the backlog ago and counts it', () => {
    const scheduler = new RateScheduler();
    scheduler.setRate(1000, 0);
    const times = scheduler.due(5000, 1000, 10_000);
    expect(times).toHaveLength(1001);
    expect(times[0]).toBe(4000);
    expect(scheduler.skipped).toBe(4000);
  });
});
