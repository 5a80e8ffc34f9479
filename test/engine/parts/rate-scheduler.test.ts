import { describe, expect, it } from 'vitest';
import { RateScheduler } from '../../../console/engine/parts/rate-scheduler.ts';

describe('RateScheduler', () => {
  it('issues intended send times at a fixed rate and keeps them when the caller is late', () => {
    const scheduler = new RateScheduler();
    scheduler.setRate(10, 0);
    expect(scheduler.due(0)).toEqual([0]);
    expect(scheduler.due(250)).toEqual([100, 200]);
    expect(scheduler.due(250)).toEqual([]);
    expect(scheduler.due(600)).toEqual([300, 400, 500, 600]);
  });
});
