import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '../../../console/engine/users/reconnect-policy.ts';

describe('reconnectDelayMs', () => {
  it('gives null for off, 0 for immediate and the delay for fixed', () => {
    expect(reconnectDelayMs({ kind: 'off' }, 0)).toBeNull();
    expect(reconnectDelayMs({ kind: 'immediate' }, 5)).toBe(0);
    expect(reconnectDelayMs({ kind: 'fixed', delayMs: 250 }, 3)).toBe(250);
  });
  it('doubles expo from min to max, and jitters within the documented range', () => {
    const policy = { kind: 'expo', minMs: 100, maxMs: 1000, jitter: 'none' } as const;
    expect([0, 1, 2, 3, 4, 10].map((a) => reconnectDelayMs(policy, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(reconnectDelayMs({ ...policy, jitter: 'full' }, 2, () => 0.5)).toBe(200);
    expect(reconnectDelayMs({ ...policy, jitter: 'equal' }, 2, () => 0)).toBe(200);
    expect(reconnectDelayMs({ ...policy, jitter: 'equal' }, 2, () => 0.999)).toBeCloseTo(399.8);
  });
});
