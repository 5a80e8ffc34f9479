/**
 * The `sockstorm` program: its commands, each with its options (from the option table,
 * cli-options.ts), its help's examples (cli-examples.ts) and exit codes, and the action that
 * loads it from console/commands/. Building it runs nothing: cli.ts parses the process's
 * arguments with it, and a test parses every help's example with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  AGENT_OPTIONS,
  COMPARE_OPTIONS,
  DASHBOARD_OPTIONS,
  FLEET_OPTIONS,
  type Flags,
  OUTPUT_OPTIONS,
  TUNE_OPTIONS,
  withOptions,
} from './cli-options.ts';
import { examplesHelp } from './cli-examples.ts';
import { EXIT, exitCodeHelp } from '../target-server/contract/exit-codes.ts';
import { PACKAGE_ROOT } from './runtime.ts';

const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const RUN_EXITS = [
  EXIT.passed,
  EXIT.error,
  EXIT.failed,
  EXIT.inconclusive,
  EXIT.invalid,
  EXIT.signal,
  EXIT.host,
  EXIT.output,
] as const;
const CONSOLE_EXITS = [EXIT.passed, EXIT.error, EXIT.invalid, EXIT.signal] as const;

/** Sets the process's exit code to what a command resolved with. */
const exitWith = async (run: Promise<number>): Promise<void> => {
  process.exitCode = await run;
};

/** Builds the program; an action runs only when its command is parsed. */
export async function buildProgram(): Promise<Command> {
  const program = new Command('sockstorm')
    .description('a load-and-chaos console for WebSocket systems')
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .showSuggestionAfterError(false);
  withOptions(program.command('run <script>'), [...FLEET_OPTIONS, ...OUTPUT_OPTIONS])
    .description(
      'run a script of console commands headless, with thresholds and an exit code (- reads the script from stdin)',
    )
    .addHelpText('after', examplesHelp('run') + exitCodeHelp(RUN_EXITS))
    .action((script: string, flags) => exitWith(import('./commands/run.ts').then((m) => m.runCommand(script, flags))));

  // compare starts fresh bundled servers for each variant: the
  // options of a target, agents and a live endpoint do not apply
  withOptions(
    program
      .command('compare <inputs...>')
      .description(
        'one script against several setups of the bundled server (--variant, twice or more), or saved ' +
          '`run --json` summaries (a.json b.json …), side by side',
      ),
    [...COMPARE_OPTIONS, ...OUTPUT_OPTIONS, ...FLEET_OPTIONS],
    [
      '--ndjson',
      '--target',
      '--targets',
      '--agents',
      '--listen',
      '--token',
      '--tls-cert',
      '--tls-key',
      '--agents-timeout',
      '--metrics-port',
      '--metrics-host',
      '--metrics-linger',
      '--otlp',
    ],
  )
    .addHelpText('after', examplesHelp('compare') + exitCodeHelp(RUN_EXITS))
    .action((inputs: string[], flags) =>
      exitWith(import('./commands/compare.ts').then((m) => m.runCompareCommand(inputs, flags))),
    );

  program
    .command('server')
    .description('the bundled target server (see `sockstorm server --help`)')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[args...]')
    .action(async (args: string[]) => (await import('./commands/server.ts')).runServer(args));

  withOptions(program.command('tune <action>'), TUNE_OPTIONS)
    .description('host limits: check (exit 106 if the host cannot hold N), apply, restore, probe')
    .addHelpText('after', examplesHelp('tune') + exitCodeHelp([EXIT.passed, EXIT.error, EXIT.invalid, EXIT.host]))
    .action((action: string, flags) =>
      exitWith(import('./commands/tune.ts').then((m) => m.runTuneCommand(action, flags))),
    );

  withOptions(program.command('agent'), AGENT_OPTIONS)
    .description(
      'a load generator for a coordinator on another host (run|console --agents N --listen HOST:PORT ' +
        '--token T): dials out, runs its share, exits when the run ends',
    )
    .addHelpText('after', examplesHelp('agent') + exitCodeHelp([EXIT.passed, EXIT.error, EXIT.invalid]))
    .action((flags) => exitWith(import('./commands/agent.ts').then((m) => m.runAgentCommand(flags))));

  withOptions(program.command('dashboard'), DASHBOARD_OPTIONS)
    .description(
      'a full-screen wall in its own terminal (80x24 or more), attached to a run or console started ' +
        'with --metrics-port; without --attach it runs the demo (or --run FILE) headless, watches it, ' +
        'and after q prints its verdict and exits with its code',
    )
    // the keys' one home is the dashboard's keys.ts (small, no terminal library): the help is derived from it
    .addHelpText(
      'after',
      (await import('./dashboard/keys.ts')).keysHelp() +
        examplesHelp('dashboard') +
        exitCodeHelp([EXIT.passed, EXIT.error, EXIT.failed, EXIT.inconclusive, EXIT.invalid, EXIT.signal, EXIT.host]),
    )
    .action((flags) => exitWith(import('./commands/dashboard.ts').then((m) => m.runDashboard(flags))));

  withOptions(program.command('console'), FLEET_OPTIONS)
    .description('the interactive console (needs a terminal)')
    .addHelpText('after', examplesHelp('console') + exitCodeHelp(CONSOLE_EXITS))
    .action((flags: Flags) => exitWith(import('./commands/console.tsx').then((m) => m.openConsole(flags))));

  withOptions(program.command('demo', { isDefault: true }), FLEET_OPTIONS)
    .description(
      'with a terminal: the console on the bundled server; otherwise (or with CI set) the demo experiment headless',
    )
    .addHelpText('after', examplesHelp('demo') + exitCodeHelp(RUN_EXITS))
    .action((flags: Flags) => exitWith(import('./commands/demo.ts').then((m) => m.runDemo(flags))));
  return program;
}
