/**
 * `sockstorm`: wires commander to the commands, and nothing else. Each command starts in
 * console/commands/ (loaded when it runs) and reads its flags from the option table
 * (cli-options.ts); what a command ends with becomes the process's exit status here, in one
 * place (exitStatusOf).
 *
 *   sockstorm                      the console, or the demo headless when stdout is not a TTY or CI is set
 *   sockstorm run script.storm     a script, headless, with thresholds and an exit code
 *   sockstorm compare SCRIPT --variant NAME:KNOBS …   the same script on several server setups
 *   sockstorm console | server | tune | agent | dashboard
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
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
import { maskCredentials } from './engine/protocols/shown-text.ts';
import { EXIT, ExitError, exitCodeHelp } from '../target-server/contract/exit-codes.ts';
import { PACKAGE_ROOT } from './runtime.ts';

const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const program = new Command('sockstorm')
  .description('a load-and-chaos console for WebSocket systems')
  .version(VERSION, '-V, --version', 'print the version')
  .exitOverride()
  .showHelpAfterError();

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

withOptions(program.command('run <script>'), [...FLEET_OPTIONS, ...OUTPUT_OPTIONS])
  .description('run a script of console commands headless, with thresholds and an exit code')
  .addHelpText('after', exitCodeHelp(RUN_EXITS))
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
  .addHelpText(
    'after',
    '\nExample:\n  sockstorm compare examples/event-loop.storm --variant ' +
      'ws-loop:engine=ws,fanout=loop --variant uws:engine=uws --report compare.html\n  sockstorm ' +
      'compare before.json after.json\n' +
      exitCodeHelp(RUN_EXITS),
  )
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
  .addHelpText('after', exitCodeHelp([EXIT.passed, EXIT.error, EXIT.invalid, EXIT.host]))
  .action((action: string, flags) =>
    exitWith(import('./commands/tune.ts').then((m) => m.runTuneCommand(action, flags))),
  );

withOptions(program.command('agent'), AGENT_OPTIONS)
  .description(
    'a load generator for a coordinator on another host (run|console --agents N --listen HOST:PORT ' +
      '--token T): dials out, runs its share, exits when the run ends',
  )
  .addHelpText('after', exitCodeHelp([EXIT.passed, EXIT.error, EXIT.invalid]))
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
      exitCodeHelp([EXIT.passed, EXIT.error, EXIT.failed, EXIT.inconclusive, EXIT.invalid, EXIT.signal, EXIT.host]),
  )
  .action((flags) => exitWith(import('./commands/dashboard.ts').then((m) => m.runDashboard(flags))));

withOptions(program.command('console'), FLEET_OPTIONS)
  .description('the interactive console (needs a terminal)')
  .addHelpText('after', exitCodeHelp(CONSOLE_EXITS))
  .action((flags: Flags) => exitWith(import('./commands/console.tsx').then((m) => m.openConsole(flags))));

withOptions(program.command('demo', { isDefault: true }), FLEET_OPTIONS)
  .description(
    'with a terminal: the console on the bundled server; otherwise (or with CI set) the demo experiment headless',
  )
  .addHelpText('after', exitCodeHelp(RUN_EXITS))
  .action((flags: Flags) => exitWith(import('./commands/demo.ts').then((m) => m.runDemo(flags))));

/**
 * The one place an error becomes the process's exit status. commander has said what was wrong
 * with the arguments (104); an ExitError carries its own code; anything else is an error of
 * ours (1). What is said is masked: a target URL's credentials never reach stderr.
 */
function exitStatusOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.passed : EXIT.invalid;
  const code = (error as { code?: unknown }).code;
  process.stderr.write(
    `sockstorm: ${maskCredentials((error as Error).message)}${typeof code === 'string' ? ` [${code}]` : ''}\n`,
  );
  return error instanceof ExitError ? error.exitCode : EXIT.error;
}

// `sockstorm … | head` closes stdout early: that is the reader's choice, not an error of ours
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
});

const first = process.argv[2];
const names = program.commands.map((c) => c.name());
if (first !== undefined && !first.startsWith('-') && !names.includes(first)) {
  process.stderr.write(`sockstorm: unknown command "${first}"; commands are ${names.join(', ')} (sockstorm --help)\n`);
  process.exit(EXIT.invalid);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitStatusOf(error);
}
