/**
 * A fleet split over several generator processes (`--workers N`), behind the same Engine
 * API: each shard holds up to its own fd limit and runs its own event loop. The coordinator
 * splits targets, rates and kills exactly, triggers broadcasts once and tells every shard
 * which seqs to expect, and merges the shards' snapshots (histograms by counts).
 */
import { adminTrigger, fireEvery, httpTrigger, type BroadcastTrigger } from './broadcast-trigger.ts';
import { startServerGroup } from './server-group.ts';
import type { EngineCommand } from './commands.ts';
import type { CommandResult, Engine } from './engine-api.ts';
import { withTopics, type ResolvedOptions } from './engine-options.ts';
import { mergeSnapshots } from './merge-snapshots.ts';
import { ServerStatsPoller } from './server-stats-poller.ts';
import { ShardProcess } from './shard-process.ts';
import type { EngineEvent, Fault, Snapshot } from './snapshot.ts';

/** Splits `total` over `parts` as evenly as whole numbers allow. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Splits `total` in proportion to `weights`, exactly (largest remainder). */
export function splitBy(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const raw = weights.map((w) => (total * w) / sum);
  const out = raw.map(Math.floor);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; k < total - out.reduce((a, b) => a + b, 0); k++) out[order[k]![1]]!++;
  return out;
}

