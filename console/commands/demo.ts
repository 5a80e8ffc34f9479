/**
 * `sockstorm` with no command (`sockstorm demo`): with a terminal, the console on the bundled
 * server; where stdout is not a terminal, or CI is set, the built-in demo (examples/demo.storm:
 * ramp, burst, chaos) headless, so the main job runs everywhere.
 */
import { join } from 'node:path';
import { engineOptions, type Flags } from '../cli-options.ts';
import { PACKAGE_ROOT } from '../runtime.ts';

const DEMO = join(PACKAGE_ROOT, 'examples', 'demo.storm');

/** Runs the console or the headless demo; resolves with the exit code. */
export async function runDemo(flags: Flags): Promise<number> {
  const isInteractive = Boolean(process.stdout.isTTY && process.stdin.isTTY) && !process.env.CI;
  // the console (ink, react) is loaded only when it is used
  if (isInteractive) return (await import('./console.tsx')).openConsole(flags);
  const { runScriptFile } = await import('./run.ts');
  return runScriptFile(DEMO, engineOptions(flags), {
    metricsPort: flags.metricsPort as number | undefined,
    metricsHost: flags.metricsHost as string | undefined,
    metricsLinger: flags.metricsLinger as number | undefined,
    otlp: flags.otlp as string | undefined,
  });
}
