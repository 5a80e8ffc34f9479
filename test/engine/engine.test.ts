import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createEngine } from '../../console/engine/engine.ts';
import { EngineConfigError } from '../../console/engine/engine-options.ts';
import { eventually } from '../helpers/test-client.ts';
import { useEngines } from '../helpers/engines.ts';
import { nextSnapshot } from '../helpers/next-snapshot.ts';

const engines = useEngines();

describe('engine against the bundled server', () => {
  it('says before the fleet hits the wall when a target is beyond what the entry found this host can hold', async () => {
    const engine = await engines.start({
      ratePerSec: 2000,
      snapshotIntervalMs: 250,
      hostLimit: { capacity: 10, binding: 'open files per process' },
    });
    await engine.dispatch({ type: 'set-target', count: 5 });
    await engine.dispatch({ type: 'add', count: 10 });
    const s = await nextSnapshot(engine, (snap) => snap.events.some((e) => e.level === 'warn'));
    const warnings = s.events.filter((e) => e.level === 'warn').map((e) => e.text);
    expect(warnings).toEqual([
      'target 15 exceeds what this host can hold (10, bound by open files per process); see sockstorm ' +
        'tune check --connections 15',
    ]);
  });

  it('ramps to exactly 200 open, removes 50 to 150, and the server agrees each time', async () => {
    const engine = await engines.start({ ratePerSec: 2000, snapshotIntervalMs: 250 });
    await engine.dispatch({ type: 'ramp', count: 200, overMs: 500 });
    await eventually(() => engine.live().open === 200, 15_000);
    const atRamp = await nextSnapshot(engine, (s) => s.server?.connections === 200);
    expect(atRamp.fleet).toMatchObject({ target: 200, open: 200, connecting: 0, pending: 0 });
    expect(atRamp.totals).toMatchObject({ attempts: 200, connects: 200, failures: 0 });
    await engine.dispatch({ type: 'remove', count: 50 });
    const afterRemove = await nextSnapshot(engine, (s) => s.server?.connections === 150 && s.fleet.closing === 0);
    expect(afterRemove.fleet).toMatchObject({ target: 150, open: 150, closed: 0 });
    expect(afterRemove.totals.disconnects).toBe(0);
    expect(afterRemove.errors).toEqual({});
  });

  it('kills 20% of 100 with reset, counts 20 drops, and expo brings every one back with recovery times', async () => {
    const engine = await engines.start({ ratePerSec: 5000, snapshotIntervalMs: 250 }, 100);
    await engine.dispatch({ type: 'reconnect', policy: { kind: 'expo', minMs: 50, maxMs: 1000, jitter: 'full' } });
    const result = await engine.dispatch({ type: 'kill', percent: 20, mode: 'reset', victims: 'random' });
    expect(result.message).toContain('dropped 20 of 100');
    expect(engine.live().open).toBe(80);
    await eventually(() => engine.live().isRecovered, 15_000);
    const s = await nextSnapshot(engine, (snap) => snap.server?.connections === 100 && snap.recovery?.fullMs != null);
    expect(s.totals.killed).toBe(20);
    expect(s.totals.disconnects).toBe(20);
    expect(s.latency.reconnect.count).toBe(20);
    expect(s.recovery).toMatchObject({ action: 'kill 20% reset', dropped: 20, target: 100, attempts: 20, failures: 0 });
    expect(s.recovery!.p95Ms).toBeGreaterThan(0);
    expect(s.recovery!.fullMs).toBeGreaterThanOrEqual(s.recovery!.p95Ms!);
    expect(s.errors).toEqual({});
  });

  it(
    'reaches 100% with 0 missed over 5 broadcasts, then counts as cut, not missed, exactly the seqs ' +
      'sent while killed users were down',
    async () => {
      const engine = await engines.start(
        { ratePerSec: 5000, snapshotIntervalMs: 250, reconnect: { kind: 'fixed', delayMs: 1500 } },
        50,
      );
      await engine.dispatch({ type: 'broadcast', count: 5, sizeBytes: 32 });
      const settled = await nextSnapshot(engine, (s) => s.broadcastsSettled === 5);
      expect(settled.broadcasts.map((b) => [b.seq, b.receivers, b.reach])).toEqual(
        [1, 2, 3, 4, 5].map((seq) => [seq, 50, 1]),
      );
      expect(settled.totals.missed).toBe(0);
      // 10 users are down for 1.5 s while 3 broadcasts go out; then one more reaches everyone
      await engine.dispatch({ type: 'kill', percent: 20, mode: 'reset', victims: 'oldest' });
      await engine.dispatch({ type: 'broadcast', count: 3, sizeBytes: 32 });
      await eventually(() => engine.live().open === 50, 15_000);
      await engine.dispatch({ type: 'broadcast', count: 1, sizeBytes: 32 });
      const after = await nextSnapshot(engine, (s) => s.broadcastsSettled === 9);
      // reach counts users ready for the topic when it was sent (40 of 40); the 10 the kill cut
      // see gaps, which are the tool's cut, not the server's loss
      expect(after.broadcasts.slice(5, 8).map((b) => [b.openAtSend, b.receivers, b.reach])).toEqual([
        [40, 40, 1],
        [40, 40, 1],
        [40, 40, 1],
      ]);
      expect(after.broadcasts[8]).toMatchObject({ seq: 9, receivers: 50, reach: 1 });
      expect(after.totals.killed).toBe(10);
      expect(after.totals.missed).toBe(0);
      expect(after.totals.cut).toBe(10 * 3);
    },
  );

  it('asks the bundled server to kill 20%, counts those drops as chaos rather than errors, and recovers', async () => {
    const engine = await engines.start(
      { ratePerSec: 5000, snapshotIntervalMs: 250, reconnect: { kind: 'fixed', delayMs: 200 } },
      50,
    );
    const result = await engine.dispatch({ type: 'kill', percent: 20, mode: 'server', victims: 'random' });
    expect(result.message).toContain('the server dropped 10');
    const s = await nextSnapshot(
      engine,
      (snap) => snap.recovery?.fullMs != null && snap.server?.connections === 50 && snap.server.closedByKill === 10,
    );
    expect(s.totals.killed).toBe(10);
    expect(s.totals.disconnects).toBe(10);
    expect(s.errors).toEqual({});
    expect(s.recovery).toMatchObject({ action: 'kill 20% server', dropped: 10, attempts: 10 });
  });

  it('spreads users over several bundled server processes and drives them as one', async () => {
    const engine = await engines.start(
      { servers: 2, ratePerSec: 5000, snapshotIntervalMs: 250, reconnect: { kind: 'fixed', delayMs: 100 } },
      100,
    );
    const held = await nextSnapshot(engine, (s) => s.server?.connections === 100);
    expect(held.target.endpoints).toBe(2);
    expect(held.server!.subscribers.all).toBe(100);
    await engine.dispatch({ type: 'broadcast', count: 2, sizeBytes: 8 });
    const reached = await nextSnapshot(engine, (s) => s.broadcastsSettled === 2 && s.server?.seq.all === 2);
    expect(reached.broadcasts.map((b) => [b.seq, b.receivers, b.reach])).toEqual([
      [1, 100, 1],
      [2, 100, 1],
    ]);
    expect((await engine.dispatch({ type: 'kill', percent: 20, mode: 'server', victims: 'random' })).message).toContain(
      'the server dropped 20',
    );
    const after = await nextSnapshot(
      engine,
      (s) => s.recovery?.fullMs != null && s.server?.connections === 100 && s.server.closedByKill === 20,
    );
    expect(after.totals.killed).toBe(20);
    expect(after.errors).toEqual({});
  });

  it('shows a server workMs of 20 as at least 20 ms more RTT p50 (a known answer)', async () => {
    const engine = await engines.start({ ratePerSec: 5000, snapshotIntervalMs: 500 }, 10);
    await engine.dispatch({ type: 'probe', perSec: 50 });
    await nextSnapshot(engine, (s) => s.interval.rtt.count >= 10);
    const base = await nextSnapshot(engine, (s) => s.interval.rtt.count >= 10);
    await engine.dispatch({ type: 'server', knob: 'workMs', value: 20 });
    await nextSnapshot(engine, () => true);
    const slow = await nextSnapshot(engine, (s) => s.interval.rtt.count >= 10);
    expect(slow.interval.rtt.p50 - base.interval.rtt.p50).toBeGreaterThanOrEqual(20);
  });

  it('refuses an invalid URL before any socket opens', async () => {
    await expect(createEngine({ target: 'http://127.0.0.1:1/' })).rejects.toBeInstanceOf(EngineConfigError);
    await expect(createEngine({ target: 'not a url' })).rejects.toMatchObject({ code: 'config.url' });
  });

  it('stops with every socket and the server process gone', async () => {
    const before = new Set(process.getActiveResourcesInfo());
    const e = await createEngine({ ratePerSec: 5000 });
    await e.dispatch({ type: 'set-target', count: 30 });
    await eventually(() => e.live().open === 30, 15_000);
    await e.stop();
    await e.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const left = process
      .getActiveResourcesInfo()
      .filter((r) => r === 'TCPSocketWrap' || r === 'ProcessWrap' || r === 'Timeout');
    expect(left.length).toBeLessThanOrEqual([...before].filter((r) => r === 'Timeout').length);
    expect(e.getSnapshot()).toMatchObject({ isStopped: true, fleet: { open: 0, connecting: 0, closing: 0 } });
  });
});

