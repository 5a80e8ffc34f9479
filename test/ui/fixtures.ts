/**
 * Fixtures for the console's views: a snapshot with realistic values (1,000 users after a
 * 20% kill, a settled broadcast, the bundled server's stats, a saturated generator) and a
 * tiny engine of our own Engine interface that serves fixed snapshots and keeps the commands
 * it was sent. No sockets: the views only ever see snapshots.
 */
import type { EngineCommand } from '../../console/engine/commands.ts';
import type { CommandResult, Engine, LiveCounts } from '../../console/engine/engine.ts';
import type { EncodedHistogram, LatencySummary } from '../../console/engine/measure/histogram.ts';
import type { LatencyName } from '../../console/engine/measure/metrics.ts';
import type { EngineEvent, PartView, Snapshot } from '../../console/engine/measure/snapshot.ts';
import { DEFAULT_SERVER_CONFIG, type ServerStats } from '../../target-server/contract/wire.ts';

/** When the fixture session started (epoch ms). */
export const STARTED_AT_MS = Date.UTC(2026, 11, 1, 8, 26, 0);

function summary(count: number, p50: number, p99: number): LatencySummary {
  return { count, p50, p90: (p50 + p99) / 2, p99, max: p99 * 1.4, mean: p50 * 1.1 };
}

const EMPTY = summary(0, 0, 0);

/** The bundled server's /stats with 1,000 connections. */
export function fixtureServerStats(): ServerStats {
  return {
    engine: 'uws',
    native: true,
    uptimeMs: 18_500,
    connections: 1000,
    connectionsTotal: 1200,
    upgradesRejected: 0,
    closedByKill: 0,
    topics: 1,
    subscribers: { all: 1000 },
    seq: { all: 1 },
    queued: 0,
    messagesIn: 1916,
    bytesIn: 82_000,
    messagesOut: 1916,
    bytesOut: 95_000,
    backpressureDrops: 0,
    backpressureCloses: 0,
    badFrames: 0,
    refused: {},
    admin: { requests: 20, refused: {} },
    isListening: true,
    publishMsLast: 0.4,
    publishMsMax: 1.2,
    loop: { delayP50Ms: 0.3, delayP99Ms: 0.8, delayMaxMs: 2.1, utilization: 0.04 },
    cpu: { userPercent: 1.5, systemPercent: 0.5 },
    rssBytes: 78.6 * 1024 * 1024,
    heapUsedBytes: 12e6,
    heapTotalBytes: 20e6,
    config: { ...DEFAULT_SERVER_CONFIG },
  };
}

// a variable, not a literal in place: the record may carry more than this test reads
const BROADCAST = {
  topic: 'all',
  seq: 1,
  openAtSend: 1000,
  receivers: 995,
  reached: 995,
  cut: 0,
  reach: 0.995,
  firstMs: 3.1,
  p50Ms: 24.5,
  p99Ms: 38.2,
  lastMs: 40.1,
  isSettled: true,
  sentAtMs: STARTED_AT_MS + 6000,
};

/**
 * 18 s into a session: 1,000 open after a 20% kill that has
 * recovered, one broadcast, the generator saturated for 3 of 18 s.
 */
export function fixtureSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  const atMs = STARTED_AT_MS + 18_000;
  return {
    seq: 18,
    atMs,
    elapsedMs: 18_000,
    target: { url: 'ws://127.0.0.1:56523/', isBundled: true, serverEngine: 'uws', endpoints: 1 },
    fleet: {
      target: 1000,
      open: 1000,
      peakOpen: 1000,
      connecting: 0,
      waiting: 0,
      pending: 0,
      closing: 0,
      closed: 0,
      slowed: 0,
      ratePerSec: 1000,
      maxInFlight: 500,
      policy: 'expo 100ms..5000ms full',
      probePerSec: 100,
      bySource: {},
      heldBytes: 0,
    },
    rates: {
      connectsPerSec: 0,
      attemptsPerSec: 0,
      disconnectsPerSec: 0,
      messagesInPerSec: 100,
      messagesOutPerSec: 100,
      bytesInPerSec: 4400,
      bytesOutPerSec: 4400,
    },
    totals: {
      attempts: 1200,
      connects: 1200,
      failures: 0,
      disconnects: 200,
      killed: 200,
      messagesIn: 1900,
      messagesOut: 1700,
      bytesIn: 80_000,
      bytesOut: 70_000,
      probesSent: 1500,
      probesReceived: 1500,
      broadcastsReceived: 1000,
      missed: 0,
      cut: 0,
      topicsEvicted: 0,
      userTopicsEvicted: 0,
      churn: 0,
      sendDropped: 0,
    },
    latency: {
      connect: summary(1200, 2.9, 35.5),
      rtt: summary(1500, 0.9, 15.2),
      fanout: summary(1000, 24.5, 38.2),
      reconnect: summary(200, 57, 117),
    },
    interval: { connect: EMPTY, rtt: summary(100, 0.8, 5.4), fanout: EMPTY, reconnect: EMPTY },
    broadcasts: [BROADCAST],
    minReach: 0.995,
    broadcastsSettled: 1,
    recovery: {
      action: 'kill 20% reset',
      atMs: STARTED_AT_MS + 9000,
      target: 1000,
      dropped: 200,
      p95Ms: 812,
      fullMs: 2450,
      peakHandshakesPerSec: 200,
      attempts: 200,
      failures: 0,
    },
    recoveries: [],
    errors: {},
    checks: {},
    health: {
      loopDelayP50Ms: 31,
      loopDelayP99Ms: 72.4,
      loopDelayMaxMs: 140,
      utilization: 0.97,
      cpuPercent: 99,
      rssBytes: 178.2 * 1024 * 1024,
      heapUsedBytes: 60e6,
      bytesPerOpenVu: 32.7 * 1024,
      isSaturated: true,
    },
    saturatedIntervals: 3,
    intervals: 18,
    server: fixtureServerStats(),
    serverError: null,
    events: [
      { id: 1, atMs: STARTED_AT_MS + 1000, level: 'info', text: '+1000 → target 1000 VUs' },
      { id: 2, atMs: STARTED_AT_MS + 4000, level: 'info', text: 'RTT probes 100/s' },
      {
        id: 3,
        atMs: STARTED_AT_MS + 6000,
        level: 'info',
        text: 'broadcast 1 × 16 B to "all" via admin (seq 1..1), 1000 open',
      },
      {
        id: 4,
        atMs: STARTED_AT_MS + 9000,
        level: 'info',
        text: 'kill 20% reset: dropped 200 of 1000 open (random); reconnect expo 100ms..5000ms full',
      },
      { id: 5, atMs: STARTED_AT_MS + 15_000, level: 'warn', text: 'generator saturated: loop p99 72ms' },
    ],
    faults: [],
    marks: [],
    isStopped: false,
    ...overrides,
  };
}

