/**
 * `sockstorm console`: starts the engine (and the bundled server unless a target is given),
 * renders the Ink console at most 10 frames a second, and on quit restores the terminal,
 * stops the fleet gracefully and prints what the session did.
 */
import { render } from 'ink';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import { engineOptions, type Flags } from '../cli-options.ts';
import { createEngine } from '../engine/engine.ts';
import { errorTotal } from '../engine/measure/snapshot.ts';
import { withHostLimit } from '../host-check.ts';
import type { EngineOptions } from '../engine/engine-options.ts';
import { ConsoleSession } from '../script/console-session.ts';
import { endpointExposure, endpointPlace, startMetricsEndpoint } from '../report/metrics-endpoint.ts';
import { App } from '../ui/app.tsx';

/** `sockstorm console`: the console, when there is a terminal to draw it on; resolves with the exit code. */
export async function openConsole(flags: Flags): Promise<number> {
  if (!process.stdin.isTTY) {
    process.stderr.write('sockstorm: the console needs a terminal; use `sockstorm run script.storm` to run headless\n');
    return EXIT.invalid;
  }
  return runConsole(
    engineOptions(flags),
    flags.metricsPort as number | undefined,
    flags.metricsHost as string | undefined,
  );
}

/** Runs the console until the operator quits; resolves with the exit code. */
export async function runConsole(
  options: EngineOptions,
  metricsPort?: number,
  metricsHost = '127.0.0.1',
): Promise<number> {
  process.stderr.write('sockstorm: starting…\n');
  // a stop while the engine starts (agents joining): agents that joined are told the run is over
  const starting = new AbortController();
  const onSignal = (): void => {
    if (!options.agents || starting.signal.aborted) process.exit(EXIT.signal);
    process.stderr.write(
      'sockstorm: stopping: the agents that joined are told the run is over (Ctrl+C again to exit at once)\n',
    );
    starting.abort();
    setTimeout(() => process.exit(EXIT.signal), 5000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const engine = await createEngine(withHostLimit(options), starting.signal).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  const endpoint =
    metricsPort === undefined
      ? null
      : await startMetricsEndpoint(engine, metricsHost, metricsPort).catch(async (error: Error) => {
          await engine.stop();
          throw error;
        });
  if (endpoint) {
    // the event log, not stderr: Ink draws over what was printed before it, and the console's
    // operator is the one who attaches a dashboard or a scraper to this URL
    engine.log('info', endpointPlace(endpoint));
    const exposure = endpointExposure(metricsHost);
    if (exposure) engine.log('warn', `metrics endpoint ${exposure}`);
  }
  const session = new ConsoleSession(engine);
  let isQuitting = false;
  const instance = render(
    <App
      engine={engine}
      session={session}
      onQuit={() => {
        isQuitting = true;
      }}
    />,
    {
      exitOnCtrlC: false,
      maxFps: 10,
      patchConsole: true,
    },
  );
  // SIGTERM (a deleted pod, a `kill`) ends the session as `q` would, and says so in the exit code
  let isSignalled = false;
  const onTerm = (): void => {
    isSignalled = true;
    instance.unmount();
  };
  process.once('SIGTERM', onTerm);
  await instance.waitUntilExit();
  process.off('SIGTERM', onTerm);
  session.dispose();
  // a second Ctrl+C while the fleet closes exits at once
  process.once('SIGINT', () => process.exit(EXIT.signal));
  process.stderr.write(`sockstorm: ${isQuitting ? 'stopping the fleet' : 'console closed'}…\n`);
  const last = engine.getSnapshot();
  await endpoint?.close();
  await engine.stop();
  const errors = errorTotal(last.errors);
  process.stdout.write(
    `sockstorm: session ended after ${(last.elapsedMs / 1000).toFixed(0)} s: ${last.fleet.open} open ` +
      `at the end, ${last.totals.connects} connects, ${last.totals.killed} killed, ${errors} errors. ` +
      `Type ":save FILE" in a session to keep it as a script.\n`,
  );
  return isSignalled ? EXIT.signal : 0;
}
