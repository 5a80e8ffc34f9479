import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/test-client.ts';
import { useEngines } from '../../helpers/engines.ts';
import { nextSnapshot } from '../../helpers/next-snapshot.ts';
import { startGraphqlTickServer, type GraphqlTickServer } from '../../helpers/graphql-server.ts';

// A real graphql-ws server (graphql-transport-ws) with a subscription fed by an HTTP call, the
// way a mutation would feed it; `--broadcast-http` triggers it. The server refuses a wrong token.
// The 1,000 users meet graphql-ws's own 12 s keepalive: the server shares the test's loop with the
// generator, and a loaded host stalled that loop past a 300 ms ping's deadline (61 users dropped as
// missed pongs in one run). The tight pings are a test of their own, with few users.
const engines = useEngines();
const isGood = (params: unknown) => (params as { token?: string } | undefined)?.token === 'good';
let server: GraphqlTickServer;
let pinging: GraphqlTickServer;
beforeAll(async () => {
  server = await startGraphqlTickServer(isGood);
  pinging = await startGraphqlTickServer(isGood, 300);
});
afterAll(async () => {
  await server.close();
  await pinging.close();
});

const options = (target = server.url) => ({
  target,
  protocol: 'graphql-ws' as const,
  ratePerSec: 5000,
  snapshotIntervalMs: 250,
  reconnect: { kind: 'fixed' as const, delayMs: 50 },
  broadcastHttp: server.trigger,
  framePaths: { tsPath: 'ticks.ts', seqPath: 'ticks.n' },
});

describe('the graphql-ws preset against a real graphql-ws server', () => {
  it('holds 1,000 subscribed users, delivers a subscription event to every one, and recovers a kill ' +
    'with connection_init redone', async () => {
    const engine = await engines.start(options());
    await engine.dispatch({ type: 'connect-payload', template: '{"token":"good"}' });
    await engine.dispatch({ type: 'on-open', template: '{"query":"subscription { ticks { ts n } }"}' });
    await engine.dispatch({ type: 'check', check: { name: 'n-positive', path: 'ticks.n', op: '>', value: '0' } });
    await engine.dispatch({ type: 'set-target', count: 1000 });
    await eventually(() => engine.live().open === 1000 && server.waiting() === 1000, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await engine.dispatch({ type: 'broadcast', count: 1, sizeBytes: 8 });
    const reached = await nextSnapshot(engine, (s) => (s.checks['n-positive']?.passes ?? 0) >= 1000, 10_000);
    expect(reached.totals.broadcastsReceived).toBe(1000);
    expect(reached.checks['n-positive']).toEqual({ passes: 1000, fails: 0 });
    expect(reached.totals.disconnects).toBe(0);
    await engine.dispatch({ type: 'kill', percent: 20, mode: 'reset', victims: 'random' });
    await eventually(() => engine.live().isRecovered && engine.live().open === 1000, 20_000);
    const after = await nextSnapshot(engine, (s) => s.recovery?.fullMs != null);
    expect(after.recovery).toMatchObject({ dropped: 200, attempts: 200, failures: 0 });
  }, 60_000);

  it('answers every ping: 50 users outlive ten 300 ms keepalives without a drop', async () => {
    const engine = await engines.start(options(pinging.url));
    await engine.dispatch({ type: 'connect-payload', template: '{"token":"good"}' });
    await engine.dispatch({ type: 'on-open', template: '{"query":"subscription { ticks { ts n } }"}' });
    await engine.dispatch({ type: 'set-target', count: 50 });
    await eventually(() => engine.live().open === 50 && pinging.waiting() === 50, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(engine.live().open).toBe(50);
    const held = await nextSnapshot(engine, () => true);
    expect(held.totals.disconnects).toBe(0);
    expect(held.errors).toEqual({});
  }, 30_000);

  it('classifies a refused connection_init, not as other.unknown', async () => {
    const engine = await engines.start(options());
    await engine.dispatch({ type: 'connect-payload', template: '{"token":"wrong"}' });
    await engine.dispatch({ type: 'set-target', count: 5 });
    const refused = await nextSnapshot(engine, (s) => Object.values(s.errors).reduce((a, b) => a + b, 0) >= 5, 10_000);
    expect(Object.keys(refused.errors)).toEqual(['close.4403']);
  }, 30_000);
});
