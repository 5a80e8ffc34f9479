// Shard processes (`--workers`) against a real `ws` server on loopback: what a shard counts
// crosses Node IPC through the part protocol's schema and is merged by the shell.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { useEngines } from '../../helpers/engines.ts';
import { nextSnapshot } from '../../helpers/next-snapshot.ts';
import { eventually } from '../../helpers/test-client.ts';

const engines = useEngines();
const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const wss of servers.splice(0)) {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
});

describe('shard processes', () => {
  it("carry each shard's peak of open users over IPC, and the shell adds them up: users gone before a " +
    'snapshot count', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    servers.push(wss);
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const target = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    // snapshots far apart: none is taken while the users are open
    const engine = await engines.start({ target, workers: 2, ratePerSec: 2000, snapshotIntervalMs: 60_000 });
    expect(engine.getSnapshot().fleet.peakOpen).toBe(0);
    await engine.dispatch({ type: 'set-target', count: 20 });
    await eventually(() => engine.live().open === 20, 15_000);
    await engine.dispatch({ type: 'set-target', count: 0 });
    await eventually(() => engine.live().open === 0, 15_000);
    expect(engine.getSnapshot().fleet.open).toBe(0);
    // the last snapshot, taken at the stop, is the first after the users came and went
    const stopped = nextSnapshot(engine, (s) => s.isStopped);
    await engine.stop();
    const last = await stopped;
    expect(last.parts?.map((p) => p.name)).toHaveLength(2);
    // 10 a shard; the sum of the shards' peaks is an upper bound, here reached
    expect(last.fleet).toMatchObject({ open: 0, peakOpen: 20 });
  }, 40_000);
});
