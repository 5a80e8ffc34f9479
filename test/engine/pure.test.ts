import { describe, expect, it } from 'vitest';
import { BroadcastTracker } from '../../console/engine/measure/broadcast-tracker.ts';
import { adviceFor, classifyClose, classifyError } from '../../console/engine/measure/classify-error.ts';
import { LatencyHistogram } from '../../console/engine/measure/histogram.ts';
import { RateScheduler } from '../../console/engine/parts/rate-scheduler.ts';
import { RecoveryTracker } from '../../console/engine/measure/recovery.ts';
import { reconnectDelayMs } from '../../console/engine/users/reconnect-policy.ts';
import { chooseVictims, shareOf } from '../../console/engine/users/victims.ts';
import { decodeBuffer, decodeFrame } from '../../console/engine/users/frame-decoder.ts';
import { encodeBroadcast } from '../../target-server/contract/wire.ts';
import { checkAgentFlags } from '../../console/commands/agent.ts';

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

describe('chooseVictims', () => {
  const users = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  it('takes the oldest or the newest first', () => {
    expect(chooseVictims(users, 3, 'oldest')).toEqual([1, 2, 3]);
    expect(chooseVictims(users, 3, 'newest')).toEqual([10, 9, 8]);
  });
  it('picks distinct random victims with injected randomness', () => {
    const picked = chooseVictims(users, 4, 'random', () => 0.7);
    expect(new Set(picked).size).toBe(4);
    expect(picked.every((u) => users.includes(u))).toBe(true);
  });
  it('rounds a percentage of open users to whole users and never exceeds the candidates', () => {
    expect(shareOf(100, 20)).toBe(20);
    expect(shareOf(7, 20)).toBe(1);
    expect(chooseVictims(users, 50, 'oldest')).toHaveLength(10);
  });
});

describe('classifyError', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, 'tcp.refused'],
    [{ code: 'ECONNRESET' }, 'tcp.reset'],
    [{ code: 'ENOTFOUND' }, 'dns'],
    [{ code: 'EMFILE' }, 'local.emfile'],
    [{ code: 'EADDRNOTAVAIL' }, 'local.ports'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'tls.depth_zero_self_signed_cert'],
    [{ code: 'WS_ERR_INVALID_UTF8' }, 'protocol.WS_ERR_INVALID_UTF8'],
    [{ message: 'Unexpected server response: 503' }, 'handshake.http_503'],
    [{ message: 'Opening handshake has timed out' }, 'handshake.timeout'],
  ])('classifies %o as %s', (error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });
  it('classifies closes by code and points EMFILE to sockstorm tune', () => {
    expect(classifyClose(1006)).toBe('close.1006');
    expect(adviceFor('local.emfile')).toContain('sockstorm tune check');
  });
});

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
    expect(tracker.last).toMatchObject({ p95Ms: 200, fullMs: 1500, peakHandshakesPerSec: 15, attempts: 20, failures: 1 });
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
    expect(tracker.settled[0]).toMatchObject({ seq: 1, openAtSend: 4, receivers: 4, reached: 4, reach: 1, firstMs: 1, lastMs: 5, p50Ms: 2, p99Ms: 5 });
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

describe('decodeFrame', () => {
  it('reads the bundled protocol and a real target by JSON paths', () => {
    expect(decodeFrame('{"t":"rtt","id":1,"at":5.5}', null)).toEqual({ kind: 'rtt', atMs: 5.5 });
    expect(decodeFrame('{"t":"bcast","topic":"a","seq":2,"ts":9,"data":1}', null)).toEqual({ kind: 'fanout', topic: 'a', seq: 2, tsMs: 9 });
    expect(decodeFrame('{"m":{"at":"12"},"n":4,"ch":"x"}', { tsPath: 'm.at', seqPath: 'n', topicPath: 'ch' })).toEqual({
      kind: 'fanout',
      topic: 'x',
      seq: 4,
      tsMs: 12,
    });
    expect(decodeFrame('not json', null)).toEqual({ kind: 'other' });
  });
  it('reads a bundled broadcast from its head alone, exactly as JSON.parse would, and falls back when unsure', () => {
    const frame = encodeBroadcast('news', 42, 1795816000123.456, JSON.stringify('x'.repeat(5000)));
    expect(decodeBuffer(Buffer.from(frame), null)).toEqual({ kind: 'fanout', topic: 'news', seq: 42, tsMs: 1795816000123.456 });
    expect(decodeBuffer(Buffer.from(frame), null)).toEqual(decodeFrame(frame, null));
    const escaped = encodeBroadcast('a"b', 7, 5, '1');
    expect(decodeBuffer(Buffer.from(escaped), null)).toEqual({ kind: 'fanout', topic: 'a"b', seq: 7, tsMs: 5 });
    expect(decodeBuffer(Buffer.from('{"t":"bcast","topic":"x","seq":"no","ts":1,"data":1}'), null)).toEqual({ kind: 'other' });
    expect(decodeBuffer(Buffer.from('{"t":"rtt","id":1,"at":3}'), null)).toEqual({ kind: 'rtt', atMs: 3 });
  });
});

describe("an agent's flags", () => {
  const token = 'a-token-of-16-chars';
  it('refuses plain ws:// to another host unless --plaintext, and --insecure is not --plaintext', () => {
    expect(checkAgentFlags({ coordinator: 'ws://coordinator:7400', token })).toContain('use wss://');
    expect(checkAgentFlags({ coordinator: 'ws://coordinator:7400', token })).toContain('--plaintext');
    expect(checkAgentFlags({ coordinator: 'ws://coordinator:7400', token, insecure: true })).toContain('--plaintext');
    expect(checkAgentFlags({ coordinator: 'ws://coordinator:7400', token, plaintext: true })).toBeNull();
    expect(checkAgentFlags({ coordinator: 'ws://127.0.0.1:7400', token })).toBeNull();
    expect(checkAgentFlags({ coordinator: 'wss://coordinator:7400', token })).toBeNull();
    expect(checkAgentFlags({ coordinator: 'wss://coordinator:7400', token: 'short' })).toContain('at least 16 characters');
  });
});
