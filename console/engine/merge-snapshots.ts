/**
 * Merges the snapshots of several shards into one. Pure. Counts add up; percentiles come
 * from histograms merged by counts, never from averaged percentiles. Per-broadcast and
 * recovery records are joined by key: receivers and drops add up, times take the slowest
 * shard (a recovery is complete when the last shard's is; a broadcast's p99 is at most the
 * largest shard p99, so the merged figure is an upper bound).
 */
import type { BroadcastRecord } from './broadcast-tracker.ts';
import type { GeneratorHealth } from './generator-health.ts';
import { LatencyHistogram, type LatencySummary } from './histogram.ts';
import { LATENCY_NAMES, type LatencyName, type Rates, type Totals } from './metrics.ts';
import { OUTAGE, type RecoveryRecord } from './recovery.ts';
import type { FleetView, Snapshot } from './snapshot.ts';

/** What the coordinator itself knows. */
export type CoordinatorPart = Pick<Snapshot, 'seq' | 'atMs' | 'elapsedMs' | 'target' | 'server' | 'serverError' | 'events' | 'faults' | 'marks' | 'isStopped' | 'saturatedIntervals' | 'intervals'>;

function sumRecords<T extends object>(parts: T[]): T {
  const out = {} as Record<string, number>;
  for (const part of parts) for (const [key, value] of Object.entries(part)) out[key] = (out[key] ?? 0) + (value as number);
  return out as T;
}

function mergeLatency(shards: Snapshot[], which: 'total' | 'interval'): Record<LatencyName, LatencySummary> {
  const out = {} as Record<LatencyName, LatencySummary>;
  for (const name of LATENCY_NAMES) {
    const merged = new LatencyHistogram();
    for (const shard of shards) {
      const encoded = shard.histograms?.[which][name];
      if (encoded) merged.add(LatencyHistogram.decode(encoded));
    }
    out[name] = merged.summary();
  }
  return out;
}

function mergeFleet(shards: Snapshot[]): FleetView {
  const f = shards.map((s) => s.fleet);
  const counts = sumRecords(f.map(({ target, open, connecting, waiting, pending, closing, closed, slowed, ratePerSec, maxInFlight, probePerSec }) =>
    ({ target, open, connecting, waiting, pending, closing, closed, slowed, ratePerSec, maxInFlight, probePerSec })));
  return { ...counts, policy: f[0]?.policy ?? 'off', bySource: sumRecords(f.map((x) => x.bySource)) };
}

function mergeHealth(shards: Snapshot[], open: number): GeneratorHealth {
  const h = shards.map((s) => s.health);
  const max = (pick: (x: GeneratorHealth) => number): number => Math.max(0, ...h.map(pick));
  const sum = (pick: (x: GeneratorHealth) => number): number => h.reduce((total, x) => total + pick(x), 0);
  return {
    loopDelayP50Ms: max((x) => x.loopDelayP50Ms), loopDelayP99Ms: max((x) => x.loopDelayP99Ms), loopDelayMaxMs: max((x) => x.loopDelayMaxMs),
    utilization: max((x) => x.utilization), cpuPercent: sum((x) => x.cpuPercent), rssBytes: sum((x) => x.rssBytes),
    heapUsedBytes: sum((x) => x.heapUsedBytes),
    bytesPerOpenVu: open > 0 ? shards.reduce((total, s) => total + s.health.bytesPerOpenVu * s.fleet.open, 0) / open : 0,
    // a shard's first snapshot covers its start-up, which is not measured
    isSaturated: shards.some((s) => s.intervals > 0 && s.health.isSaturated),
  };
}

