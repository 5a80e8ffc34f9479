import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/test-client.ts';
import { useEngines } from '../../helpers/engines.ts';
import { nextSnapshot } from '../../helpers/next-snapshot.ts';
import { startGraphqlTickServer, type GraphqlTickServer } from '../../helpers/graphql-server.ts';

// A real graphql-ws server (graphql-transport-ws) with a subscription fed by an HTTP call, the
// way a mutation would feed it; `--broadcast-http` triggers it. The server refuses a wrong token.
const engines = useEngines();
let server: GraphqlTickServer;
beforeAll(async () => {
  server = await startGraphqlTickServer((params) => (params as { token?: string } | undefined)?.token === 'good', 300);
});
afterAll(() => server.close());

const options = () => ({
  target: server.url,
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

  it('classifies a refused connection_init, not as other.unknown', async () => {
    const engine = await engines.start(options());
    await engine.dispatch({ type: 'connect-payload', template: '{"token":"wrong"}' });
    await engine.dispatch({ type: 'set-target', count: 5 });
    const refused = await nextSnapshot(engine, (s) => Object.values(s.errors).reduce((a, b) => a + b, 0) >= 5, 10_000);
    expect(Object.keys(refused.errors)).toEqual(['close.4403']);
  }, 30_000);
});
