/**
 * The engine shell: what exists once per run, whatever runs the fleet. It owns the bundled
 * servers, the admin client and broadcast trigger, the event log, marks and faults, the
 * listeners and the snapshot timer, and `stop`; below it are fleet parts (this process, shard
 * processes, remote agents), each given its share of every command. Every backend goes
 * through this one file, so a command behaves the same on each.
 */
import { adminTrigger, httpTrigger } from './bundled/broadcast-trigger.ts';
import type { EngineCommand } from './commands.ts';
import { withTopics, type ResolvedOptions } from './engine-options.ts';
import type { CommandResult, FleetPart, LiveCounts, PartSample } from './parts/fleet-part.ts';
import { LatencyHistogram } from './measure/histogram.ts';
import { mergeParts, SettledBroadcasts } from './parts/merge-parts.ts';
import { LATENCY_NAMES, type EncodedHistograms } from './measure/metrics.ts';
import { startServerGroup, type ServerGroup } from './bundled/server-group.ts';
import { ServerStatsPoller } from './bundled/server-stats-poller.ts';
import { dispatchCommand, type ShellState } from './shell-commands.ts';
import type { EngineEvent, Fault, PartView, Snapshot } from './measure/snapshot.ts';
import { describeSources } from './users/sources.ts';
import { maskCredentials, printable, shownText } from './protocols/shown-text.ts';
import { emptySample, fitToShow, frozen } from './parts/part-samples.ts';

/** The engine as the console, `run` and a coordinator see it, whatever runs the fleet (engine.ts exports it). */
export interface Engine {
  dispatch(command: EngineCommand): Promise<CommandResult>;
  subscribe(listener: (snapshot: Snapshot) => void): () => void;
  getSnapshot(): Snapshot;
  /** Live counts between snapshots, for `await` and a coordinator: cheap, plain data. */
  live(): LiveCounts;
  /** The whole-run latency histograms as of the latest snapshot, by counts (for a Prometheus scrape). */
  histograms(): EncodedHistograms['total'];
  /**
   * Adds a line to the run's event log, shown in the next snapshot: news of the command that
   * drives the engine (where its metrics endpoint listens), which the console cannot print.
   */
  log(level: EngineEvent['level'], text: string): void;
  /** Idempotent: ends every VU (close, then terminate stragglers), stops the bundled server. */
  stop(): Promise<void>;
  readonly targetUrl: string;
}

/** The parts of a run, made once the targets are known. */
export type PartFactory = (urls: string[]) => Promise<FleetPart[]>;

/** How a part's kind names a lost one in errors and events. */
export interface ShellOptions {
  /** `agent` or `shard`: what a lost part is called (`agent.lost`). */
  partKind: string;
  /** Said once at the start, after the target. */
  describe?: string;
  /**
   * Whether losing a part is a fault of the run (shards: this host's
   * own processes died), not only a figure (an agent's network).
   */
  isLossFault?: boolean;
  /** Called once the parts and servers have stopped (a coordinator closes its listener). */
  onStopped?(): Promise<void>;
  /** Called with the shell's log once it exists (a coordinator logs refused agents there). */
  onLog?(log: ShellState['log']): void;
}

