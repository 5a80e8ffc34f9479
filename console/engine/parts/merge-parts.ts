/**
 * Merges the samples of several fleet parts into the fleet half of one snapshot, exactly.
 * Pure. Counts add up; every percentile (connect, RTT, fan-out, reconnect, each broadcast's,
 * each recovery's 95% time) comes from the parts' histograms added by counts, so the merge
 * equals what one fleet holding every sample would report. One part passes through as it is.
 * Broadcasts settle in parts at different moments, so they are joined across samples by
 * {@link SettledBroadcasts}.
 */
import { reachOf, type BroadcastRecord } from '../measure/broadcast-tracker.ts';
import type { PartBroadcast, PartRecovery, PartSample } from './fleet-part.ts';
import type { GeneratorHealth } from '../measure/generator-health.ts';
import { LatencyHistogram, type LatencySummary } from '../measure/histogram.ts';
import { joinRecords, maxOf, sumOf } from '../measure/merge.ts';
import {
  LATENCY_NAMES,
  type EncodedHistograms,
  type LatencyName,
  type Rates,
  type Totals,
} from '../measure/metrics.ts';
import { OUTAGE, type RecoveryRecord } from '../measure/recovery.ts';
import { MAX_PENDING_BROADCASTS } from '../measure/topic-lru.ts';
import type { FleetView, Snapshot } from '../measure/snapshot.ts';

/** The fleet's half of a snapshot. */
export type FleetHalf = Pick<
  Snapshot,
  'fleet' | 'rates' | 'totals' | 'latency' | 'interval' | 'recovery' | 'recoveries' | 'errors' | 'checks' | 'health'
>;

/** The parts' histograms of one kind, added by counts. */
export function mergeHistograms(
  parts: PartSample[],
  which: 'total' | 'interval',
): Record<LatencyName, LatencyHistogram> {
  const out = {} as Record<LatencyName, LatencyHistogram>;
  for (const name of LATENCY_NAMES) {
    const merged = new LatencyHistogram();
    for (const part of parts) {
      const encoded = part.histograms?.[which][name];
      if (encoded) merged.add(LatencyHistogram.decode(encoded));
    }
    out[name] = merged;
  }
  return out;
}

function summaries(histograms: Record<LatencyName, LatencyHistogram>): Record<LatencyName, LatencySummary> {
  return Object.fromEntries(LATENCY_NAMES.map((name) => [name, histograms[name].summary()])) as Record<
    LatencyName,
    LatencySummary
  >;
}

function mergeFleet(parts: PartSample[]): FleetView {
  const f = parts.map((s) => s.fleet);
  const counts = joinRecords(
    f.map(
      ({
        target,
        open,
        connecting,
        waiting,
        pending,
        closing,
        closed,
        slowed,
        ratePerSec,
        maxInFlight,
        probePerSec,
        heldBytes,
      }) => ({
        target,
        open,
        connecting,
        waiting,
        pending,
        closing,
        closed,
        slowed,
        ratePerSec,
        maxInFlight,
        probePerSec,
        heldBytes,
      }),
    ),
  );
  // each part keeps its own peak, at moments it knows nothing of the others': the sum of the
  // parts' peaks is an upper bound of the fleet's (reached when they peaked together), never below
  // the users open now; one part passes through exact
  const peakOpen = sumOf(f, (x) => x.peakOpen);
  return { ...counts, peakOpen, policy: f[0]?.policy ?? 'off', bySource: joinRecords(f.map((x) => x.bySource)) };
}

function mergeHealth(parts: PartSample[], open: number): GeneratorHealth {
  const h = parts.map((s) => s.health);
  const max = (pick: (x: GeneratorHealth) => number): number => maxOf(h, pick);
  const sum = (pick: (x: GeneratorHealth) => number): number => sumOf(h, pick);
  return {
    loopDelayP50Ms: max((x) => x.loopDelayP50Ms),
    loopDelayP99Ms: max((x) => x.loopDelayP99Ms),
    loopDelayMaxMs: max((x) => x.loopDelayMaxMs),
    utilization: max((x) => x.utilization),
    cpuPercent: sum((x) => x.cpuPercent),
    rssBytes: sum((x) => x.rssBytes),
    heapUsedBytes: sum((x) => x.heapUsedBytes),
    bytesPerOpenVu: open > 0 ? parts.reduce((total, s) => total + s.health.bytesPerOpenVu * s.fleet.open, 0) / open : 0,
    // the fleet is as saturated as its most saturated part: its figures are in the merge
    isSaturated: h.some((x) => x.isSaturated),
  };
}