const MIB = 1024 * 1024;

/** Three shard processes: one fine, one saturated, one lost (its figures zero, as the shell sends them). */
export function fixtureParts(): PartView[] {
  return [
    {
      name: 'shard 0',
      open: 334,
      target: 334,
      isSaturated: false,
      loopDelayP99Ms: 1.2,
      rssBytes: 61.4 * MIB,
      isLost: false,
    },
    {
      name: 'shard 1',
      open: 333,
      target: 333,
      isSaturated: true,
      loopDelayP99Ms: 72.4,
      rssBytes: 95 * MIB,
      isLost: false,
    },
    { name: 'shard 2', open: 0, target: 0, isSaturated: false, loopDelayP99Ms: 0, rssBytes: 0, isLost: true },
  ];
}

/**
 * The fixture session over three shards after shard 2 was lost
 * with its 333 users: 667 open, the lost users an error class.
 */
export function fixturePartsSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  const base = fixtureSnapshot();
  return fixtureSnapshot({
    fleet: { ...base.fleet, target: 667, open: 667 },
    errors: { 'shard.lost': 333 },
    parts: fixtureParts(),
    partsLost: 1,
    events: [
      ...base.events,
      {
        id: 6,
        atMs: STARTED_AT_MS + 16_000,
        level: 'error',
        text: 'shard 2 lost (exited with code 1): its 333 users are lost; the run goes on with 2',
      },
    ],
    ...overrides,
  });
}

/** `count` agents with host names, `open` users each; the ones in `saturated` and `lost` (by index) so. */
export function fixtureAgents(
  count: number,
  saturated: readonly number[] = [],
  lost: readonly number[] = [],
): PartView[] {
  return Array.from(
    { length: count },
    (_, i): PartView =>
      lost.includes(i)
        ? {
            name: `loadgen-eu-${i + 1}.internal`,
            open: 0,
            target: 0,
            isSaturated: false,
            loopDelayP99Ms: 0,
            rssBytes: 0,
            isLost: true,
          }
        : {
            name: `loadgen-eu-${i + 1}.internal`,
            open: 1250,
            target: 1250,
            isSaturated: saturated.includes(i),
            loopDelayP99Ms: saturated.includes(i) ? 88 : 2.4,
            rssBytes: 140 * MIB,
            isLost: false,
          },
  );
}

/** An engine that serves `snapshot`, answers every command ok (or as `answer` says) and keeps what it was sent. */
export class FixtureEngine implements Engine {
  readonly targetUrl: string;
  readonly commands: EngineCommand[] = [];
  /** What was added to the event log with `log`. */
  readonly logged: Array<{ level: EngineEvent['level']; text: string }> = [];
  private readonly listeners = new Set<(snapshot: Snapshot) => void>();

  constructor(
    private snapshot: Snapshot = fixtureSnapshot(),
    private readonly answer: (command: EngineCommand) => CommandResult = () => ({ ok: true, message: 'done' }),
  ) {
    this.targetUrl = snapshot.target.url;
  }

  async dispatch(command: EngineCommand): Promise<CommandResult> {
    this.commands.push(command);
    return this.answer(command);
  }
  subscribe(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  getSnapshot(): Snapshot {
    return this.snapshot;
  }
  live(): LiveCounts {
    return {
      open: this.snapshot.fleet.open,
      target: this.snapshot.fleet.target,
      isRecovered: true,
      killed: this.snapshot.totals.killed,
    };
  }
  histograms(): Record<LatencyName, EncodedHistogram> {
    const none = { sumUs: null, counts: [] };
    return { connect: none, rtt: none, fanout: none, reconnect: none };
  }
  log(level: EngineEvent['level'], text: string): void {
    this.logged.push({ level, text });
  }
  async stop(): Promise<void> {
    this.listeners.clear();
  }
  /** Serves a new snapshot to the subscribers, as the engine does once a second. */
  publish(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    for (const listener of this.listeners) listener(snapshot);
  }
}
