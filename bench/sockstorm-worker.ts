/**
 * sockstorm's side of the engine bench (bench/floor-worker.ts is the floor's): the engine in
 * a process of its own, bundled and run on plain Node as `sockstorm` runs it, so its RSS is
 * its own. Prints one JSON line of figures on stdout.
 *
 *   node --expose-gc BUNDLE/sockstorm-worker.mjs URL ADMIN_URL TOKEN COUNT
 *
 * The phases (the same on both sides, from bench/bench-phases.ts): open COUNT users (no rate
 * limit, 500 handshakes in flight), settle, RSS; the fleet idle for 3 s (loop delay); echo RTT
 * at 1,000/s for 10 s, timed from the intended send time; 5 broadcasts of 64 B, 1 s apart.
 */
import { AdminClient } from '../console/engine/bundled/admin-client.ts';
import { createEngine } from '../console/engine/engine.ts';
import { dialSources } from '../console/engine/users/sources.ts';
import { broadcastAll, loadDuring, PHASES, rssAfterGc, workerArgs } from './bench-phases.ts';
import { settle } from './bench-util.ts';

const { url, adminUrl, token, count: COUNT } = workerArgs();
const admin = new AdminClient(adminUrl, token);
const {
  broadcasts: BROADCASTS,
  probeRate: PROBE_RATE,
  probeSeconds: PROBE_SECONDS,
  idleSeconds: IDLE_SECONDS,
} = PHASES;

async function sockstorm(): Promise<Record<string, number>> {
  // the connect rate unbounded, as the floor's; the same 500 handshakes in flight; the server is
  // a bundled one started by the bench, so users dial from its loopback pool, as `sockstorm` does
  const localAddresses = dialSources([url], [], true);
  const engine = await createEngine({
    target: url,
    ratePerSec: 1_000_000,
    maxInFlight: PHASES.inFlight,
    localAddresses,
  });
  const started = performance.now();
  await engine.dispatch({ type: 'set-target', count: COUNT });
  while (engine.live().open < COUNT && performance.now() - started < 120_000) await settle(2);
  const openMs = performance.now() - started;
  const open = engine.live().open;
  await settle(2000);
  const rss = rssAfterGc();
  const idle = await loadDuring(() => settle(IDLE_SECONDS * 1000));
  const probing = await loadDuring(async () => {
    await engine.dispatch({ type: 'probe', perSec: PROBE_RATE });
    await settle(PROBE_SECONDS * 1000);
    await engine.dispatch({ type: 'probe', perSec: 0 });
    // the last second's samples join the run's histogram at the next snapshot
    await settle(1500);
  });
  const afterProbes = engine.getSnapshot();
  const fanning = await loadDuring(() => broadcastAll(admin));
  const s = engine.getSnapshot();
  await engine.stop();
  return {
    open,
    openMs,
    rssBytes: rss,
    idleLoopP99: idle.loopP99,
    rttP50: afterProbes.latency.rtt.p50,
    rttP90: afterProbes.latency.rtt.p90,
    rttP99: afterProbes.latency.rtt.p99,
    rttMax: afterProbes.latency.rtt.max,
    rttSamples: afterProbes.latency.rtt.count,
    rttLoopP99: probing.loopP99,
    rttCpu: probing.cpuPercent,
    fanoutP50: s.latency.fanout.p50,
    fanoutP99: s.latency.fanout.p99,
    reach: s.totals.broadcastsReceived / (BROADCASTS * open),
    fanoutLoopP99: fanning.loopP99,
    errors: Object.values(s.errors).reduce((a, b) => a + b, 0),
    saturatedIntervals: s.saturatedIntervals,
  };
}

const result = await sockstorm();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
