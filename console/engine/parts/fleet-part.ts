/**
 * A fleet part: one fleet of virtual users somewhere (this process, a shard process, a remote
 * agent) as the engine shell drives it. The shell owns everything that exists once per run
 * and splits each command over its parts; a part applies its share, samples itself when the
 * shell asks, and stops. Messages are plain data, so they cross IPC and WebSockets unchanged.
 */
import type { BroadcastRecord } from '../measure/broadcast-tracker.ts';
import type { EngineCommand, KillMode, ReconnectPolicy, VictimChoice } from '../commands.ts';
import type { GeneratorHealth } from '../measure/generator-health.ts';
import type { EncodedHistogram, LatencySummary } from '../measure/histogram.ts';
import type { EncodedHistograms, LatencyName, Rates, Totals } from '../measure/metrics.ts';
import type { RecoveryRecord } from '../measure/recovery.ts';
import type { EngineEvent, FleetView } from '../measure/snapshot.ts';

/** What `dispatch` answers, and a part's `apply`. */
export interface CommandResult {
  ok: boolean;
  message: string;
  /** How many users a part's kill or slow touched. */
  count?: number;
}

/** Counts that change between snapshots (the engine's, and each part's). */
export interface LiveCounts {
  open: number;
  target: number;
  isRecovered: boolean;
  /** Connections cut by chaos so far (ours and the server's). */
  killed: number;
  /** The reconnect policy in force, as data (the engine's answer; parts leave it out). */
  policy?: ReconnectPolicy;
}

/** What a shell asks of one part: its share of a command, already split. Not a public command. */
export type PartCommand =
  | { type: 'set-target'; count: number }
  | { type: 'ramp'; count: number; overMs: number }
  | { type: 'set-rate'; perSec: number }
  | { type: 'probe'; perSec: number; template?: string; replyPath?: string }
  | { type: 'messages'; perSec: number; template: string }
  /** Exactly `count` of this part's open users. */
  | { type: 'kill'; label: string; mode: Exclude<KillMode, 'server'>; victims: VictimChoice; count: number }
  | { type: 'slow'; percent: number; forMs: number }
  | { type: 'reconnect'; policy: ReconnectPolicy }
  | { type: 'stall'; ms: number }
  /**
   * A broadcast the shell triggered: receipts of these seqs count
   * toward reach and loss (owed to the users ready for the topic now).
   */
  | { type: 'expect-broadcast'; topic: string; firstSeq: number; lastSeq: number; atMs: number }
  /** A real target's broadcast by sending a frame from one of this part's users (`--broadcast-send`). */
  | { type: 'send-broadcast'; count: number; sizeBytes: number; topic: string }
  /** A chaos action the server carries out: track recovery from now, learn this part's drops later. */
  | { type: 'recovery-start'; label: string }
  | { type: 'recovery-announce'; dropped: number }
  /** The per-user session's settings, the same for every part. */
  | Extract<
      EngineCommand,
      { type: 'protocol' | 'connect-payload' | 'on-open' | 'session' | 'check' | 'template-values' }
    >
  /** This part's rows; `isChunked`: they came before it in `rows` messages, too many for one (an agent's frame limit). */
  | (Extract<EngineCommand, { type: 'users' }> & { isChunked?: boolean });

/** How one recovery went in one part, in enough detail to merge parts exactly. */
export interface RecoveryDetail {
  /** Users open right after the action's drops. */
  openAtAction: number;
  /** ms from the action to each open that followed it, until the part was whole again. */
  opens: EncodedHistogram;
  /** Handshake attempts in each second after the action. */
  attemptsPerSecond: number[];
}

/** A broadcast record, with its receipt latencies when parts are merged. */
export type PartBroadcast = BroadcastRecord & { histogram?: EncodedHistogram };

/** A recovery record, with its detail when parts are merged. */
export type PartRecovery = RecoveryRecord & { detail?: RecoveryDetail };

/** One part at one moment: what the shell folds into a snapshot. */
export interface PartSample {
  fleet: FleetView;
  rates: Rates;
  totals: Totals;
  /** Whole-run and interval percentiles of this part alone. */
  latency: Record<LatencyName, LatencySummary>;
  interval: Record<LatencyName, LatencySummary>;
  /** The histograms, when the shell merges several parts. */
  histograms?: EncodedHistograms;
  /** Broadcasts settled since the last sample, oldest first: each is reported once. */
  settled: PartBroadcast[];
  recoveries: PartRecovery[];
  errors: Record<string, number>;
  /** Passes and fails per check, whole run. */
  checks: Record<string, { passes: number; fails: number }>;
  health: GeneratorHealth;
  /** What happened in this part since the last sample (saturation warnings, say). */
  events: Array<Pick<EngineEvent, 'atMs' | 'level' | 'text'>>;
}

/** One fleet as the shell drives it. */
export interface FleetPart {
  /** `local`, `shard 2`, or an agent's name. */
  readonly name: string;
  /** Its share of users, rates and kills, relative to the other parts (an agent's capacity, say). */
  readonly weight: number;
  /** Where it runs, for the outputs: an agent's address and port, a shard's process id; none for this process. */
  readonly address?: string;
  apply(command: PartCommand): Promise<CommandResult>;
  /** Folds the interval and reports; rejects or times out when the part is gone. */
  sample(isMeasured: boolean): Promise<PartSample>;
  /** Live counts between samples (exact for a local part, at most 100 ms old for the others). */
  live(): LiveCounts;
  /** Its whole-run latency histograms as of its latest sample (for a Prometheus scrape). */
  histograms(): EncodedHistograms['total'] | null;
  /** Idempotent; resolves once the part's users are gone. */
  stop(): Promise<void>;
  /** Called once if the part is lost mid-run (a shard that died, an agent that disconnected). */
  onLost?: (reason: string) => void;
}
