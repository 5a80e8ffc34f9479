/**
 * `sockstorm tune probe` on this host: opens connections from one process to the bundled
 * server until the first failure (bounded, within 60 s) and sets it beside `tune check`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));

/** Runs the probe and prints where it stopped, why, and how far off the prediction was. */
export async function runTuneProbeBench(): Promise<void> {
  console.log('\n## tune probe: one generator process against the bundled server until the first failure');
  const started = performance.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [BIN, 'tune', 'probe', '--json'], { timeout: 90_000 }, (error, out, err) =>
      error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
    );
  });
  const report = JSON.parse(stdout) as {
    probe: { held: number; bound: number; seconds: number; connectsPerSec: number; stoppedBy: string | null };
    predicted: number;
    binding: string;
    offPercent: number;
  };
  console.table([
    {
      held: report.probe.held,
      bound: report.probe.bound,
      'stopped by': report.probe.stoppedBy ?? 'the bound',
      'check predicted': report.predicted,
      binding: report.binding,
      'off %': report.offPercent.toFixed(2),
      'connects/s': report.probe.connectsPerSec.toFixed(0),
      'wall s': ((performance.now() - started) / 1000).toFixed(1),
    },
  ]);
}