/** Starts the bundled servers when there is no target, then the parts, then the snapshot timer. */
export async function createShell(
  options: ResolvedOptions,
  makeParts: PartFactory,
  shellOptions: ShellOptions,
): Promise<Engine> {
  const group: ServerGroup | null =
    options.target === undefined && options.targets === undefined
      ? await startServerGroup(options.servers, options.serverEngine, {
          host: options.serverHost,
          config: options.serverConfig,
        })
      : null;
  const urls = group ? group.urls.map((u) => withTopics(u, options.topics)) : (options.targets ?? [options.target!]);
  const baseUrl = group ? group.urls[0]! : (options.target ?? urls[0]!);
  // the URL as every output shows it: credentials masked (the sockets still send them)
  const shownUrl = maskCredentials(baseUrl);
  let parts: FleetPart[];
  try {
    parts = await makeParts(urls);
  } catch (error) {
    await group?.stop();
    await shellOptions.onStopped?.();
    throw error;
  }
  const admin = group?.admin ?? null;
  const events: EngineEvent[] = [];
  let eventId = 0;
  const faults: Fault[] = [];
  const all = parts.slice();
  // the run's stop aborts every broadcast request still in flight
  const stopRequests = new AbortController();
  const state: ShellState = {
    options,
    parts,
    admin,
    timers: new Set(),
    marks: [],
    policy: options.reconnect,
    trigger: admin
      ? adminTrigger(admin)
      : options.broadcastHttp
        ? httpTrigger(options.broadcastHttp, undefined, stopRequests.signal)
        : null,
    log(level, text) {
      // every event passes here, whichever part or command it comes from: what a target said is shown, never obeyed
      events.push({ id: ++eventId, atMs: Date.now(), level, text: shownText(text) });
      if (events.length > 200) events.shift();
    },
  };
  shellOptions.onLog?.(state.log);
  group?.onCrash((crash) => {
    faults.push({ atMs: Date.now(), code: 'server.crashed', message: crash.message });
    state.log('error', crash.message);
  });

  // a part lost mid-run is an event and a figure; its users are lost with it, and the run goes on
  const lost: PartView[] = [];
  const views = new Map<FleetPart, PartView>();
  const totalWeight = all.reduce((sum, part) => sum + part.weight, 0);
  const shareOf = (part: FleetPart): number => (totalWeight > 0 ? part.weight / totalWeight : 0);
  const lastSamples = new Map<FleetPart, PartSample>();
  for (const part of all) {
    part.onLost = (reason) => {
      const index = state.parts.indexOf(part);
      if (index < 0 || isStopping) return;
      state.parts.splice(index, 1);
      const open = lastSamples.get(part)?.fleet.open ?? part.live().open;
      // its last figures stay in the outputs, with when and why it was lost
      const seen = views.get(part) ?? viewOf(part, lastSamples.get(part) ?? emptySample());
      lost.push({
        ...seen,
        open,
        target: 0,
        isSaturated: false,
        isLost: true,
        lostAtMs: Date.now(),
        lostReason: printable(reason, 200),
      });
      const name = part.name.startsWith(shellOptions.partKind) ? part.name : `${shellOptions.partKind} ${part.name}`;
      // a part lost before it counted anything leaves no figure behind
      // (the run read open 0/0, errors none): a fault, whatever its kind
      const hasCounted = (lastSamples.get(part)?.totals.attempts ?? 0) > 0;
      const users = hasCounted ? `: its ${open} users are lost` : ' before it counted anything';
      const what = `${name} lost (${reason})${users}`;
      if (shellOptions.isLossFault || !hasCounted)
        faults.push({ atMs: Date.now(), code: `${shellOptions.partKind}.lost`, message: what });
      state.log('error', `${what}; the run goes on with ${state.parts.length}`);
      settled.finish(liveIndices());
    };
  }
  const liveIndices = (): Set<number> => new Set(state.parts.map((p) => all.indexOf(p)));

  const listeners = new Set<(snapshot: Snapshot) => void>();
  const serverStats = new ServerStatsPoller(admin);
  const settled = new SettledBroadcasts();
  const startedAt = performance.now();
  let seq = 0;
  let intervals = 0;
  let saturatedIntervals = 0;
  let isStopped = false;
  let isStopping = false;
  let mergedTotals: EncodedHistograms['total'] | null = null;

  async function build(isMeasured: boolean): Promise<Snapshot> {
    const active = state.parts.slice();
    const samples = await Promise.all(
      active.map((part) => part.sample(isMeasured).catch(() => lastSamples.get(part) ?? null)),
    );
    const present: PartSample[] = [];
    const shown: PartView[] = [];
    samples.forEach((sample, i) => {
      const part = active[i]!;
      if (!sample) return;
      sample = fitToShow(sample);
      if (lastSamples.get(part) === sample) sample = { ...frozen(sample), fleet: sample.fleet, health: sample.health };
      lastSamples.set(part, sample);
      present.push(sample);
      settled.add(all.indexOf(part), sample.settled, liveIndices());
      for (const event of sample.events)
        state.log(event.level, active.length > 1 ? `${part.name}: ${event.text}` : event.text);
      const view = viewOf(part, sample);
      views.set(part, view);
      shown.push(view);
    });
    // what a lost part had counted stays in the run's totals and histograms; its users do not
    for (const part of all) {
      const last = lastSamples.get(part);
      if (last && !state.parts.includes(part)) present.push(frozen(last));
    }
    const half = mergeParts(present.length > 0 ? present : [emptySample()]);
    mergedTotals = half.histograms;
    if (isMeasured) {
      intervals++;
      if (half.health.isSaturated && (++saturatedIntervals === 1 || saturatedIntervals % 10 === 0)) {
        const which =
          active.length > 1
            ? ` (${shown
                .filter((v) => v.isSaturated)
                .map((v) => v.name)
                .join(', ')})`
            : '';
        // the engine says figures as numbers with their unit, as
        // its other events do; the report and the console word them
        const { loopDelayP99Ms, utilization } = half.health;
        state.log(
          'warn',
          `generator SATURATED${which}: loop delay p99 ${loopDelayP99Ms.toFixed(1)} ms, utilisation ` +
            `${utilization.toFixed(2)}`,
        );
      }
    }
    const lostUsers = lost.reduce((n, l) => n + l.open, 0);
    const { histograms: _, ...fleetHalf } = half;
    return {
      seq: ++seq,
      atMs: Date.now(),
      elapsedMs: performance.now() - startedAt,
      target: { url: shownUrl, isBundled: group !== null, serverEngine: group?.engine ?? null, endpoints: urls.length },
      ...fleetHalf,
      errors: lostUsers > 0 ? { ...fleetHalf.errors, [`${shellOptions.partKind}.lost`]: lostUsers } : fleetHalf.errors,
      health: isMeasured ? half.health : { ...half.health, isSaturated: false },
      broadcasts: settled.last.slice(),
      minReach: settled.minReach,
      broadcastsSettled: settled.count,
      saturatedIntervals,
      intervals,
      server: serverStats.latest,
      serverError: serverStats.error,
      events: events.slice(-50),
      faults: faults.slice(),
      marks: state.marks.slice(),
      isStopped,
      // every part, when there are several or they are agents (a single agent's name and address are news too)
      ...(all.length > 1 || shellOptions.partKind === 'agent'
        ? { parts: [...shown, ...lost.map((l) => ({ ...l, open: 0 }))], partsLost: lost.length }
        : {}),
    };
  }

  /** What the outputs show of a part at its latest sample. */
  function viewOf(part: FleetPart, sample: PartSample): PartView {
    return {
      name: printable(part.name, 40),
      ...(part.address ? { address: printable(part.address, 64) } : {}),
      share: shareOf(part),
      open: sample.fleet.open,
      target: sample.fleet.target,
      connects: sample.totals.connects,
      isSaturated: sample.health.isSaturated,
      loopDelayP99Ms: sample.health.loopDelayP99Ms,
      cpuPercent: sample.health.cpuPercent,
      rssBytes: sample.health.rssBytes,
      isLost: false,
    };
  }

  let latest = await build(false);
  let isPublishing = false;
  async function publish(): Promise<void> {
    // a part that answers late must not stack samples up
    if (isPublishing) return;
    isPublishing = true;
    try {
      latest = await build(!isStopped);
      for (const listener of listeners) listener(latest);
      serverStats.poll();
    } finally {
      isPublishing = false;
    }
  }
  // the next snapshot is asked for one interval after the last was built, not on a fixed beat: a
  // part that answered late (its loop busy reading a broadcast) was otherwise asked again at once,
  // and a fraction of a second was judged by the per-second saturation rule (0.45 s all busy
  // read as a saturated second in the scale bench, where the whole second was half busy)
  let snapshotTimer: NodeJS.Timeout | null = null;
  const scheduleSnapshot = (): void => {
    snapshotTimer = setTimeout(() => {
      void publish().finally(() => {
        if (!isStopping) scheduleSnapshot();
      });
    }, options.snapshotIntervalMs);
  };
  scheduleSnapshot();
  const more = urls.length > 1 ? ` and ${urls.length - 1} more` : '';
  const bundled = group ? ` (bundled ${group.engine} server${urls.length > 1 ? 's' : ''})` : '';
  state.log('info', `target ${baseUrl}${more}${bundled}${shellOptions.describe ? `, ${shellOptions.describe}` : ''}`);
  const sources = describeSources(urls, options.localAddresses, group !== null);
  if (sources) state.log('info', sources);

  let stopping: Promise<void> | null = null;
  return {
    targetUrl: baseUrl,
    dispatch: (command): Promise<CommandResult> =>
      isStopped || isStopping
        ? Promise.resolve({ ok: false, message: 'the engine has stopped' })
        : dispatchCommand(state, command).then((result) => ({ ...result, message: shownText(result.message) })),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => latest,
    live: (): LiveCounts => {
      const counts = state.parts.map((p) => p.live());
      return {
        open: counts.reduce((n, c) => n + c.open, 0),
        target: counts.reduce((n, c) => n + c.target, 0),
        isRecovered: counts.every((c) => c.isRecovered),
        killed: counts.reduce((n, c) => n + c.killed, 0),
        policy: state.policy,
      };
    },
    log: (level, text) => state.log(level, text),
    histograms: () => {
      if (state.parts.length === 1 && all.length === 1) return state.parts[0]!.histograms() ?? emptyHistograms();
      return mergedTotals ?? emptyHistograms();
    },
    stop() {
      stopping ??= (async () => {
        isStopping = true;
        stopRequests.abort();
        serverStats.stop();
        // parts stop at their own pace; sampling them meanwhile would show a fleet mid-teardown
        if (snapshotTimer) clearTimeout(snapshotTimer);
        for (const timer of state.timers) clearTimeout(timer);
        await Promise.all(state.parts.map((part) => part.stop()));
        isStopped = true;
        while (isPublishing) await new Promise((resolve) => setTimeout(resolve, 10));
        await publish();
        await Promise.all(all.filter((p) => !state.parts.includes(p)).map((p) => p.stop().catch(() => {})));
        await group?.stop();
        await shellOptions.onStopped?.();
      })();
      return stopping;
    },
  };
}

function emptyHistograms(): EncodedHistograms['total'] {
  const empty = new LatencyHistogram().encode();
  return Object.fromEntries(LATENCY_NAMES.map((name) => [name, empty])) as EncodedHistograms['total'];
}
