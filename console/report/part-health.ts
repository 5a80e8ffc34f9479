/**
 * Each part of a run over several (agents, shards) as the outputs show it: where it ran, its share,
 * what it held and connected, its own health at its worst, and when it was lost. Folded from the
 * snapshots' part views, once, for the JSON summary, the text summary and the report. Pure.
 */
import type { Snapshot } from '../engine/measure/snapshot.ts';
import { bytes, clock, ms, percent } from './format.ts';

/** One part of a run, whole. */
export interface PartHealth {
  name: string;
  /** An agent's address and port, a shard's `pid N`; null for this process. */
  address: string | null;
  /** Its share of the fleet's users, 0..1. */
  share: number;
  /** Open at the end of the script (a lost part: when it was lost). */
  open: number;
  connects: number;
  /** The worst of its seconds: event-loop delay p99, CPU (percent of a core), RSS. */
  loopDelayP99MaxMs: number;
  cpuPercentMax: number;
  rssMaxBytes: number;
  /** Measured seconds in which this part was saturated. */
  saturatedSeconds: number;
  /** When it was lost (epoch ms, and ms after the run's start) and why; null while it stayed. */
  lost: { atMs: number; afterMs: number; reason: string } | null;
}

/** The parts of a run from its snapshots (`measured`: the seconds that count for health); empty when it ran in one process. */
export function partsHealth(snapshots: Snapshot[], measured: Snapshot[]): PartHealth[] {
  const last = snapshots[snapshots.length - 1];
  if (!last?.parts) return [];
  const first = snapshots[0]!;
  const startedAtMs = first.atMs - first.elapsedMs;
  const inRun = snapshots.filter((s) => !s.isStopped);
  const atEnd = inRun[inRun.length - 1] ?? last;
  const parts = new Map<string, PartHealth>();
  for (const view of last.parts) {
    const end = atEnd.parts?.find((p) => p.name === view.name) ?? view;
    parts.set(view.name, {
      name: view.name,
      address: view.address ?? null,
      share: view.share ?? 0,
      open: end.open,
      connects: view.connects ?? 0,
      loopDelayP99MaxMs: 0,
      cpuPercentMax: 0,
      rssMaxBytes: 0,
      saturatedSeconds: 0,
      lost:
        view.isLost && view.lostAtMs !== undefined
          ? { atMs: view.lostAtMs, afterMs: view.lostAtMs - startedAtMs, reason: view.lostReason ?? '' }
          : null,
    });
  }
  for (const snapshot of measured) {
    for (const view of snapshot.parts ?? []) {
      const part = parts.get(view.name);
      if (!part || view.isLost) continue;
      part.loopDelayP99MaxMs = Math.max(part.loopDelayP99MaxMs, view.loopDelayP99Ms);
      part.cpuPercentMax = Math.max(part.cpuPercentMax, view.cpuPercent ?? 0);
      part.rssMaxBytes = Math.max(part.rssMaxBytes, view.rssBytes);
      if (view.isSaturated) part.saturatedSeconds++;
    }
  }
  return [...parts.values()];
}

/** One line of a part for the text summary. */
export function partLine(part: PartHealth): string {
  const where = part.address ? ` (${part.address})` : '';
  const lost = part.lost ? `; LOST at ${clock(part.lost.afterMs)}: ${part.lost.reason}` : '';
  return `${part.name}${where} ${percent(part.share)} of users: open ${part.open}, connects ${part.connects}, loop delay p99 max ${ms(part.loopDelayP99MaxMs)}, CPU max ${percent(part.cpuPercentMax / 100)}, RSS max ${bytes(part.rssMaxBytes)}, saturated ${part.saturatedSeconds} s${lost}`;
}
