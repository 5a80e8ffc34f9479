/**
 * The local fleet: the virtual users of this process as one part of an engine (the only part
 * of a single-process run; the part inside each shard process and each agent). It paces
 * handshakes, probes and messages, tracks recovery and broadcasts, and samples itself when
 * the shell asks; the shell owns the servers, the event log and the snapshot timer.
 */
import type WebSocket from 'ws';
import { sendTrigger } from '../bundled/broadcast-trigger.ts';
import { BroadcastTracker } from '../measure/broadcast-tracker.ts';
import { epochNow } from '../../../target-server/contract/clock.ts';
import { encodeProbe } from '../../../target-server/contract/wire.ts';
import { formatPolicy } from '../commands.ts';
import type { ResolvedOptions } from '../engine-options.ts';
import { Fleet } from './fleet.ts';
import { applyToFleet, type FleetState } from './fleet-commands.ts';
import type { FleetPart, LiveCounts, PartSample } from './fleet-part.ts';
import { HealthMonitor } from '../measure/generator-health.ts';
import type { LeanOptions } from '../users/lean-client.ts';
import { Metrics } from '../measure/metrics.ts';
import { RateScheduler } from './rate-scheduler.ts';
import { RecoveryTracker } from '../measure/recovery.ts';
import { cachedLookup, resolveHosts, type ResolvedHosts } from '../users/resolve-hosts.ts';
import { SendBudget } from '../users/send-budget.ts';

const TICK_MS = 10;
/** Error classes whose first words (a close reason, a refusal's message) the event log says. */
const MAX_WORDED_CLASSES = 32;

/**
 * The `ws` client options of a fleet (the lean client reads the subset
 * it knows); `hosts` answers every lookup of the target's names.
 */
export function clientOptions(
  options: ResolvedOptions,
  hosts: ResolvedHosts = {},
): WebSocket.ClientOptions & LeanOptions {
  return {
    lookup: cachedLookup(hosts),
    perMessageDeflate: options.compression,
    maxPayload: options.maxPayloadBytes,
    // no handshakeTimeout: ws would keep a timer on every socket for its whole life; the fleet
    // times handshakes out with one sweep over the (at most maxInFlight) connecting users
    headers: options.headers,
    rejectUnauthorized: !options.insecure,
    followRedirects: false,
    // pongs go through the user, which holds them to its send budget (send-budget.ts)
    autoPong: false,
  };
}

/** Where the fleet connects and whether its samples carry histograms for a shell merging several parts. */
export interface LocalFleetOptions {
  name?: string;
  urls: string[];
  /** One part of several: samples carry their histograms and recovery detail. */
  isDetailed: boolean;
  /** The target's host names, resolved (see resolve-hosts.ts). */
  hosts?: ResolvedHosts;
}

