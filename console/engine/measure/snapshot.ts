/**
 * The snapshot: everything the engine knows, as plain immutable data, once a second. The
 * console renders it, `run` writes it to NDJSON and folds it into the summary, and a shard
 * could send it across a process boundary unchanged.
 */
import type { ServerStats } from '../../../target-server/contract/wire.ts';
import type { BroadcastRecord } from './broadcast-tracker.ts';
import type { GeneratorHealth } from './generator-health.ts';
import type { LatencySummary } from './histogram.ts';
import type { LatencyName, Rates, Totals } from './metrics.ts';
import type { RecoveryRecord } from './recovery.ts';

/** One line of the engine's event log. */
export interface EngineEvent {
  id: number;
  atMs: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

/**
 * Something that went wrong with the run itself rather than with one
 * connection (the bundled server crashed, say); it fails the run.
 */
export interface Fault {
  atMs: number;
  /** Stable: `server.crashed`, `shard.lost` (any shard), `agent.lost` (an agent lost before it counted anything). */
  code: string;
  message: string;
}

/** The fleet by state, with its target and settings. */
export interface FleetView {
  target: number;
  open: number;
  /**
   * The most users open at once so far, kept at each open (not sampled: users opened and gone
   * within a second count). Over several parts, the sum of theirs: an upper bound.
   */
  peakOpen: number;
  connecting: number;
  waiting: number;
  pending: number;
  closing: number;
  closed: number;
  slowed: number;
  ratePerSec: number;
  maxInFlight: number;
  policy: string;
  probePerSec: number;
  /** Open users per local address, when the fleet spreads over several. */
  bySource: Record<string, number>;
  /** Bytes the users hold across frames now (partial packets, attachments), under `--held-budget`. */
  heldBytes: number;
}

/** One second of a run. */
export interface Snapshot {
  seq: number;
  /** Epoch ms. */
  atMs: number;
  elapsedMs: number;
  /** `url` is the first of `endpoints` target URLs (several bundled servers, or `targets`). */
  target: { url: string; isBundled: boolean; serverEngine: string | null; endpoints: number };
  fleet: FleetView;
  rates: Rates;
  totals: Totals;
  /** Whole-run latency percentiles, ms. */
  latency: Record<LatencyName, LatencySummary>;
  /** This interval's latency percentiles, ms. */
  interval: Record<LatencyName, LatencySummary>;
  /** The last settled broadcasts, oldest first. */
  broadcasts: BroadcastRecord[];
  /** Lowest reach over all settled broadcasts (1 when none). */
  minReach: number;
  broadcastsSettled: number;
  recovery: RecoveryRecord | null;
  recoveries: RecoveryRecord[];
  errors: Record<string, number>;
  /** Passes and fails of each `check`, whole run. */
  checks: Record<string, { passes: number; fails: number }>;
  health: GeneratorHealth;
  saturatedIntervals: number;
  intervals: number;
  server: ServerStats | null;
  serverError: string | null;
  events: EngineEvent[];
  faults: Fault[];
  marks: Array<{ label: string; atMs: number }>;
  isStopped: boolean;
  /** The fleet's parts, when it runs over several (shards, agents). */
  parts?: PartView[];
  /** Parts lost mid-run (an agent that disconnected, a shard that died). */
  partsLost?: number;
}

/** One part of a fleet that runs over several (or over agents): what the console's agents panel and the outputs show. */
export interface PartView {
  name: string;
  /** Where it runs: an agent's address and port, a shard's `pid N`. */
  address?: string;
  /** Its share of the fleet's users, 0..1 (by the parts' weights, at the start). Every shell sets it, and the next two. */
  share?: number;
  open: number;
  target: number;
  /** Its connects so far (a lost part: until it was lost). */
  connects?: number;
  isSaturated: boolean;
  loopDelayP99Ms: number;
  /** CPU of its process, percent of one core. */
  cpuPercent?: number;
  rssBytes: number;
  isLost: boolean;
  /** Epoch ms it was lost, and why. */
  lostAtMs?: number;
  lostReason?: string;
}

/** Every error counted, over all classes: the figure the summary, progress, console and dashboard call errors. */
export function errorTotal(errors: Snapshot['errors']): number {
  let total = 0;
  for (const n of Object.values(errors)) total += n;
  return total;
}
