/**
 * The local engine: one fleet in this process (the engine of a single-process run, and of
 * each shard). Without a target it starts the bundled server in a child process and reads
 * its `/stats` into every snapshot.
 */
import type WebSocket from 'ws';
import { adminTrigger, httpTrigger, renderTemplate, sendTrigger, type BroadcastTrigger } from './broadcast-trigger.ts';
import { BroadcastTracker } from './broadcast-tracker.ts';
import { epochNow } from './clock.ts';
import { formatPolicy } from './commands.ts';
import { withTopics, type ResolvedOptions } from './engine-options.ts';
import type { Engine } from './engine-api.ts';
import { Fleet } from './fleet.ts';
import { HealthMonitor } from './generator-health.ts';
import { Metrics } from './metrics.ts';
import { RateScheduler } from './rate-scheduler.ts';
import { RecoveryTracker } from './recovery.ts';
import type { AdminApi } from './admin-client.ts';
import { startServerGroup } from './server-group.ts';
import { ServerStatsPoller } from './server-stats-poller.ts';
import type { EngineEvent, Fault, Snapshot } from './snapshot.ts';
import { runCommand } from './run-command.ts';
import { readFacts, type HostFacts } from '../../tuning/facts.ts';

const TICK_MS = 10;

function clientOptions(options: ResolvedOptions): WebSocket.ClientOptions {
  return {
    perMessageDeflate: options.compression,
    maxPayload: options.maxPayloadBytes,
    // no handshakeTimeout: ws would keep a timer on every socket for its whole life; the fleet
    // times handshakes out with one sweep over the (at most maxInFlight) connecting users
    headers: options.headers,
    rejectUnauthorized: !options.insecure,
    followRedirects: false,
  };
}

/** Internal state shared with the command handlers in `run-command.ts`. */
export interface EngineState {
  readonly options: ResolvedOptions;
  readonly fleet: Fleet;
  readonly metrics: Metrics;
  readonly recovery: RecoveryTracker;
  readonly broadcasts: BroadcastTracker;
  readonly probes: RateScheduler;
  readonly messages: RateScheduler & { template?: string };
  readonly admin: AdminApi | null;
  readonly trigger: BroadcastTrigger | null;
  readonly timers: Set<NodeJS.Timeout>;
  readonly marks: Array<{ label: string; atMs: number }>;
  ramp: { from: number; to: number; startedAt: number; overMs: number } | null;
  /** This host's limits (the tuning check), to warn before a target beyond them. */
  readonly hostFacts: HostFacts;
  /** Re-arms the probe and message timer after a rate change. */
  repace(): void;
  /** Starts the fleet tick (it runs only while handshakes queue or a ramp moves the target). */
  wake(): void;
  log(level: EngineEvent['level'], text: string): void;
}