/** A broadcast being merged: the parts that reported it settled, and its added receipts. */
interface Joining {
  record: BroadcastRecord;
  /**
   * Made at the first receipts a part reports: a histogram is about
   * 90 KiB and 0.3 ms to make, and one part's records need none.
   */
  histogram: LatencyHistogram | null;
  reported: Set<number>;
  hasHistograms: boolean;
}

/**
 * Settled broadcasts over parts. Each part reports a record once, when it settles there; the
 * merged record is final once every live part has reported it: receivers add up, and its
 * percentiles come from the added receipt histograms. Keeps the lowest reach over all. A record
 * some live part never reports (none of its users got it) waits until more than
 * {@link MAX_PENDING_BROADCASTS} do, then is final with the parts that did.
 */
export class SettledBroadcasts {
  /** The last final records, oldest first. */
  readonly last: BroadcastRecord[] = [];
  count = 0;
  minReach = 1;
  private readonly joining = new Map<string, Joining>();

  /** Takes one part's newly settled records; `live` is the set of parts still in the run. */
  add(part: number, records: PartBroadcast[], live: ReadonlySet<number>): void {
    for (const record of records) {
      const key = `${record.topic}\u0000${record.seq}`;
      const { histogram: encoded, ...plain } = record;
      let j = this.joining.get(key);
      if (!j) {
        j = { record: { ...plain }, histogram: null, reported: new Set(), hasHistograms: true };
        this.joining.set(key, j);
      } else {
        const r = j.record;
        r.receivers += plain.receivers;
        r.reached += plain.reached;
        r.cut += plain.cut;
        r.openAtSend += plain.openAtSend;
        r.firstMs = Math.min(r.firstMs, plain.firstMs);
        r.lastMs = Math.max(r.lastMs, plain.lastMs);
        r.sentAtMs = Math.min(r.sentAtMs, plain.sentAtMs);
      }
      j.reported.add(part);
      if (encoded) {
        j.histogram ??= new LatencyHistogram();
        j.histogram.add(LatencyHistogram.decode(encoded));
      } else j.hasHistograms = false;
    }
    this.finish(live);
  }

  /** Finalises what every live part has reported (also after a part was lost). */
  finish(live: ReadonlySet<number>): void {
    for (const [key, j] of this.joining) if (![...live].some((part) => !j.reported.has(part))) this.final(key, j);
    // a target publishing on ever new topics to some parts' users only must not grow this
    for (const [key, j] of this.joining) {
      if (this.joining.size <= MAX_PENDING_BROADCASTS) break;
      this.final(key, j);
    }
  }

  private final(key: string, j: Joining): void {
    const r = j.record;
    // one part's record is exact as it is; several parts' percentiles come from their added receipts
    if (j.reported.size > 1 && j.hasHistograms && j.histogram && j.histogram.count > 0) {
      const s = j.histogram.summary();
      Object.assign(r, { p50Ms: s.p50, p99Ms: s.p99, firstMs: j.histogram.valueAtRank(1)!, lastMs: s.max });
    }
    r.reach = reachOf(r);
    r.isSettled = true;
    this.joining.delete(key);
    this.count++;
    this.minReach = Math.min(this.minReach, r.reach);
    this.last.push(r);
    if (this.last.length > 20) this.last.shift();
  }
}

/**
 * Records of one action in different parts are this close in time (a
 * command reaches all at once; an outage is seen within a moment).
 */
const SAME_ACTION_MS = 2000;

function slowest(values: Array<number | null>): number | null {
  return values.some((v) => v === null) ? null : Math.max(...(values as number[]));
}

/**
 * The exact 95% time of a recovery over parts: when the opens
 * after the action, added up, brought 95% of the target back.
 */
function mergedP95(parts: PartRecovery[], target: number, openElsewhere: number): number | null {
  if (parts.some((p) => !p.detail)) return slowest(parts.map((p) => p.p95Ms));
  const opens = new LatencyHistogram();
  for (const p of parts) opens.add(LatencyHistogram.decode(p.detail!.opens));
  const openAtAction = parts.reduce((n, p) => n + p.detail!.openAtAction, openElsewhere);
  const needed = Math.ceil(target * 0.95) - openAtAction;
  return needed <= 0 ? 0 : opens.valueAtRank(needed);
}

function mergedPeak(parts: PartRecovery[]): number {
  if (parts.some((p) => !p.detail)) return parts.reduce((n, p) => n + p.peakHandshakesPerSec, 0);
  const perSecond: number[] = [];
  for (const p of parts)
    p.detail!.attemptsPerSecond.forEach((n, s) => {
      perSecond[s] = (perSecond[s] ?? 0) + n;
    });
  return Math.max(0, ...perSecond.map((n) => n ?? 0));
}

