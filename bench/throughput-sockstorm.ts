/**
 * sockstorm's side of the throughput bench (bench/throughput-floor.ts is the floor's): the
 * engine in a process of its own, bundled and run on plain Node as `sockstorm` runs it, told
 * `messages` at a rate far beyond what one core sends, so it sends what it sustains. Its
 * counters are read at its snapshots, which fold them. Prints one JSON line of figures.
 *
 *   node BUNDLE/throughput-sockstorm.mjs URL COUNT SECONDS
 */
import { createEngine } from '../console/engine/engine.ts';
import { settle } from './bench-util.ts';
import {
  MESSAGE_TEMPLATE,
  type RateSample,
  rateSample,
  ratesOver,
  SETTLE_MS,
  throughputArgs,
  WARMUP_MS,
} from './throughput-phases.ts';

// far more than a core sends: the generator is saturated, and sends what it sustains
const ASKED_PER_SEC = 2_000_000;

const { url, count, seconds } = throughputArgs();
const engine = await createEngine({ target: url, ratePerSec: 1_000_000, maxInFlight: 500 });
const started = performance.now();
await engine.dispatch({ type: 'set-target', count });
while (engine.live().open < count && performance.now() - started < 120_000) await settle(2);
await settle(SETTLE_MS);

const samples: RateSample[] = [];
const unsubscribe = engine.subscribe((s) => samples.push(rateSample(s.totals.messagesOut, s.totals.messagesIn)));
const startedAt = performance.now();
await engine.dispatch({ type: 'messages', perSec: ASKED_PER_SEC, template: MESSAGE_TEMPLATE });
await settle(WARMUP_MS + seconds * 1000 + 1500);
await engine.dispatch({ type: 'messages', perSec: 0, template: '' });
unsubscribe();
const last = engine.getSnapshot();
const errors = Object.values(last.errors).reduce((a, b) => a + b, 0);
const figures = { ...ratesOver(samples, startedAt + WARMUP_MS, seconds), open: last.fleet.open, errors };
await engine.stop();
process.stdout.write(`${JSON.stringify(figures)}\n`);
process.exit(0);
