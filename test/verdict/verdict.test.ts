import { describe, expect, it } from 'vitest';
import type { LatencySummary } from '../../console/engine/measure/histogram.ts';
import type { LatencyName } from '../../console/engine/measure/metrics.ts';
import type { Snapshot } from '../../console/engine/measure/snapshot.ts';
import { judge, saturatedShareOf, verdictOf } from '../../console/verdict/verdict.ts';
import { evaluateThresholds, type Threshold } from '../../console/verdict/thresholds.ts';
import { parseScript } from '../../console/script/parse.ts';

const NONE: LatencySummary = { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };

/** One second of a run, with only what verdicts read: samples per latency, attempts, saturation. */
function second(
  at: number,
  isSaturated: boolean,
  samples: Partial<Record<LatencyName, number>>,
  attempts: number,
): Snapshot {
  const interval = Object.fromEntries(
    (['connect', 'rtt', 'fanout', 'reconnect'] as const).map((name) => [name, { ...NONE, count: samples[name] ?? 0 }]),
  );
  return {
    atMs: at * 1000,
    interval,
    totals: { attempts },
    health: { isSaturated },
    recovery: null,
  } as unknown as Snapshot;
}

const thresholds = (text: string): Threshold[] =>
  parseScript(`vus 1\n${text}`).flatMap((s) => (s.kind === 'expect' ? [s.threshold] : []));

// a saturated connect ramp (seconds 1-3), then quiet seconds with RTT probes (4-10)
const run: Snapshot[] = [
  second(1, true, { connect: 400 }, 400),
  second(2, true, { connect: 400 }, 800),
  second(3, true, { connect: 200 }, 1000),
  ...[4, 5, 6, 7, 8, 9, 10].map((at) => second(at, false, { rtt: 100 }, 1000)),
];
const last = run[run.length - 1]!;

describe('verdicts per threshold', () => {
  it("counts the share of each metric's own samples that were taken in saturated seconds", () => {
    expect(saturatedShareOf('connect.p99', run, last)).toBe(1);
    expect(saturatedShareOf('rtt.p99', run, last)).toBe(0);
    expect(saturatedShareOf('errors.rate', run, last)).toBe(1);
    expect(saturatedShareOf('saturated', run, last)).toBeNull();
    // no fan-out samples at all: judged by seconds, 3 of 10 saturated
    expect(saturatedShareOf('reach', run, last)).toBeCloseTo(0.3);
  });

  it(
    'makes a missed bound on saturated samples inconclusive, and leaves a quiet one or a bound met ' +
      'anyway conclusive',
    () => {
      const values = { 'connect.p99': 900, 'rtt.p99': 2, 'errors.rate': 0, open: 1000, saturated: 0.3 };
      const results = evaluateThresholds(
        thresholds(
          [
            'expect connect.p99 < 250ms',
            'expect rtt.p99 < 5ms',
            'expect rtt.p99 < 1ms',
            'expect errors.rate < 1%',
            'expect open >= 1000',
            'expect connect.p99 > 1s',
            'expect saturated < 50%',
          ].join('\n'),
        ),
        values,
      ).map((r) => judge(r, run, last));
      expect(results.map((r) => r.status)).toEqual([
        'inconclusive',
        'passed',
        'failed',
        'passed',
        'passed',
        'inconclusive',
        'passed',
      ]);
      expect(results[0]!.saturatedShare).toBe(1);
      // a quiet RTT bound that failed is a real failure: it decides the run
      expect(verdictOf(results, false)).toBe('failed');
      expect(
        verdictOf(
          results.filter((r) => r.status !== 'failed'),
          false,
        ),
      ).toBe('inconclusive');
      expect(
        verdictOf(
          results.filter((r) => r.status === 'passed'),
          false,
        ),
      ).toBe('passed');
      expect(verdictOf(results, true)).toBe('stopped');
    },
  );

  it(
    'takes an exact bound at the end saturation pushes from as met: missed == 0, reach == 100%; ' +
      'other exact bounds stay inconclusive',
    () => {
      const values = { missed: 0, reach: 1, 'errors.count': 3 };
      const results = evaluateThresholds(
        thresholds('expect missed == 0\nexpect reach == 100%\nexpect errors.count == 3'),
        values,
      ).map((r) => judge(r, run, last));
      expect(results.map((r) => r.status)).toEqual(['passed', 'passed', 'inconclusive']);
    },
  );
});
