// Catalog row 12: a mass drop nobody caused on purpose (the target died and came back) gets a
// recovery record of its own, with the same figures as a chaos action.
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { useEngines } from '../helpers/engines.ts';
import { eventually } from '../helpers/test-client.ts';

function listen(port = 0): Promise<WebSocketServer> {
  return new Promise((resolve, reject) => {
    const wss = new WebSocketServer({ port, host: '127.0.0.1' });
    wss.once('listening', () => resolve(wss));
    wss.once('error', reject);
  });
}

function close(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

describe('unplanned outages', () => {
  const engines = useEngines();

  it('records a target that dies and comes back as an outage, with 95%/100% times, attempts and failures', async () => {
    let wss = await listen();
    const port = (wss.address() as { port: number }).port;
    const engine = await engines.start(
      { target: `ws://127.0.0.1:${port}/`, reconnect: { kind: 'fixed', delayMs: 100 }, snapshotIntervalMs: 100 },
      20,
    );
    await close(wss);
    await eventually(() => engine.live().open === 0, 5000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    wss = await listen(port);
    try {
      await eventually(() => engine.live().open === 20 && engine.live().isRecovered, 10_000);
      const snapshot = (await eventually(() => {
        const s = engine.getSnapshot();
        return s.recovery?.fullMs != null ? s : null;
      }, 5000))!;
      const outage = snapshot.recovery!;
      expect(outage).toMatchObject({ action: 'outage', target: 20, dropped: 20 });
      expect(outage.p95Ms).not.toBeNull();
      expect(outage.fullMs!).toBeGreaterThanOrEqual(400);
      expect(outage.failures).toBeGreaterThan(0);
      expect(outage.attempts).toBeGreaterThan(outage.failures);
      expect(snapshot.totals.killed).toBe(0);
    } finally {
      await close(wss);
    }
  });

  it('does not call one stray drop among forty an outage', async () => {
    const wss = await listen();
    try {
      const engine = await engines.start(
        {
          target: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`,
          reconnect: { kind: 'fixed', delayMs: 50 },
          snapshotIntervalMs: 100,
        },
        40,
      );
      [...wss.clients][0]!.terminate();
      await eventually(() => engine.getSnapshot().totals.disconnects === 1 && engine.live().open === 40, 5000);
      expect(engine.getSnapshot().recoveries).toEqual([]);
    } finally {
      await close(wss);
    }
  });
});
