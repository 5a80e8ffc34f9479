// Known answers for the event-loop delay figures the saturation verdict and the tuning demo
// rest on: the delay is how late the loop runs, not the sampler's own interval. Behaviour with
// generous bounds, not timings of the machine: on a loaded 2-core machine another process can
// take the core for a moment, so each known answer is looked for over up to five seconds and
// must hold in one of them. A monitor that reports the sampler's interval never passes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../../console/engine/measure/generator-health.ts';
import { startCanaryServer, type CanaryServer } from '../../helpers/canary.ts';
import { eventually, TestClient } from '../../helpers/test-client.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client text frame (under 126 bytes), masked with a zero key: what ws would send, in one buffer. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/** Runs `measure` up to five times; resolves with the first result `isAnswer` accepts, or the last one. */
async function inOneOfFive<T>(measure: () => Promise<T>, isAnswer: (value: T) => boolean): Promise<T> {
  let value = await measure();
  for (let attempt = 1; attempt < 5 && !isAnswer(value); attempt++) value = await measure();
  return value;
}

const within = (value: number, expected: number, low: number, high: number): boolean =>
  value >= expected - low && value <= expected + high;

/** How late a 1 ms timer of this process runs, from now until `stop()`: its max and p99, ms. */
function watchLateness(): { stop(): { maxMs: number; p99Ms: number } } {
  let last = performance.now();
  const lateness: number[] = [];
  const timer = setInterval(() => {
    const now = performance.now();
    lateness.push(Math.max(0, now - last - 1));
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      lateness.sort((a, b) => a - b);
      return { maxMs: lateness.at(-1) ?? 0, p99Ms: lateness[Math.floor(lateness.length * 0.99)] ?? 0 };
    },
  };
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // deliberate: a block of known length
  }
}

describe("the generator's loop-delay monitor", () => {
  const monitor = new HealthMonitor();
  beforeAll(() => monitor.start());
  afterAll(() => monitor.stop());

  /** One second of the monitor, beside how late a 1 ms timer of our own ran at most in it. */
  async function second(during?: () => NodeJS.Timeout) {
    monitor.sample(0);
    const watch = watchLateness();
    const timer = during?.();
    await sleep(1000);
    clearInterval(timer);
    const watched = watch.stop();
    return { ...monitor.sample(0), watchedMaxMs: watched.maxMs, watchedP99Ms: watched.p99Ms };
  }

  // idle, the loop is late by well under 2 ms (a monitor that counted its own 2 ms interval
  // would read more); on a loaded machine by what a 1 ms timer of our own sees, not 2 ms more
  it('reports an idle loop as delayed by well under 2 ms, or by no more than a timer of its own saw', async () => {
    const health = await inOneOfFive(
      () => second(),
      (h) => h.loopDelayP99Ms < 2 || h.loopDelayP99Ms <= h.watchedP99Ms + 1,
    );
    expect(health.loopDelayP99Ms < 2 || health.loopDelayP99Ms <= health.watchedP99Ms + 1, JSON.stringify(health)).toBe(
      true,
    );
    expect(health.isSaturated).toBe(false);
  });

  // the block is 20 ms; a loaded machine can keep the loop waiting for a core after it, which
  // is delay too, so the monitor is held to what a timer of our own saw in the same second
  it('reports a loop blocked 20 ms every 100 ms with a max of what a timer of its own saw (± 3 ms) ' +
    'and a p99 of at least 17 ms', async () => {
    const health = await inOneOfFive(
      () => second(() => setInterval(() => busyWait(20), 100)),
      (h) =>
        within(h.loopDelayMaxMs, h.watchedMaxMs, 3, 3) &&
        h.loopDelayP99Ms >= 17 &&
        h.loopDelayP99Ms <= h.watchedMaxMs + 3,
    );
    expect(health.watchedMaxMs).toBeGreaterThanOrEqual(19);
    expect(health.loopDelayMaxMs).toBeGreaterThanOrEqual(health.watchedMaxMs - 3);
    expect(health.loopDelayMaxMs).toBeLessThanOrEqual(health.watchedMaxMs + 3);
    expect(health.loopDelayP99Ms).toBeGreaterThanOrEqual(17);
    expect(health.loopDelayP99Ms).toBeLessThanOrEqual(health.watchedMaxMs + 3);
  }, 15_000);

  it(
    'reports an interval in which no timer ran at all (sampled from inside a 300 ms block) as 300 ms ' +
      'late and saturated',
    () => {
      monitor.sample(0);
      busyWait(300);
      const health = monitor.sample(0);
      expect(health.loopDelayP99Ms).toBeGreaterThanOrEqual(290);
      expect(health.loopDelayMaxMs).toBeGreaterThanOrEqual(290);
      expect(health.isSaturated).toBe(true);
    },
  );
});

describe.each(['uws', 'ws'] as const)("the server's loop-delay monitor, through /stats (%s)", (engine) => {
  let s: CanaryServer;
  beforeAll(async () => {
    s = await startCanaryServer(engine);
  });
  afterAll(() => s.stop());

  /**
   * The server's last whole second, beside how late a 1 ms timer
   * of this process ran (p99) meanwhile: how busy the host was.
   */
  async function lastSecond(): Promise<{ p99: number; max: number; hostP99: number }> {
    const before = (await s.stats()).uptimeMs;
    const watch = watchLateness();
    // the figures are the last whole second's: wait for a fresh one
    await sleep(2100 - (before % 1000));
    const { loop } = await s.stats();
    return { p99: loop.delayP99Ms, max: loop.delayMaxMs, hostP99: watch.stop().p99Ms };
  }

  // idle, well under 2 ms (a monitor counting its own sampling interval would read more); on a
  // host the rest of the suite keeps busy, no more than this process's own timer was late, + 1
  it('reports an idle server as delayed by well under 2 ms, or by no more than the host delays a timer', async () => {
    const figures = await inOneOfFive(lastSecond, (f) => f.p99 < 2 || f.p99 <= f.hostP99 + 1);
    expect(figures.p99 < 2 || figures.p99 <= figures.hostP99 + 1, JSON.stringify(figures)).toBe(true);
  }, 20_000);

  it('shows the delay rising by about workMs for each message in flight', async () => {
    const client = await TestClient.open(s.server.url);
    expect((await s.call('PUT', '/config', '{"workMs":20}')).status).toBe(200);
    for (const [inFlight, expected] of [
      [1, 20],
      [2, 40],
    ] as const) {
      // the messages go in one TCP write, so the server reads them together however loaded the
      // machine is (sent one by one, an idle server can read and work off each alone)
      const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
      const probe = setInterval(() => {
        socket.write(
          Buffer.concat(Array.from({ length: inFlight }, (_, i) => maskedText(JSON.stringify({ t: 'rtt', id: i })))),
        );
      }, 150);
      await sleep(300);
      const figures = await inOneOfFive(lastSecond, (f) => within(f.max, expected, 3, 5) && f.p99 >= expected - 5);
      clearInterval(probe);
      expect(figures.max, `${inFlight} in flight`).toBeGreaterThanOrEqual(expected - 3);
      expect(figures.max, `${inFlight} in flight`).toBeLessThanOrEqual(expected + 5);
      expect(figures.p99).toBeGreaterThanOrEqual(expected - 5);
    }
    await s.call('PUT', '/config', '{"workMs":0}');
    await eventually(async () => (await s.stats()).queued === 0);
    await client.close();
  }, 40_000);
});
