import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mergeRecoveries } from '../../console/engine/parts/merge-parts.ts';
import { split, splitBy } from '../../console/engine/shell-commands.ts';
import { eventually } from '../helpers/test-client.ts';
import { useEngines } from '../helpers/engines.ts';
import { nextSnapshot } from '../helpers/next-snapshot.ts';
import { childrenOf } from '../helpers/process-tree.ts';

describe('splitting over shards', () => {
  it('splits a target evenly and a kill in proportion to what each shard has open, exactly', () => {
    expect(split(101, 2)).toEqual([51, 50]);
    expect(split(2, 3)).toEqual([1, 1, 0]);
    expect(splitBy(20, [51, 49])).toEqual([10, 10]);
    expect(splitBy(7, [10, 0, 4])).toEqual([5, 0, 2]);
    expect(splitBy(3, [0, 0])).toEqual([0, 0]);
  });

  it('joins the same chaos action of every shard: drops add up, recovery waits for the slowest', () => {
    const base = { action: 'kill 20% reset', atMs: 5, peakHandshakesPerSec: 10, attempts: 10, failures: 0 };
    const merged = mergeRecoveries([
      [{ ...base, target: 50, dropped: 10, p95Ms: 80, fullMs: 90 }],
      [{ ...base, target: 50, dropped: 10, p95Ms: 60, fullMs: 120 }],
    ]);
    expect(merged).toEqual([
      { ...base, target: 100, dropped: 20, p95Ms: 80, fullMs: 120, peakHandshakesPerSec: 20, attempts: 20 },
    ]);
    expect(
      mergeRecoveries([
        [{ ...base, target: 1, dropped: 1, p95Ms: 1, fullMs: null }],
        [{ ...base, target: 1, dropped: 1, p95Ms: 1, fullMs: 3 }],
      ])[0]!.fullMs,
    ).toBeNull();
  });

  it(
    'keeps a chaos record unrecovered until every shard shows it, and counts a shard without an ' +
      'outage as untouched',
    () => {
      const kill = {
        action: 'kill 20% reset',
        atMs: 5,
        target: 50,
        dropped: 10,
        p95Ms: 80,
        fullMs: 90,
        peakHandshakesPerSec: 10,
        attempts: 10,
        failures: 0,
      };
      expect(
        mergeRecoveries(
          [[kill], []],
          [
            { target: 50, open: 50 },
            { target: 50, open: 50 },
          ],
        ),
      ).toMatchObject([{ target: 100, dropped: 10, p95Ms: null, fullMs: null }]);
      const outage = { ...kill, action: 'outage', atMs: 1000 };
      expect(
        mergeRecoveries(
          [[kill, outage], [{ ...kill, atMs: 6 }]],
          [
            { target: 50, open: 50 },
            { target: 50, open: 50 },
          ],
        ),
      ).toMatchObject([
        { action: 'kill 20% reset', target: 100, dropped: 20, fullMs: 90 },
        { action: 'outage', target: 100, dropped: 10, fullMs: 90 },
      ]);
    },
  );
});

const engines = useEngines();

describe('engine over two generator processes', () => {
  it(
    'asks for the next snapshot one interval after the last was built, so a part that answers late ' +
      'never makes a short interval',
    async () => {
      const engine = await engines.start({ workers: 2, ratePerSec: 5000, snapshotIntervalMs: 400 }, 20);
      const at: number[] = [];
      const unsubscribe = engine.subscribe((s) => at.push(s.atMs));
      // one shard frozen for 900 ms: the snapshot asked for meanwhile is built when it answers
      const shard = childrenOf(process.pid).find((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shard'),
      )!;
      expect(shard).toBeGreaterThan(0);
      await eventually(() => at.length >= 2, 5000);
      const before = at.length;
      process.kill(shard, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, 900));
      process.kill(shard, 'SIGCONT');
      await eventually(() => at.length >= before + 5, 10_000);
      unsubscribe();
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(399);
      // and the late one is there: one gap spans the freeze
      expect(Math.max(...gaps)).toBeGreaterThanOrEqual(800);
    },
  );

  it('holds exactly 201, kills exactly 20%, broadcasts with full reach, and merges histograms by counts', async () => {
    const engine = await engines.start(
      { workers: 2, ratePerSec: 5000, snapshotIntervalMs: 250, reconnect: { kind: 'fixed', delayMs: 100 } },
      201,
    );
    const held = await nextSnapshot(engine, (s) => s.server?.connections === 201 && s.fleet.open === 201);
    expect(held.fleet).toMatchObject({ target: 201, open: 201, connecting: 0 });
    expect(held.latency.connect.count).toBe(201);
    await engine.dispatch({ type: 'broadcast', count: 2, sizeBytes: 8 });
    const reached = await nextSnapshot(engine, (s) => s.broadcastsSettled === 2);
    expect(reached.broadcasts.map((b) => [b.seq, b.receivers, b.openAtSend])).toEqual([
      [1, 201, 201],
      [2, 201, 201],
    ]);
    expect(reached.latency.fanout.count).toBe(402);
    const killed = await engine.dispatch({ type: 'kill', percent: 20, mode: 'reset', victims: 'random' });
    expect(killed.message).toContain('dropped 40');
    await eventually(() => engine.live().isRecovered && engine.live().open === 201, 15_000);
    const after = await nextSnapshot(engine, (s) => s.recovery?.fullMs != null && s.server?.connections === 201);
    expect(after.totals.killed).toBe(40);
    expect(after.recovery).toMatchObject({ dropped: 40, target: 201, attempts: 40, failures: 0 });
    expect(after.errors).toEqual({});
    // the server picks the victims; each process learns its share from the close reasons
    const byServer = await engine.dispatch({ type: 'kill', percent: 20, mode: 'server', victims: 'random' });
    expect(byServer.message).toContain('the server dropped 40');
    await eventually(() => engine.live().isRecovered && engine.live().open === 201, 15_000);
    const recovered = await nextSnapshot(engine, (s) => s.recoveries.length === 2 && s.recovery?.fullMs != null);
    expect(recovered.recovery).toMatchObject({ action: 'kill 20% server', dropped: 40, target: 201, attempts: 40 });
    expect(recovered.totals.killed).toBe(80);
    expect(recovered.errors).toEqual({});
    await engine.stop();
    expect(engine.getSnapshot()).toMatchObject({ isStopped: true, fleet: { open: 0 } });
  });
});
