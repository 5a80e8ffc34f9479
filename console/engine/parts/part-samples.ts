/**
 * A part's sample as the shell keeps it: fit to show, frozen once the part is lost, and empty
 * before there is any. Pure.
 */
import { LatencyHistogram } from '../measure/histogram.ts';
import { zeroRates, zeroTotals } from '../measure/metrics.ts';
import { MAX_CLASS_CHARS, MAX_TOPIC_CHARS, printable } from '../protocols/shown-text.ts';
import type { PartSample } from './fleet-part.ts';

const NO_INTERVAL = { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };

/**
 * A part's sample with the target's words fit to show: topics of settled broadcasts and error
 * classes (some carry what a target chose) printable and bounded. Copies only what changes, and
 * only when something does: the common sample passes through as it is.
 */
export function fitToShow(sample: PartSample): PartSample {
  const isTopicFit = (topic: string): boolean => printable(topic, MAX_TOPIC_CHARS) === topic;
  const isClassFit = (name: string): boolean => printable(name, MAX_CLASS_CHARS) === name;
  const settledFit = sample.settled.every((r) => isTopicFit(r.topic));
  const errorsFit = Object.keys(sample.errors).every(isClassFit);
  if (settledFit && errorsFit) return sample;
  const errors: Record<string, number> = {};
  for (const [name, n] of Object.entries(sample.errors)) {
    const shown = printable(name, MAX_CLASS_CHARS);
    errors[shown] = (errors[shown] ?? 0) + n;
  }
  return {
    ...sample,
    settled: settledFit
      ? sample.settled
      : sample.settled.map((r) => (isTopicFit(r.topic) ? r : { ...r, topic: printable(r.topic, MAX_TOPIC_CHARS) })),
    errors,
  };
}

/** A part's last sample with nothing of the moment: no users, nothing this interval, no load (its peak stays). */
export function frozen(last: PartSample): PartSample {
  const empty = emptySample();
  const none = new LatencyHistogram().encode();
  return {
    ...last,
    // its peak is of the run so far, as its totals are: the fleet's upper bound keeps it
    fleet: { ...empty.fleet, policy: last.fleet.policy, peakOpen: last.fleet.peakOpen },
    interval: empty.interval,
    settled: [],
    events: [],
    health: empty.health,
    rates: empty.rates,
    recoveries: [],
    ...(last.histograms
      ? {
          histograms: {
            total: last.histograms.total,
            interval: { connect: none, rtt: none, fanout: none, reconnect: none },
          },
        }
      : {}),
  };
}

/** A part's sample with nothing in it. */
export function emptySample(): PartSample {
  const interval = { connect: NO_INTERVAL, rtt: NO_INTERVAL, fanout: NO_INTERVAL, reconnect: NO_INTERVAL };
  return {
    fleet: {
      target: 0,
      open: 0,
      peakOpen: 0,
      connecting: 0,
      waiting: 0,
      pending: 0,
      closing: 0,
      closed: 0,
      slowed: 0,
      ratePerSec: 0,
      maxInFlight: 0,
      policy: 'off',
      probePerSec: 0,
      bySource: {},
      heldBytes: 0,
    },
    rates: zeroRates(),
    totals: zeroTotals(),
    latency: interval,
    interval,
    settled: [],
    recoveries: [],
    errors: {},
    checks: {},
    health: {
      loopDelayP50Ms: 0,
      loopDelayP99Ms: 0,
      loopDelayMaxMs: 0,
      utilization: 0,
      cpuPercent: 0,
      rssBytes: 0,
      heapUsedBytes: 0,
      bytesPerOpenVu: 0,
      isSaturated: false,
    },
    events: [],
  };
}
