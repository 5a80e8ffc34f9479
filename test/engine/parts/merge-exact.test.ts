import { describe, expect, it } from 'vitest';
import type { PartSample } from '../../../console/engine/parts/fleet-part.ts';
import { LatencyHistogram } from '../../../console/engine/measure/histogram.ts';
import { mergeParts, mergeRecoveries, SettledBroadcasts } from '../../../console/engine/parts/merge-parts.ts';
import { LATENCY_NAMES, zeroTotals } from '../../../console/engine/measure/metrics.ts';
import { MAX_PENDING_BROADCASTS } from '../../../console/engine/measure/topic-lru.ts';
import { emptySample, frozen } from '../../../console/engine/parts/part-samples.ts';

// fixed samples (ms), split unevenly over three parts
const SAMPLES = Array.from({ length: 1000 }, (_, i) => 0.2 + ((i * 7919) % 1000) * 0.37);
const SPLIT = [SAMPLES.slice(0, 700), SAMPLES.slice(700, 950), SAMPLES.slice(950)];

function histogramOf(values: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h;
}

/** A part sample holding only what the merge reads for latencies. */
function part(values: number[]): PartSample {
  const encoded = histogramOf(values).encode();
  const none = new LatencyHistogram().encode();
  const summary = histogramOf(values).summary();
  const byName = Object.fromEntries(
    LATENCY_NAMES.map((n) => [n, n === 'connect' || n === 'fanout' ? summary : new LatencyHistogram().summary()]),
  );
  const encodedByName = Object.fromEntries(
    LATENCY_NAMES.map((n) => [n, n === 'connect' || n === 'fanout' ? encoded : none]),
  );
  const empty = emptySample();
  return {
    ...empty,
    fleet: { ...empty.fleet, target: values.length, open: values.length },
    totals: { ...zeroTotals(), attempts: values.length, connects: values.length },
    latency: byName as PartSample['latency'],
    interval: byName as PartSample['interval'],
    histograms: { total: encodedByName as never, interval: encodedByName as never },
  };
}

