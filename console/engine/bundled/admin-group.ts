/**
 * Several bundled servers behind one admin face: a broadcast goes to all of them at once
 * (every server gets every broadcast, so their per-topic seqs stay in step and a seq names
 * the same message everywhere), a kill drops P% on each, knobs go to all, stats add up.
 */
import type { ServerKillMode, ServerConfig, ServerStats } from '../../../target-server/contract/wire.ts';
import { joinRecords, maxOf, sumOf } from '../measure/merge.ts';
import type { AdminApi, AdminClient, AdminResult, BroadcastAnswer } from './admin-client.ts';

/** Adds up the stats of several servers (loop delay and publish time: the worst). */
export function mergeServerStats(all: ServerStats[]): ServerStats {
  const first = all[0]!;
  const sum = (pick: (s: ServerStats) => number): number => sumOf(all, pick);
  const max = (pick: (s: ServerStats) => number): number => maxOf(all, pick);
  return {
    ...first,
    uptimeMs: max((s) => s.uptimeMs),
    connections: sum((s) => s.connections),
    connectionsTotal: sum((s) => s.connectionsTotal),
    upgradesRejected: sum((s) => s.upgradesRejected),
    closedByKill: sum((s) => s.closedByKill),
    subscribers: joinRecords(all.map((s) => s.subscribers)),
    seq: joinRecords(
      all.map((s) => s.seq),
      Math.max,
    ),
    messagesIn: sum((s) => s.messagesIn),
    bytesIn: sum((s) => s.bytesIn),
    messagesOut: sum((s) => s.messagesOut),
    bytesOut: sum((s) => s.bytesOut),
    backpressureDrops: sum((s) => s.backpressureDrops),
    backpressureCloses: sum((s) => s.backpressureCloses),
    badFrames: sum((s) => s.badFrames),
    topics: max((s) => s.topics),
    queued: sum((s) => s.queued),
    refused: joinRecords(all.map((s) => s.refused)),
    admin: {
      requests: sum((s) => s.admin.requests),
      refused: joinRecords(all.map((s) => s.admin.refused)),
    },
    isListening: all.every((s) => s.isListening),
    publishMsLast: max((s) => s.publishMsLast),
    publishMsMax: max((s) => s.publishMsMax),
    loop: {
      delayP50Ms: max((s) => s.loop.delayP50Ms),
      delayP99Ms: max((s) => s.loop.delayP99Ms),
      delayMaxMs: max((s) => s.loop.delayMaxMs),
      utilization: max((s) => s.loop.utilization),
    },
    cpu: { userPercent: sum((s) => s.cpu.userPercent), systemPercent: sum((s) => s.cpu.systemPercent) },
    rssBytes: sum((s) => s.rssBytes),
    heapUsedBytes: sum((s) => s.heapUsedBytes),
    heapTotalBytes: sum((s) => s.heapTotalBytes),
  };
}

function firstFailure<T>(results: Array<AdminResult<T>>): AdminResult<never> | null {
  const failed = results.find((r) => !r.ok);
  return failed && !failed.ok ? failed : null;
}

/** Several admin APIs as one. */
export class AdminGroup implements AdminApi {
  constructor(private readonly members: AdminClient[]) {}

  async stats(): Promise<AdminResult<ServerStats>> {
    const results = await Promise.all(this.members.map((m) => m.stats()));
    return (
      firstFailure(results) ?? {
        ok: true,
        value: mergeServerStats(results.map((r) => (r as { value: ServerStats }).value)),
      }
    );
  }

  async broadcast(request: Parameters<AdminApi['broadcast']>[0]): Promise<AdminResult<BroadcastAnswer>> {
    const results = await Promise.all(this.members.map((m) => m.broadcast(request)));
    const failed = firstFailure(results);
    if (failed) return failed;
    const answers = results.map((r) => (r as { value: BroadcastAnswer }).value);
    if (answers.some((a) => a.firstSeq !== answers[0]!.firstSeq)) {
      return {
        ok: false,
        status: 0,
        message:
          `the servers disagree on seq (${answers.map((a) => a.firstSeq).join(', ')}): a client pub ` +
          `reached only some of them`,
      };
    }
    return { ok: true, value: answers[0]! };
  }

  async kill(percent: number, mode: ServerKillMode): Promise<AdminResult<{ killed: number; mode: ServerKillMode }>> {
    const results = await Promise.all(this.members.map((m) => m.kill(percent, mode)));
    return (
      firstFailure(results) ?? {
        ok: true,
        value: { killed: results.reduce((n, r) => n + (r as { value: { killed: number } }).value.killed, 0), mode },
      }
    );
  }

  async configure(patch: Partial<ServerConfig>): Promise<AdminResult<{ config: ServerConfig }>> {
    const results = await Promise.all(this.members.map((m) => m.configure(patch)));
    return firstFailure(results) ?? results[0]!;
  }
}
