import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../../console/engine/measure/histogram.ts';

describe('LatencyHistogram', () => {
  it('merges by counts, so percentiles of a merge are exact, and survives encoding', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 99; i++) a.record(1);
    b.record(100);
    a.add(LatencyHistogram.decode(b.encode()));
    expect(a.count).toBe(100);
    expect(a.summary().p50).toBeCloseTo(1, 2);
    expect(a.summary().max).toBeCloseTo(100, 0);
  });

  it('reads percentiles as HDR does, in one pass, never above the max, with the exact mean', () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 1000 }, (_, i) => 0.1 + ((i * 7919) % 1000) * 0.37);
    for (const v of values) h.record(v);
    const sorted = values.slice().sort((x, y) => x - y);
    const s = h.summary();
    // HDR keeps 3 significant digits: each percentile within 0.1% of the sorted sample's
    for (const [p, got] of [
      [50, s.p50],
      [90, s.p90],
      [99, s.p99],
    ] as const) {
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.002);
    }
    expect(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max).toBe(true);
    expect(s.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 2);
    expect(h.summary()).toEqual(s); // read again: the same, from the cache
    h.record(1000);
    expect(h.summary().max).toBeCloseTo(1000, 0);
    h.reset();
    expect(h.summary()).toMatchObject({ count: 0, p99: 0 });
  });
});