/** Creates the local engine from resolved options; rejects with `ServerStartError` before any VU exists. */
export async function createLocalEngine(options: ResolvedOptions): Promise<Engine> {
  const group = options.target === undefined && options.targets === undefined ? await startServerGroup(options.servers, options.serverEngine) : null;
  const urls = group ? group.urls.map((u) => withTopics(u, options.topics)) : options.targets ?? [options.target!];
  const baseUrl = group ? group.urls[0]! : options.target ?? urls[0]!;
  const metrics = new Metrics();
  const recovery = new RecoveryTracker();
  const broadcasts = new BroadcastTracker();
  const fleet = new Fleet(
    { urls, protocols: options.protocols, clientOptions: clientOptions(options), ratePerSec: options.ratePerSec,
      maxInFlight: options.maxInFlight, localAddresses: options.localAddresses, framePaths: options.framePaths ?? null,
      handshakeTimeoutMs: options.handshakeTimeoutMs },
    metrics, recovery, broadcasts,
  );
  fleet.policy = options.reconnect;
  const admin = group?.admin ?? null;
  let sendCursor: Iterator<ReturnType<Fleet['openUsers']>[number]> | null = null;
  const pickOpen = (): ReturnType<Fleet['openUsers']>[number] | null => {
    for (let tries = 0; tries <= fleet.vus.size; tries++) {
      sendCursor ??= fleet.vus.values();
      const next = sendCursor.next();
      if (next.done) { sendCursor = null; continue; }
      if (next.value.state === 'open') return next.value;
    }
    return null;
  };
  const trigger: BroadcastTrigger | null = admin ? adminTrigger(admin)
    : options.broadcastHttp ? httpTrigger(options.broadcastHttp)
    : options.broadcastSend ? sendTrigger(options.broadcastSend, pickOpen) : null;

  const events: EngineEvent[] = [];
  const faults: Fault[] = [];
  let eventId = 0;
  const listeners = new Set<(snapshot: Snapshot) => void>();
  const health = new HealthMonitor();
  const startedAt = performance.now();
  const serverStats = new ServerStatsPoller(admin);
  let snapshotSeq = 0;
  let saturatedIntervals = 0;
  let intervals = 0;
  let isStopped = false;

  const state: EngineState = {
    options, fleet, metrics, recovery, broadcasts, admin, trigger, marks: [], ramp: null,
    hostFacts: readFacts(),
    probes: new RateScheduler(), messages: new RateScheduler(), timers: new Set(),
    repace() {
      if (pacer) clearTimeout(pacer);
      pacer = null;
      const next = Math.min(state.probes.nextDueAt(), state.messages.nextDueAt());
      if (Number.isFinite(next) && !isStopped) pacer = setTimeout(pace, Math.max(0, next - epochNow()));
    },
    log(level, text) {
      events.push({ id: ++eventId, atMs: Date.now(), level, text });
      if (events.length > 200) events.shift();
    },
    wake() {
      if (ticker || isStopped) return;
      fleet.tick(performance.now()); // the allowance restarts from now, not from the last tick
      ticker = setInterval(tick, TICK_MS);
    },
  };

  // The fleet tick paces queued handshakes and moves a ramp's target; with neither it stops,
  // so an idle fleet of 100,000 costs the loop nothing between snapshots.
  let ticker: NodeJS.Timeout | null = null;
  fleet.onQueued = () => state.wake();
  function tick(): void {
    const at = performance.now();
    if (state.ramp) {
      const { from, to, startedAt: rampStart, overMs } = state.ramp;
      const share = Math.min(1, (at - rampStart) / overMs);
      fleet.setTarget(Math.round(from + (to - from) * share));
      if (share >= 1) state.ramp = null;
    }
    fleet.tick(at);
    if (!state.ramp && !fleet.hasQueued && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  }

  // Probes and messages run on their own timer, armed for the next intended send time, so
  // the 10 ms fleet tick adds no jitter to RTT.
  let pacer: NodeJS.Timeout | null = null;
  function pace(): void {
    const epoch = epochNow();
    for (const intended of state.probes.due(epoch)) {
      const vu = pickOpen();
      if (!vu) break;
      metrics.totals.bytesOut += vu.send(`{"t":"rtt","id":${++metrics.totals.probesSent},"at":${intended}}`);
      metrics.totals.messagesOut++;
    }
    for (const intended of state.messages.due(epoch)) {
      const vu = pickOpen();
      if (!vu || !state.messages.template) break;
      metrics.totals.bytesOut += vu.send(renderTemplate(state.messages.template, { vu: vu.id, now: intended, n: metrics.totals.messagesOut }));
      metrics.totals.messagesOut++;
    }
    state.repace();
  }

  // the interval before the first command and the teardown are not part of the measurement
  function buildSnapshot(isMeasured: boolean): Snapshot {
    const { rates, interval, encoded } = metrics.fold(options.isShard);
    const sample = health.sample(fleet.counts.open);
    if (isMeasured) intervals++;
    if (isMeasured && sample.isSaturated) {
      saturatedIntervals++;
      if (saturatedIntervals === 1 || saturatedIntervals % 10 === 0) {
        state.log('warn', `generator SATURATED: loop delay p99 ${sample.loopDelayP99Ms.toFixed(0)} ms, utilisation ${sample.utilization.toFixed(2)}`);
      }
    }
    broadcasts.settle(Date.now(), isStopped);
    const c = fleet.counts;
    return {
      seq: ++snapshotSeq, atMs: Date.now(), elapsedMs: performance.now() - startedAt,
      target: { url: baseUrl, isBundled: group !== null, serverEngine: group?.engine ?? null, endpoints: urls.length },
      fleet: {
        target: fleet.target, open: c.open, connecting: c.connecting, waiting: c.waiting, pending: c.pending,
        closing: c.closing, closed: c.closed, slowed: fleet.slowedCount, ratePerSec: fleet.ratePerSec, maxInFlight: fleet.maxInFlight,
        policy: formatPolicy(fleet.policy), probePerSec: state.probes.perSec, bySource: fleet.openBySource(),
      },
      rates, totals: { ...metrics.totals }, latency: metrics.summaries(), interval,
      broadcasts: broadcasts.settled.slice(-20), minReach: broadcasts.minReach, broadcastsSettled: broadcasts.settled.length,
      recovery: recovery.last ? { ...recovery.last } : null, recoveries: recovery.records.map((r) => ({ ...r })),
      errors: Object.fromEntries(metrics.errors), health: sample, saturatedIntervals, intervals,
      server: serverStats.latest, serverError: serverStats.error, events: events.slice(-50), faults: faults.slice(), marks: state.marks.slice(), isStopped,
      ...(encoded ? { histograms: encoded } : {}),
    };
  }

  let latest: Snapshot;
  function publish(): void {
    latest = buildSnapshot(!isStopped);
    for (const listener of listeners) listener(latest);
    serverStats.poll();
  }

  group?.onCrash((crash) => {
    faults.push({ atMs: Date.now(), code: 'server.crashed', message: crash.message });
    state.log('error', crash.message);
  });
  health.start();
  latest = buildSnapshot(false);
  const snapshotTimer = setInterval(publish, options.snapshotIntervalMs);
  state.log('info', `target ${baseUrl}${urls.length > 1 ? ` and ${urls.length - 1} more` : ''}${group ? ` (bundled ${group.engine} server${urls.length > 1 ? 's' : ''})` : ''}`);
  let stopping: Promise<void> | null = null;

  return {
    targetUrl: baseUrl,
    dispatch: (command) => (isStopped ? Promise.resolve({ ok: false, message: 'the engine has stopped' }) : runCommand(state, command)),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => latest,
    live: () => ({ open: fleet.counts.open, target: fleet.target, isRecovered: recovery.isRecovered, killed: metrics.totals.killed }),
    stop() {
      stopping ??= (async () => {
        serverStats.stop();
        if (ticker) clearInterval(ticker);
        ticker = null;
        for (const timer of state.timers) clearTimeout(timer);
        state.probes.setRate(0, 0);
        state.messages.setRate(0, 0);
        state.repace();
        await fleet.stop();
        isStopped = true;
        clearInterval(snapshotTimer);
        publish();
        health.stop();
        await group?.stop();
      })();
      return stopping;
    },
  };
}
