/**
 * What both sides of the throughput bench do and how it is measured, so the floor and
 * sockstorm do the same work: open COUNT users (500 handshakes in flight), settle 1 s, send the
 * same small JSON message as fast as each sustains, skip 1 s of warm-up, then count messages
 * sent and received and the process's own CPU time over SECONDS. A side reads its counters
 * once a second (sockstorm at its snapshots, which fold them), and the window runs from the
 * first reading after the warm-up to the one SECONDS later.
 *
 *   node BUNDLE/throughput-<side>.mjs URL COUNT SECONDS   prints one JSON line of figures
 */
import type { Figures } from './bench-util.ts';

/** The message both sides send: sockstorm's `messages` template, and the floor's frame with `n` filled in. */
export const MESSAGE_TEMPLATE = '{"t":"msg","n":{{n}}}';

/** The most sends one turn of the floor's loop makes: sockstorm's MAX_SENDS_PER_TURN. */
export const FLOOR_BATCH = 500;

/** Bytes a floor user may hold unsent before it is skipped: sockstorm's default send budget. */
export const FLOOR_SEND_BUFFER = 1 << 20;

/** Warm-up before the window, ms; the settle after the users are open, ms. */
export const WARMUP_MS = 1000;
export const SETTLE_MS = 1000;

/** One reading of a side's counters. */
export interface RateSample {
  atMs: number;
  /** This process's CPU time so far (user + system), µs. */
  cpuUs: number;
  sent: number;
  received: number;
}

/** A reading now. */
export function rateSample(sent: number, received: number): RateSample {
  const cpu = process.cpuUsage();
  return { atMs: performance.now(), cpuUs: cpu.user + cpu.system, sent, received };
}

/** The figures of the window that starts at the first reading from `fromMs` on and lasts `seconds`. */
export function ratesOver(samples: RateSample[], fromMs: number, seconds: number): Figures {
  const first = samples.find((x) => x.atMs >= fromMs);
  const last = samples.filter((x) => first && x.atMs <= first.atMs + seconds * 1000 + 200).at(-1);
  if (!first || !last || last === first) throw new Error('no window of readings to measure');
  const wallSeconds = (last.atMs - first.atMs) / 1000;
  const cpuSeconds = (last.cpuUs - first.cpuUs) / 1e6;
  const sent = last.sent - first.sent;
  const received = last.received - first.received;
  return {
    sentPerSec: sent / wallSeconds,
    receivedPerSec: received / wallSeconds,
    cpuPercent: (cpuSeconds / wallSeconds) * 100,
    sentPerCore: sent / cpuSeconds,
    receivedPerCore: received / cpuSeconds,
    bothPerCore: (sent + received) / cpuSeconds,
  };
}

/** The worker's arguments. */
export function throughputArgs(): { url: string; count: number; seconds: number } {
  const [url, count, seconds] = process.argv.slice(2) as [string, string, string];
  return { url, count: Number(count), seconds: Number(seconds) };
}

/** Waits `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