/** Creates the fleet of this process. */
export function createLocalFleet(options: ResolvedOptions, where: LocalFleetOptions): FleetPart {
  const metrics = new Metrics();
  const recovery = new RecoveryTracker(where.isDetailed);
  const broadcasts = new BroadcastTracker(5000, 500, where.isDetailed);
  const fleet = new Fleet(
    {
      urls: where.urls,
      protocols: options.protocols,
      clientOptions: clientOptions(options, where.hosts),
      ratePerSec: options.ratePerSec,
      maxInFlight: options.maxInFlight,
      localAddresses: options.localAddresses,
      // a part of a run against the bundled servers is given their URLs without a target
      isBundled: options.target === undefined && options.targets === undefined,
      framePaths: options.framePaths ?? null,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      held: { budgetBytes: options.heldBudgetBytes, deadlineMs: options.heldDeadlineMs },
      sendBudget: new SendBudget(options.sendBufferBytes, metrics.totals),
      // the bundled server subscribes a user at its upgrade to the topics it names (`?topics=`)
      openTopics: options.target === undefined && options.targets === undefined ? options.topics : [],
    },
    metrics,
    recovery,
    broadcasts,
  );
  fleet.policy = options.reconnect;
  let sendCursor: Iterator<ReturnType<Fleet['openUsers']>[number]> | null = null;
  const pickOpen = (): ReturnType<Fleet['openUsers']>[number] | null => {
    for (let tries = 0; tries <= fleet.vus.size; tries++) {
      sendCursor ??= fleet.vus.values();
      const next = sendCursor.next();
      if (next.done) {
        sendCursor = null;
        continue;
      }
      if (next.value.state === 'open') return next.value;
    }
    return null;
  };
  const health = new HealthMonitor();
  const events: PartSample['events'] = [];
  // the target's own words for a failure, the first of each class (and of a bounded number of
  // classes): the event log says why the server closed or refused, which a class alone cannot
  const worded = new Set<string>();
  fleet.onTargetWords = (errorClass, words) => {
    if (worded.has(errorClass) || worded.size >= MAX_WORDED_CLASSES) return;
    worded.add(errorClass);
    const text = typeof words === 'string' ? words : words.toString('utf8');
    if (text !== '')
      events.push({
        atMs: Date.now(),
        level: 'warn',
        text: `${errorClass}: ${typeof words === 'string' ? '' : 'reason '}"${text.slice(0, 200)}"`,
      });
  };
  let isStopped = false;

  const state: FleetState = {
    options,
    fleet,
    metrics,
    recovery,
    broadcasts,
    ramp: null,
    probes: new RateScheduler(),
    messages: new RateScheduler(),
    timers: new Set(),
    send: options.broadcastSend
      ? sendTrigger(options.broadcastSend, () => {
          const vu = pickOpen();
          return vu && { send: (text: string) => fleet.sendMessage(vu, text) };
        })
      : null,
    armPacer() {
      if (pacer) clearTimeout(pacer);
      if (pacerNow) clearImmediate(pacerNow);
      pacer = pacerNow = null;
      const next = Math.min(state.probes.nextDueAt(), state.messages.nextDueAt());
      if (!Number.isFinite(next) || isStopped) return;
      // sends the per-turn cap left due go on once the loop has read what came in, not a timer's millisecond later
      const waitMs = next - epochNow();
      if (waitMs <= 0) pacerNow = setImmediate(pace);
      else pacer = setTimeout(pace, waitMs);
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
      const { from, to, startedAt, overMs } = state.ramp;
      const share = Math.min(1, (at - startedAt) / overMs);
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
  let pacerNow: NodeJS.Immediate | null = null;
  function pace(): void {
    const epoch = epochNow();
    for (const intended of state.probes.due(epoch)) {
      const vu = pickOpen();
      if (!vu) break;
      const id = metrics.totals.probesSent + 1;
      const probe = fleet.session.probe;
      // `reply ack`: the protocol's own acknowledgement of this message is the answer
      const bytes = probe
        ? fleet.sendMessage(
            vu,
            fleet.session.render(probe.template, vu, { id }),
            probe.replyPath === 'ack' ? id : undefined,
          )
        : vu.send(encodeProbe(id, intended));
      // dropped over the user's send budget (counted as send.dropped): not a probe sent, nor one lost
      if (bytes === 0) continue;
      metrics.totals.probesSent = id;
      metrics.totals.bytesOut += bytes;
      metrics.totals.messagesOut++;
      if (probe) {
        // a reply unanswered for 30 s is not waited for any more
        if (probe.pending.size > 100_000) probe.pending.clear();
        probe.pending.set(id, intended);
      }
    }
    const template = state.messages.template;
    for (const intended of state.messages.due(epoch)) {
      const vu = pickOpen();
      if (!vu || !template?.text) break;
      const bytes = fleet.sendMessage(vu, template.render(vu.id, intended, metrics.totals.messagesOut));
      metrics.totals.bytesOut += bytes;
      if (bytes > 0) metrics.totals.messagesOut++;
    }
    state.armPacer();
  }

  function sample(isMeasured: boolean): PartSample {
    const { rates, interval, encoded } = metrics.fold(where.isDetailed);
    const h = health.sample(fleet.counts.open);
    // a second that was not measured (the start-up, the teardown) says nothing of saturation;
    // the shell says when the fleet is saturated
    const healthNow = isMeasured ? h : { ...h, isSaturated: false };
    broadcasts.settle(Date.now(), isStopped);
    const c = fleet.counts;
    const settled = broadcasts.drainSettled();
    metrics.totals.topicsEvicted = broadcasts.topicsEvicted;
    return {
      fleet: {
        target: fleet.target,
        open: c.open,
        peakOpen: fleet.peakOpen,
        connecting: c.connecting,
        waiting: c.waiting,
        pending: c.pending,
        closing: c.closing,
        closed: c.closed,
        slowed: fleet.slowedCount,
        ratePerSec: fleet.ratePerSec,
        maxInFlight: fleet.maxInFlight,
        policy: formatPolicy(fleet.policy),
        probePerSec: state.probes.perSec,
        bySource: fleet.openBySource(),
        heldBytes: fleet.held.heldBytes,
      },
      rates,
      totals: { ...metrics.totals },
      latency: metrics.summaries(),
      interval,
      ...(encoded ? { histograms: encoded } : {}),
      settled: where.isDetailed ? settled.map((r) => ({ ...r, histogram: broadcasts.histogramOf(r) })) : settled,
      recoveries: recovery.records.map((r) => (where.isDetailed ? { ...r, detail: recovery.detailOf(r) } : { ...r })),
      errors: Object.fromEntries(metrics.errors),
      checks: Object.fromEntries([...fleet.session.checkCounts].map(([name, c]) => [name, { ...c }])),
      health: healthNow,
      events: events.splice(0),
    };
  }

  health.start();
  let stopping: Promise<void> | null = null;
  const live = (): LiveCounts => ({
    open: fleet.counts.open,
    target: fleet.target,
    isRecovered: recovery.isRecovered,
    killed: metrics.totals.killed,
  });
  return {
    name: where.name ?? 'local',
    weight: 1,
    apply: async (command) =>
      isStopped ? { ok: false, message: 'the fleet has stopped' } : applyToFleet(state, command),
    sample: async (isMeasured) => sample(isMeasured),
    live,
    histograms: () => ({
      connect: metrics.latency.connect.encode(),
      rtt: metrics.latency.rtt.encode(),
      fanout: metrics.latency.fanout.encode(),
      reconnect: metrics.latency.reconnect.encode(),
    }),
    stop() {
      stopping ??= (async () => {
        if (ticker) clearInterval(ticker);
        ticker = null;
        for (const timer of state.timers) clearTimeout(timer);
        state.probes.setRate(0, 0);
        state.messages.setRate(0, 0);
        state.armPacer();
        await fleet.stop();
        isStopped = true;
        health.stop();
      })();
      return stopping;
    },
  };
}

/**
 * The fleet of this process, speaking the options' protocol from its first user. The target's
 * host names are resolved first, once: a name that does not resolve rejects with a
 * `config.dns` error before any socket opens.
 */
export async function startLocalFleet(options: ResolvedOptions, where: LocalFleetOptions): Promise<FleetPart> {
  const hosts = await resolveHosts(where.urls);
  const part = createLocalFleet(options, { ...where, hosts });
  if (options.protocol && options.protocol !== 'raw') {
    const result = await part.apply({ type: 'protocol', name: options.protocol });
    if (!result.ok) throw new Error(result.message);
  }
  return part;
}