/** Creates the coordinator and its shards. */
export async function createShardedEngine(options: ResolvedOptions): Promise<Engine> {
  const group = options.target === undefined && options.targets === undefined ? await startServerGroup(options.servers, options.serverEngine) : null;
  const urls = group ? group.urls.map((u) => withTopics(u, options.topics)) : options.targets ?? [options.target!];
  const baseUrl = group ? group.urls[0]! : options.target ?? urls[0]!;
  const admin = group?.admin ?? null;
  const trigger: BroadcastTrigger | null = admin ? adminTrigger(admin) : options.broadcastHttp ? httpTrigger(options.broadcastHttp) : null;
  const count = options.workers;
  const shardOptions = { ...options, target: urls[0], targets: urls, workers: 1, broadcastHttp: undefined, ratePerSec: options.ratePerSec / count, maxInFlight: Math.max(1, Math.ceil(options.maxInFlight / count)) };
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => ShardProcess.start(i, shardOptions)));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    // one shard failed: the others must not linger holding sockets
    await Promise.all(started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.stop()] : [])));
    await group?.stop();
    throw failed.reason;
  }
  const shards = started.map((s) => (s as PromiseFulfilledResult<ShardProcess>).value);
  const events: EngineEvent[] = [];
  let eventId = 0;
  const log = (level: EngineEvent['level'], text: string): void => {
    events.push({ id: ++eventId, atMs: Date.now(), level, text });
    if (events.length > 200) events.shift();
  };
  const marks: Array<{ label: string; atMs: number }> = [];
  const faults: Fault[] = [];
  group?.onCrash((crash) => {
    faults.push({ atMs: Date.now(), code: 'server.crashed', message: crash.message });
    log('error', crash.message);
  });
  const listeners = new Set<(snapshot: Snapshot) => void>();
  const timers = new Set<NodeJS.Timeout>();
  const startedAt = performance.now();
  let target = 0;
  let seq = 0;
  let intervals = 0;
  let saturatedIntervals = 0;
  const serverStats = new ServerStatsPoller(admin);
  let isStopped = false;

  function merged(isMeasured: boolean): Snapshot {
    const snapshot = mergeSnapshots(shards.map((s) => s.latest).filter((s): s is Snapshot => s !== null), {
      seq: ++seq, atMs: Date.now(), elapsedMs: performance.now() - startedAt,
      target: { url: baseUrl, isBundled: group !== null, serverEngine: group?.engine ?? null, endpoints: urls.length },
      server: serverStats.latest, serverError: serverStats.error, events: events.slice(-50), faults: faults.slice(), marks: marks.slice(), isStopped, saturatedIntervals, intervals,
    });
    if (isMeasured) {
      intervals++;
      if (snapshot.health.isSaturated) saturatedIntervals++;
      Object.assign(snapshot, { intervals, saturatedIntervals });
    }
    return snapshot;
  }

  let latest = merged(false);
  const publish = (): void => {
    latest = merged(!isStopped);
    for (const listener of listeners) listener(latest);
    serverStats.poll();
  };
  const snapshotTimer = setInterval(publish, options.snapshotIntervalMs);
  log('info', `target ${baseUrl}${urls.length > 1 ? ` and ${urls.length - 1} more` : ''}${group ? ` (bundled ${group.engine})` : ''}, ${count} generator processes`);

  async function all(make: (shard: ShardProcess, index: number) => EngineCommand | null): Promise<CommandResult> {
    const results = await Promise.all(shards.map((shard, i) => {
      const command = make(shard, i);
      return command ? shard.dispatch(command) : Promise.resolve({ ok: true, message: '' });
    }));
    const failed = results.find((r) => !r.ok);
    return failed ?? { ok: true, message: results.find((r) => r.message)?.message ?? '' };
  }

  function answer(result: CommandResult, message: string): CommandResult {
    const out = result.ok ? { ok: true, message } : result;
    log(out.ok ? 'info' : 'error', out.message);
    return out;
  }

  async function broadcast(command: Extract<EngineCommand, { type: 'broadcast' }>): Promise<CommandResult> {
    if (!trigger) {
      if (options.broadcastSend) return answer(await shards[0]!.dispatch(command), `broadcast ${command.count} from shard 0 via send`);
      return answer({ ok: false, message: 'no broadcast trigger for this target: pass --broadcast-http or --broadcast-send' }, '');
    }
    const topic = command.topic ?? options.topics[0] ?? 'all';
    const fire = async (n: number): Promise<CommandResult> => {
      const atMs = Date.now();
      const outcome = await trigger.fire({ topic, count: n, sizeBytes: command.sizeBytes });
      if (!outcome.ok) return answer({ ok: false, message: outcome.message }, '');
      if (outcome.firstSeq !== null && outcome.lastSeq !== null) {
        await all(() => ({ type: 'expect-broadcast', topic, firstSeq: outcome.firstSeq!, lastSeq: outcome.lastSeq!, atMs }));
      }
      return answer({ ok: true, message: '' }, `broadcast ${n} × ${command.sizeBytes} B to "${topic}" via ${trigger.kind} over ${count} processes`);
    };
    if (!command.everyMs) return fire(command.count);
    fireEvery(command.count, command.everyMs, timers, () => fire(1));
    return { ok: true, message: `broadcasting ${command.count} to "${topic}" every ${command.everyMs} ms` };
  }

  // The server picks the victims, so no shard knows its share in advance: every shard starts
  // tracking at the request, and once the drops the server reported have landed (shards tell
  // server kills from failures by the close reason) each is told how many were its own.
  async function killByServer(percent: number): Promise<CommandResult> {
    if (!admin) return answer({ ok: false, message: '"kill server" needs the bundled server; use reset or close against a real target' }, '');
    const label = `kill ${percent}% server`;
    const before = shards.map((s) => s.live.killed);
    await all(() => ({ type: 'recovery-start', label }));
    const result = await admin.kill(percent, 'close');
    const total = result.ok ? result.value.killed : 0;
    const landed = (): number => shards.reduce((n, s, i) => n + s.live.killed - before[i]!, 0);
    const deadline = Date.now() + 5000;
    while (landed() < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await all((s, i) => ({ type: 'recovery-announce', dropped: s.live.killed - before[i]! }));
    if (!result.ok) return answer({ ok: false, message: `server kill failed: ${result.message}` }, '');
    return answer({ ok: true, message: '' }, `${label}: the server dropped ${total}${landed() < total ? ` (${landed()} seen by the fleet within 5 s)` : ''}`);
  }

  async function dispatch(command: EngineCommand): Promise<CommandResult> {
    if (isStopped) return { ok: false, message: 'the engine has stopped' };
    switch (command.type) {
      case 'set-target':
      case 'add':
      case 'remove':
      case 'stop': {
        target = command.type === 'set-target' ? command.count : command.type === 'add' ? target + command.count
          : command.type === 'remove' ? Math.max(0, target - command.count) : 0;
        const shares = split(target, count);
        return answer(await all((_, i) => ({ type: 'set-target', count: shares[i]! })), `target ${target} VUs over ${count} processes`);
      }
      case 'ramp': {
        target = command.count;
        const shares = split(command.count, count);
        return answer(await all((_, i) => ({ type: 'ramp', count: shares[i]!, overMs: command.overMs })), `ramp to ${command.count} over ${command.overMs} ms`);
      }
      case 'set-rate':
      case 'probe':
      case 'messages':
        return answer(await all(() => ({ ...command, perSec: command.perSec / count })), `${command.type} ${command.perSec}/s over ${count} processes`);
      case 'kill': {
        if (command.mode === 'server') return killByServer(command.percent);
        const opens = shards.map((s) => s.live.open);
        const shares = splitBy(command.count ?? Math.round((opens.reduce((a, b) => a + b, 0) * command.percent) / 100), opens);
        return answer(await all((_, i) => ({ ...command, count: shares[i]! })), `kill ${command.percent}% ${command.mode}: dropped ${shares.reduce((a, b) => a + b, 0)}`);
      }
      case 'broadcast':
        return broadcast(command);
      case 'server': {
        if (!admin) return answer({ ok: false, message: `"server ${command.knob}" needs the bundled server's admin API` }, '');
        const result = await admin.configure({ [command.knob]: command.value });
        return answer(result.ok ? { ok: true, message: '' } : { ok: false, message: result.message }, `server ${command.knob} = ${JSON.stringify(command.value)}`);
      }
      case 'mark':
        marks.push({ label: command.label, atMs: Date.now() });
        return answer({ ok: true, message: '' }, `mark ${command.label}`);
      default:
        return answer(await all(() => command), `${command.type} on ${count} processes`);
    }
  }

  let stopping: Promise<void> | null = null;
  return {
    targetUrl: baseUrl,
    dispatch,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getSnapshot: () => latest,
    live: () => ({
      open: shards.reduce((n, s) => n + s.live.open, 0),
      target,
      isRecovered: shards.every((s) => s.live.isRecovered),
      killed: shards.reduce((n, s) => n + s.live.killed, 0),
    }),
    stop() {
      stopping ??= (async () => {
        serverStats.stop();
        // shards stop at their own pace; merging their last snapshots meanwhile would show a fleet mid-teardown
        clearInterval(snapshotTimer);
        for (const timer of timers) clearTimeout(timer);
        await Promise.all(shards.map((shard) => shard.stop()));
        isStopped = true;
        publish();
        await group?.stop();
      })();
      return stopping;
    },
  };
}