describe('merging parts exactly', () => {
  const all = histogramOf(SAMPLES).summary();

  it('merges connect and fan-out to the histogram of all samples, and counts add up', () => {
    const merged = mergeParts(SPLIT.map(part));
    expect(merged.latency.connect).toEqual(all);
    expect(merged.interval.fanout).toEqual(all);
    expect(merged.totals.connects).toBe(1000);
    expect(merged.fleet.open).toBe(1000);
    // a part's own p99 is not the merged one: the old "largest shard's" upper bound would be wrong here
    expect(Math.max(...SPLIT.map((v) => histogramOf(v).summary().p99))).not.toBe(all.p99);
  });

  it(
    'merges one broadcast received in three parts to the percentiles of all its receipts and the sum ' +
      'of its cuts, once every part settled it',
    () => {
      const settled = new SettledBroadcasts();
      const live = new Set([0, 1, 2]);
      const record = (i: number) => ({
        topic: 'all',
        seq: 1,
        // part i's tool cut i users it owed the broadcast (owed nothing now, counted as cut), and one user
        // that became ready after it was sent received it too (a receiver, not owed it)
        openAtSend: SPLIT[i]!.length,
        receivers: SPLIT[i]!.length + 1,
        reached: SPLIT[i]!.length,
        cut: i,
        reach: 1,
        firstMs: Math.min(...SPLIT[i]!),
        p50Ms: 0,
        p99Ms: 0,
        lastMs: Math.max(...SPLIT[i]!),
        isSettled: true,
        sentAtMs: 1000 + i,
        histogram: histogramOf(SPLIT[i]!).encode(),
      });
      settled.add(0, [record(0)], live);
      settled.add(1, [record(1)], live);
      expect(settled.count).toBe(0);
      settled.add(2, [record(2)], live);
      expect(settled.count).toBe(1);
      expect(settled.last[0]).toMatchObject({
        receivers: 1003,
        reached: 1000,
        cut: 3,
        openAtSend: 1000,
        reach: 1,
        p50Ms: all.p50,
        p99Ms: all.p99,
        lastMs: all.max,
        sentAtMs: 1000,
      });
    },
  );

  it('finalises a broadcast without a part that was lost', () => {
    const settled = new SettledBroadcasts();
    const r = {
      topic: 't',
      seq: 9,
      openAtSend: 10,
      receivers: 9,
      reached: 9,
      cut: 1,
      reach: 0.9,
      firstMs: 1,
      p50Ms: 2,
      p99Ms: 3,
      lastMs: 3,
      isSettled: true,
      sentAtMs: 5,
    };
    settled.add(0, [r], new Set([0, 1]));
    expect(settled.count).toBe(0);
    settled.finish(new Set([0]));
    expect(settled.count).toBe(1);
    expect(settled.minReach).toBeCloseTo(0.9);
  });

  it(
    `finalises the oldest broadcasts only one part reported once more than ${MAX_PENDING_BROADCASTS} ` +
      `wait, with that part's figures`,
    () => {
      const settled = new SettledBroadcasts();
      const r = (seq: number) => ({
        topic: `t${seq}`,
        seq,
        openAtSend: 1,
        receivers: 1,
        reached: 1,
        cut: 0,
        reach: 1,
        firstMs: 1,
        p50Ms: 1,
        p99Ms: 1,
        lastMs: 1,
        isSettled: true,
        sentAtMs: seq,
      });
      // part 1 never reports these: a target publishing on ever new topics to part 0's users only
      settled.add(
        0,
        Array.from({ length: MAX_PENDING_BROADCASTS + 5 }, (_, i) => r(i)),
        new Set([0, 1]),
      );
      expect(settled.count).toBe(5);
      expect(settled.last.map((b) => b.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(settled.minReach).toBe(1);
    },
  );

  it(
    "adds the parts' peaks of open users (an upper bound of the fleet's), and a lost part's frozen sample " +
      'keeps its peak',
    () => {
      const empty = emptySample();
      const at = (open: number, peakOpen: number): PartSample => ({
        ...empty,
        fleet: { ...empty.fleet, open, peakOpen },
      });
      // one part peaked at 70 and holds 10, the other peaked at 50 and holds 50: the fleet held at most 120 at once
      expect(mergeParts([at(10, 70), at(50, 50)]).fleet).toMatchObject({ open: 60, peakOpen: 120 });
      // one part passes through as it is: its peak is exact
      expect(mergeParts([at(10, 70)]).fleet.peakOpen).toBe(70);
      // a lost part holds no users, and what it reached stays in the fleet's peak, as its totals do
      const lost = frozen(at(10, 70));
      expect(lost.fleet).toMatchObject({ open: 0, peakOpen: 70 });
      expect(mergeParts([lost, at(50, 50)]).fleet).toMatchObject({ open: 50, peakOpen: 120 });
    },
  );

  it("merges a recovery's 95% time from the opens of every part, exactly", () => {
    // 100 users, 60 + 40; 20 dropped (12 + 8); opens after the action at known times
    const opensA = Array.from({ length: 12 }, (_, i) => 10 + i * 10); // 10..120
    const opensB = Array.from({ length: 8 }, (_, i) => 15 + i * 30); // 15..225
    const base = { action: 'kill 20% reset', atMs: 5, failures: 0 };
    const merged = mergeRecoveries([
      [
        {
          ...base,
          target: 60,
          dropped: 12,
          p95Ms: 110,
          fullMs: 120,
          peakHandshakesPerSec: 12,
          attempts: 12,
          detail: { openAtAction: 48, opens: histogramOf(opensA).encode(), attemptsPerSecond: [12] },
        },
      ],
      [
        {
          ...base,
          target: 40,
          dropped: 8,
          p95Ms: 195,
          fullMs: 225,
          peakHandshakesPerSec: 8,
          attempts: 8,
          detail: { openAtAction: 32, opens: histogramOf(opensB).encode(), attemptsPerSecond: [8] },
        },
      ],
    ]);
    // 95 of 100 open: 80 were open, so the 15th open after the action, in time order
    const fifteenth = [...opensA, ...opensB].sort((a, b) => a - b)[14]!;
    expect(merged[0]).toMatchObject({ target: 100, dropped: 20, fullMs: 225, attempts: 20, peakHandshakesPerSec: 20 });
    expect(merged[0]!.p95Ms).toBeCloseTo(fifteenth, 1);
    // neither part's own 95% time is it
    expect([110, 195]).not.toContain(merged[0]!.p95Ms);
  });
});