// A merged broadcast is settled once every shard has settled it (the coordinator tells
// every shard of each broadcast it triggers, so each one holds a record of it).
function mergeBroadcasts(shards: Snapshot[]): BroadcastRecord[] {
  const byKey = new Map<string, BroadcastRecord>();
  const shardsWith = new Map<string, number>();
  for (const record of shards.flatMap((s) => s.broadcasts)) {
    const key = `${record.topic}\u0000${record.seq}`;
    shardsWith.set(key, (shardsWith.get(key) ?? 0) + 1);
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { ...record });
      continue;
    }
    seen.receivers += record.receivers;
    seen.openAtSend += record.openAtSend;
    seen.firstMs = Math.min(seen.firstMs, record.firstMs);
    seen.lastMs = Math.max(seen.lastMs, record.lastMs);
    seen.p50Ms = Math.max(seen.p50Ms, record.p50Ms);
    seen.p99Ms = Math.max(seen.p99Ms, record.p99Ms);
    seen.isSettled &&= record.isSettled;
  }
  for (const [key, r] of byKey) {
    r.reach = r.openAtSend > 0 ? Math.min(1, r.receivers / r.openAtSend) : r.receivers > 0 ? 1 : 0;
    if (shardsWith.get(key)! < shards.length) r.isSettled = false;
  }
  return [...byKey.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.seq - b.seq);
}

function slowest(values: Array<number | null>): number | null {
  return values.some((v) => v === null) ? null : Math.max(...(values as number[]));
}

/** Records of one action on different shards are this close in time (a command reaches all at once; an outage is seen within a moment). */
const SAME_ACTION_MS = 2000;

/**
 * Joins the shards' records of the same action: same label, started within 2 s of each
 * other. A shard without a record of an outage had no mass drop of its own: it adds its
 * target and nothing else. Every shard gets every chaos command, so a chaos record that a
 * shard does not show yet is not recovered yet.
 */
export function mergeRecoveries(perShard: RecoveryRecord[][], targets: number[] = []): RecoveryRecord[] {
  const groups: Array<Array<RecoveryRecord | undefined>> = [];
  perShard.forEach((records, shard) => {
    for (const record of records) {
      const group = groups.find((g) => !g[shard] && g.some((r) => r && r.action === record.action && Math.abs(r.atMs - record.atMs) <= SAME_ACTION_MS));
      if (group) group[shard] = record;
      else groups.push(Object.assign(new Array<RecoveryRecord | undefined>(perShard.length).fill(undefined), { [shard]: record }));
    }
  });
  return groups.map((group) => {
    const parts = group.filter((r): r is RecoveryRecord => r !== undefined);
    const missingTarget = group.reduce((n, r, shard) => n + (r ? 0 : targets[shard] ?? 0), 0);
    const isPending = parts.length < group.length && parts[0]!.action !== OUTAGE.action;
    return {
      action: parts[0]!.action, atMs: Math.min(...parts.map((p) => p.atMs)),
      target: parts.reduce((n, p) => n + p.target, 0) + missingTarget, dropped: parts.reduce((n, p) => n + p.dropped, 0),
      p95Ms: isPending ? null : slowest(parts.map((p) => p.p95Ms)), fullMs: isPending ? null : slowest(parts.map((p) => p.fullMs)),
      peakHandshakesPerSec: parts.reduce((n, p) => n + p.peakHandshakesPerSec, 0),
      attempts: parts.reduce((n, p) => n + p.attempts, 0), failures: parts.reduce((n, p) => n + p.failures, 0),
    };
  }).sort((a, b) => a.atMs - b.atMs);
}

/** One snapshot from the latest snapshot of every shard. */
export function mergeSnapshots(shards: Snapshot[], coordinator: CoordinatorPart): Snapshot {
  const fleet = mergeFleet(shards);
  const broadcasts = mergeBroadcasts(shards);
  const settled = broadcasts.filter((b) => b.isSettled);
  const recoveries = shards.length > 0 ? mergeRecoveries(shards.map((s) => s.recoveries), shards.map((s) => s.fleet.target)) : [];
  return {
    ...coordinator,
    fleet,
    rates: sumRecords<Rates>(shards.map((s) => s.rates)),
    totals: sumRecords<Totals>(shards.map((s) => s.totals)),
    latency: mergeLatency(shards, 'total'),
    interval: mergeLatency(shards, 'interval'),
    broadcasts: settled.slice(-20),
    minReach: settled.reduce((min, b) => Math.min(min, b.reach), 1),
    // shards keep their last records only; a broadcast counts once every shard has settled it
    broadcastsSettled: shards.length > 0 ? Math.min(...shards.map((s) => s.broadcastsSettled)) : 0,
    recovery: recoveries[recoveries.length - 1] ?? null,
    recoveries,
    errors: sumRecords<Record<string, number>>(shards.map((s) => s.errors)),
    health: mergeHealth(shards, fleet.open),
  };
}