describe('engine against a plain ws server', () => {
  it("adds a command's own line to the event log of the next snapshot, its words made printable", async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    try {
      const port = (wss.address() as { port: number }).port;
      const engine = await engines.start({ target: `ws://127.0.0.1:${port}/`, snapshotIntervalMs: 100 });
      engine.log('info', 'metrics at http://127.0.0.1:9464/metrics');
      engine.log('warn', 'a bell\u0007 and an escape\u001b[2J');
      const s = await nextSnapshot(engine, (snap) => snap.events.some((e) => e.level === 'warn'));
      expect(s.events.slice(-2).map(({ level, text }) => ({ level, text }))).toEqual([
        { level: 'info', text: 'metrics at http://127.0.0.1:9464/metrics' },
        { level: 'warn', text: 'a bell\\x07 and an escape\\x1b[2J' },
      ]);
    } finally {
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('classifies a refused target and a 503 upgrade, and keeps running', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: () => false });
    await new Promise((resolve) => wss.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    const refusing = await engines.start({ target: `ws://127.0.0.1:${port}/`, reconnect: { kind: 'off' } });
    await refusing.dispatch({ type: 'set-target', count: 5 });
    await eventually(() => refusing.getSnapshot().totals.failures === 5, 10_000);
    expect(Object.keys(refusing.getSnapshot().errors)).toEqual(['handshake.http_401']);
    await refusing.stop();
    await new Promise((resolve) => wss.close(resolve));
    const gone = await engines.start({ target: `ws://127.0.0.1:${port}/`, reconnect: { kind: 'off' } });
    await gone.dispatch({ type: 'set-target', count: 3 });
    await eventually(() => gone.getSnapshot().errors['tcp.refused'] === 3, 10_000);
  });

  it('opens exactly 200 and the server agrees; broadcasts sent by a VU reach everyone', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        for (const client of wss.clients) client.send(data.toString());
      }),
    );
    const port = (wss.address() as { port: number }).port;
    const engine = await engines.start({
      target: `ws://127.0.0.1:${port}/`,
      ratePerSec: 5000,
      snapshotIntervalMs: 250,
      broadcastSend: '{"kind":"news","n":{{n}},"sentAt":{{now}}}',
      framePaths: { seqPath: 'n', tsPath: 'sentAt', topicPath: 'kind' },
    });
    try {
      await engine.dispatch({ type: 'set-target', count: 200 });
      await eventually(() => engine.live().open === 200 && wss.clients.size === 200, 15_000);
      await engine.dispatch({ type: 'broadcast', count: 3, sizeBytes: 0 });
      const s = await nextSnapshot(engine, (snap) => snap.broadcastsSettled === 3);
      expect(s.broadcasts.map((b) => [b.topic, b.seq, b.receivers])).toEqual([
        ['news', 1, 200],
        ['news', 2, 200],
        ['news', 3, 200],
      ]);
      expect(s.totals.missed).toBe(0);
      expect(s.latency.fanout.count).toBe(600);
    } finally {
      await engine.stop();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('kills with reset as a TCP RST (the server reads ECONNRESET) and with close as a close frame ' +
    '1001 "chaos"', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    const resets: string[] = [];
    const closes: Array<[number, string]> = [];
    wss.on('connection', (ws, request) => {
      request.socket.on('error', (error: Error & { code?: string }) => resets.push(error.code ?? error.message));
      ws.on('close', (code, reason) => closes.push([code, reason.toString()]));
    });
    const port = (wss.address() as { port: number }).port;
    const engine = await engines.start({
      target: `ws://127.0.0.1:${port}/`,
      ratePerSec: 1000,
      snapshotIntervalMs: 250,
      reconnect: { kind: 'off' },
    });
    try {
      await engine.dispatch({ type: 'set-target', count: 20 });
      await eventually(() => engine.live().open === 20 && wss.clients.size === 20, 10_000);
      await engine.dispatch({ type: 'kill', percent: 25, mode: 'reset', victims: 'oldest' });
      await eventually(() => closes.length === 5, 10_000);
      expect(resets).toEqual(Array(5).fill('ECONNRESET'));
      expect(closes.every(([code]) => code === 1006)).toBe(true);
      // a quarter of the 15 still open, rounded
      await engine.dispatch({ type: 'kill', percent: 25, mode: 'close', victims: 'oldest' });
      await eventually(() => closes.length === 9, 10_000);
      expect(closes.slice(5)).toEqual(Array(4).fill([1001, 'chaos']));
      expect(resets).toHaveLength(5);
    } finally {
      await engine.stop();
      await new Promise((resolve) => wss.close(resolve));
    }
  }, 20_000);
});