/**
 * Joins the parts' records of the same action (same label, started within 2 s). A part
 * without a record of an outage had no mass drop of its own: it adds its target and its open
 * users. Every part gets every chaos command, so a chaos record a part does not show yet is
 * not recovered yet.
 */
export function mergeRecoveries(
  perPart: PartRecovery[][],
  fleets: Array<Pick<FleetView, 'target' | 'open'>> = [],
): RecoveryRecord[] {
  const groups: Array<Array<PartRecovery | undefined>> = [];
  perPart.forEach((records, part) => {
    for (const record of records) {
      const group = groups.find(
        (g) =>
          !g[part] &&
          g.some((r) => r && r.action === record.action && Math.abs(r.atMs - record.atMs) <= SAME_ACTION_MS),
      );
      if (group) group[part] = record;
      else
        groups.push(
          Object.assign(new Array<PartRecovery | undefined>(perPart.length).fill(undefined), { [part]: record }),
        );
    }
  });
  return groups
    .map((group) => {
      const parts = group.filter((r): r is PartRecovery => r !== undefined);
      const missing = group.flatMap((r, part) => (r ? [] : [fleets[part] ?? { target: 0, open: 0 }]));
      // a part with no users (a lost one, say) has nothing to recover
      const isPending = missing.some((f) => f.target > 0) && parts[0]!.action !== OUTAGE.action;
      const target = parts.reduce((n, p) => n + p.target, 0) + missing.reduce((n, f) => n + f.target, 0);
      const fullMs = isPending ? null : slowest(parts.map((p) => p.fullMs));
      const p95 = isPending
        ? null
        : mergedP95(
            parts,
            target,
            missing.reduce((n, f) => n + f.open, 0),
          );
      return {
        action: parts[0]!.action,
        atMs: Math.min(...parts.map((p) => p.atMs)),
        target,
        dropped: parts.reduce((n, p) => n + p.dropped, 0),
        // a 95% time is never after the 100% time (the histogram's precision could put it there)
        p95Ms: p95 === null ? null : fullMs === null ? p95 : Math.min(p95, fullMs),
        fullMs,
        peakHandshakesPerSec: mergedPeak(parts),
        attempts: parts.reduce((n, p) => n + p.attempts, 0),
        failures: parts.reduce((n, p) => n + p.failures, 0),
      };
    })
    .sort((a, b) => a.atMs - b.atMs);
}

function mergeChecks(parts: PartSample[]): Record<string, { passes: number; fails: number }> {
  const out: Record<string, { passes: number; fails: number }> = {};
  for (const part of parts) {
    for (const [name, c] of Object.entries(part.checks)) {
      out[name] ??= { passes: 0, fails: 0 };
      const seen = out[name];
      seen.passes += c.passes;
      seen.fails += c.fails;
    }
  }
  return out;
}

/** The fleet half of a snapshot from the latest sample of every part. */
export function mergeParts(parts: PartSample[]): FleetHalf & { histograms: EncodedHistograms['total'] | null } {
  if (parts.length === 1) {
    const p = parts[0]!;
    const recoveries = p.recoveries.map(({ detail: _, ...r }) => r);
    return {
      fleet: p.fleet,
      rates: p.rates,
      totals: p.totals,
      latency: p.latency,
      interval: p.interval,
      recovery: recoveries[recoveries.length - 1] ?? null,
      recoveries,
      errors: p.errors,
      checks: p.checks,
      health: p.health,
      histograms: p.histograms?.total ?? null,
    };
  }
  const fleet = mergeFleet(parts);
  const recoveries = mergeRecoveries(
    parts.map((s) => s.recoveries),
    parts.map((s) => s.fleet),
  );
  const total = mergeHistograms(parts, 'total');
  return {
    fleet,
    rates: joinRecords<Rates>(parts.map((s) => s.rates)),
    totals: joinRecords<Totals>(parts.map((s) => s.totals)),
    latency: summaries(total),
    interval: summaries(mergeHistograms(parts, 'interval')),
    recovery: recoveries[recoveries.length - 1] ?? null,
    recoveries,
    errors: joinRecords<Record<string, number>>(parts.map((s) => s.errors)),
    checks: mergeChecks(parts),
    health: mergeHealth(parts, fleet.open),
    histograms: Object.fromEntries(
      LATENCY_NAMES.map((name) => [name, total[name].encode()]),
    ) as EncodedHistograms['total'],
  };
}
