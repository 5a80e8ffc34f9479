/**
 * `sockstorm tune check|apply|restore|probe`. check, apply and restore are tuning's own
 * (tuning/tune-command.ts). `probe` opens real connections from this process to the bundled
 * server until the first failure or the bound, and reports how many it held, how fast, the
 * error class that stopped it, and how far `tune check` predicted it. It drives an engine, so
 * it lives on the console's side: tuning imports nothing of the console.
 */
import { createEngine } from '../engine/engine.ts';
import { errorTotal } from '../engine/measure/snapshot.ts';
import { readFacts } from '../../tuning/facts.ts';
import { capacityFor } from '../../tuning/plan.ts';
import { parseConnections, runTune, TUNE_DEFAULTS, type TuneFlags } from '../../tuning/tune-command.ts';
import { EXIT, ExitError } from '../../target-server/contract/exit-codes.ts';
import { didYouMean } from '../script/did-you-mean.ts';
import { ms, rate } from '../report/format.ts';

/** What a probe found. */
export interface ProbeResult {
  held: number;
  bound: number;
  seconds: number;
  connectsPerSec: number;
  /** The error class of the first failure, or null when the bound was reached. */
  stoppedBy: string | null;
  errors: Record<string, number>;
}

/** Probes up to `bound` connections, within `timeoutMs`. */
export async function probeHost(
  bound: number,
  timeoutMs = 55_000,
  serverEngine: 'uws' | 'ws' = 'uws',
): Promise<ProbeResult> {
  const engine = await createEngine({
    serverEngine,
    ratePerSec: 1_000_000,
    maxInFlight: 500,
    reconnect: { kind: 'off' },
    snapshotIntervalMs: 250,
  });
  const started = performance.now();
  try {
    await engine.dispatch({ type: 'set-target', count: bound });
    let held = 0;
    let failures = 0;
    // a failure usually means a limit was hit: stop growing and count what is open
    while (performance.now() - started < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const live = engine.live();
      held = live.open;
      failures = errorTotal(engine.getSnapshot().errors);
      if (held >= bound || failures > 0 || engine.getSnapshot().totals.failures > 0) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const snapshot = engine.getSnapshot();
    held = Math.max(held, engine.live().open);
    const seconds = (performance.now() - started) / 1000;
    const stoppedBy =
      Object.entries(snapshot.errors).sort((a, b) => b[1] - a[1])[0]?.[0] ?? (held >= bound ? null : 'timeout');
    return { held, bound, seconds, connectsPerSec: held / seconds, stoppedBy, errors: snapshot.errors };
  } finally {
    await engine.stop();
  }
}

/** `sockstorm tune probe [--max N] [--json]`; resolves with the exit code. */
export async function runProbe(flags: { max?: string; json?: boolean; procRoot?: string }): Promise<number> {
  const facts = readFacts(flags.procRoot ?? TUNE_DEFAULTS.procRoot);
  const check = capacityFor({ facts, connections: TUNE_DEFAULTS.connections, sourceAddresses: 1 });
  const bound = parseConnections(
    flags.max,
    Math.min(Number.isFinite(check.capacity) ? Math.ceil(check.capacity * 1.05) : 30_000, 60_000),
  );
  if (typeof bound === 'string') {
    console.error(`sockstorm tune: ${bound.replace('--connections', '--max')}`);
    return EXIT.invalid;
  }
  const predicted = capacityFor({ facts, connections: bound, sourceAddresses: 1 });
  const probe = await probeHost(bound);
  // a probe that reached its bound below the predicted capacity says nothing about the prediction
  const off =
    Number.isFinite(predicted.capacity) && !(probe.stoppedBy === null && bound < predicted.capacity)
      ? ((probe.held - predicted.capacity) / predicted.capacity) * 100
      : null;
  if (flags.json) {
    console.log(
      JSON.stringify({ probe, predicted: predicted.capacity, binding: predicted.binding, offPercent: off }, null, 2),
    );
    return EXIT.passed;
  }
  console.log(
    `probe: held ${probe.held.toLocaleString('en-US')} of ${bound.toLocaleString('en-US')} in ` +
      `${ms(probe.seconds * 1000)} (${rate(probe.connectsPerSec)}); stopped by ` +
      `${probe.stoppedBy ?? 'the bound'}`,
  );
  const predictedCount = Number.isFinite(predicted.capacity) ? predicted.capacity.toLocaleString('en-US') : 'unknown';
  const howFar = off === null ? '' : `; probe is ${off >= 0 ? '+' : ''}${off.toFixed(2)}% off`;
  console.log(`check predicted ${predictedCount} (binding: ${predicted.binding ?? 'none'})${howFar}`);
  return EXIT.passed;
}

/** What `sockstorm tune` does: its actions, in the order its help lists them. */
export const TUNE_ACTIONS: readonly string[] = ['check', 'apply', 'restore', 'probe'];

/** `sockstorm tune ACTION`: check, apply and restore are tuning's own; probe drives an engine, so it is here. */
export async function runTuneCommand(action: string, flags: TuneFlags): Promise<number> {
  if (!TUNE_ACTIONS.includes(action))
    throw new ExitError(
      `tune: unknown action "${action}"${didYouMean(action, TUNE_ACTIONS)}; use ${TUNE_ACTIONS.join(', ')}`,
      EXIT.invalid,
      'cli.action',
    );
  return action === 'probe' ? runProbe(flags) : runTune(action, flags);
}
