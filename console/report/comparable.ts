/**
 * What a run summary carries so that saved runs can be compared later (`sockstorm compare
 * a.json b.json`): each latency's whole-run percentile curve, the per-second figures the
 * comparison draws over time, the run's start, and the script's commands with their hash. Pure.
 */
import { createHash } from 'node:crypto';
import { LatencyHistogram, type EncodedHistogram } from '../engine/measure/histogram.ts';
import { LATENCY_NAMES, type LatencyName } from '../engine/measure/metrics.ts';
import type { Snapshot } from '../engine/measure/snapshot.ts';

/** The percentiles of a curve; 100 is the max. */
export const CURVE_PERCENTILES = [50, 75, 90, 95, 99, 99.5, 99.9, 100] as const;

/** `[percentile, ms]` pairs at {@link CURVE_PERCENTILES}, from one whole-run histogram. */
export type PercentileCurve = Array<[number, number]>;

/** Each latency's curve; null when nothing was measured. */
export type Distributions = Record<LatencyName, PercentileCurve | null>;

/** One measured second; null where that second measured nothing (or had no server /stats). */
export interface SecondFigures {
  /** Seconds since the start of the run. */
  t: number;
  fanoutP99: number | null;
  rttP99: number | null;
  serverLoopP99: number | null;
  /** The server's longest stall in that second: a fan-out that blocks once a second is a max, too rare for a p99. */
  serverLoopMax: number | null;
  /** The server's last publish (one fan-out), ms; null before its first. */
  serverPublishMs: number | null;
  serverUtilization: number | null;
  /** User + system, in percent of one core. */
  serverCpuPercent: number | null;
}

/** The commands a script ran (comments and blank lines left out) and their SHA-256. */
export interface ScriptIdentity {
  sha256: string;
  commands: string[];
}

/** The part of a summary that {@link comparableParts} adds. */
export interface ComparableParts {
  distributions?: Distributions;
  series: SecondFigures[];
  startedAtMs: number | null;
  script?: ScriptIdentity;
}

/** Curves from the engine's whole-run histograms (encoded, as `engine.histograms()` gives them). */
export function distributionsOf(histograms: Record<LatencyName, EncodedHistogram>): Distributions {
  const out = {} as Distributions;
  for (const name of LATENCY_NAMES) {
    const histogram = LatencyHistogram.decode(histograms[name]);
    out[name] = histogram.count > 0 ? histogram.percentiles(CURVE_PERCENTILES) : null;
  }
  return out;
}

const p99 = (s: Snapshot, name: LatencyName): number | null =>
  s.interval[name].count > 0 ? s.interval[name].p99 : null;

/** One record per measured second (as the summary counts them: not the start, not the teardown). */
export function seriesOf(snapshots: Snapshot[]): SecondFigures[] {
  return snapshots
    .filter((s) => !s.isStopped && s.intervals > 0)
    .map((s) => {
      const server = s.server;
      return {
        t: Math.round(s.elapsedMs) / 1000,
        fanoutP99: p99(s, 'fanout'),
        rttP99: p99(s, 'rtt'),
        serverLoopP99: server?.loop.delayP99Ms ?? null,
        serverLoopMax: server?.loop.delayMaxMs ?? null,
        // a publish to nobody is not timed: until the first real one the figure is 0, not measured
        serverPublishMs: server && server.publishMsMax > 0 ? server.publishMsLast : null,
        serverUtilization: server?.loop.utilization ?? null,
        serverCpuPercent: server ? server.cpu.userPercent + server.cpu.systemPercent : null,
      };
    });
}

/** A script's identity from its steps' text. */
export function scriptIdentity(commands: string[]): ScriptIdentity {
  return { sha256: createHash('sha256').update(commands.join('\n')).digest('hex'), commands };
}

/** Everything a summary carries for `compare`; the distributions only when the histograms were read. */
export function comparableParts(
  snapshots: Snapshot[],
  histograms?: Record<LatencyName, EncodedHistogram>,
  script?: ScriptIdentity,
): ComparableParts {
  const first = snapshots[0];
  return {
    ...(histograms ? { distributions: distributionsOf(histograms) } : {}),
    series: seriesOf(snapshots),
    startedAtMs: first ? first.atMs - first.elapsedMs : null,
    ...(script ? { script } : {}),
  };
}
