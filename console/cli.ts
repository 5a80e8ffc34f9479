/**
 * `sockstorm`: argument parsing and wiring only.
 *
 *   sockstorm                      the demo headless when stdout is not a TTY or CI is set
 *   sockstorm run script.storm     a script, headless, with thresholds and an exit code
 *   sockstorm compare SCRIPT --variant NAME:KNOBS …   the same script on several server setups
 *   sockstorm server               the bundled target server (its own program)
 *   sockstorm tune check|apply|restore|probe
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EngineConfigError } from './engine/engine-options.ts';
import { engineOptions, withTargetOptions, type TargetFlags } from './cli-options.ts';
import { runScriptFile, type RunFiles } from './script/run-file.ts';
import { EXIT, exitCodeHelp } from '../target-server/exit-codes.ts';
import { runTune } from '../tuning/tune-command.ts';
import { PACKAGE_ROOT, programEntry } from './runtime.ts';
import { VARIANT_KNOBS } from './compare/variants.ts';
import type { CompareFlags } from './compare/compare-command.ts';

const DEMO = join(PACKAGE_ROOT, 'examples', 'demo.storm');

/**
 * Runs the bundled server in a child process with the terminal's output; forwards signals.
 * Its stdin is a pipe from us, so it cannot outlive this process however it ends; a death
 * we did not ask for (uWS aborts on some inputs) is reported as a crash, exit 70.
 */
function runServer(args: string[]): void {
  const server = programEntry('server');
  const child = spawn(process.execPath, [...server.execArgv, server.file, ...args, '--exit-with-stdin'], { stdio: ['pipe', 'inherit', 'inherit'] });
  let forwarded: NodeJS.Signals | null = null;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      forwarded = signal;
      child.kill(signal);
    });
  child.on('exit', (code, signal) => {
    if (signal && signal !== forwarded) {
      process.stderr.write(`sockstorm server: crashed (${signal}); see the lines above\n`);
      process.exit(EXIT.crashed);
    }
    process.exit(code ?? (signal ? EXIT.signal : EXIT.crashed));
  });
}

const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const program = new Command('sockstorm')
  .description('a load-and-chaos console for WebSocket systems')
  .version(VERSION, '-V, --version', 'print the version')
  .exitOverride()
  .showHelpAfterError();

/** `500ms`, `2s`, or a bare number of seconds. */
function interval(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
  const parsed = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : 1000) : NaN;
  if (!(parsed >= 100)) throw new InvalidArgumentError(`--progress-interval must be a duration of at least 100ms (500ms, 5s), not "${value}"`);
  return parsed;
}

const RUN_EXITS = [EXIT.passed, EXIT.error, EXIT.failed, EXIT.inconclusive, EXIT.invalid, EXIT.signal, EXIT.host, EXIT.output] as const;
const CONSOLE_EXITS = [EXIT.passed, EXIT.error, EXIT.invalid, EXIT.signal] as const;

withTargetOptions(program.command('run <script>'))
  .description('run a script of console commands headless, with thresholds and an exit code')
  .option('--json <file>', 'write the end summary as JSON')
  .option('--ndjson <file>', 'write one snapshot per second as NDJSON, from the first second')
  .option('--report <file>', 'write a self-contained HTML report')
  .option('--progress-interval <duration>', 'one progress line on stderr per this long (default: 1s)', interval)
  .option('--no-host-check', 'run even when the script asks for more users than this host can hold (exit 106 otherwise)')
  .addHelpText('after', exitCodeHelp(RUN_EXITS))
  .action(async (script: string, flags: TargetFlags & RunFiles & { hostCheck: boolean }) => {
    process.exitCode = await runScriptFile(script, engineOptions(flags), flags, undefined, flags.hostCheck);
  });

const rounds = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 100) throw new InvalidArgumentError(`--rounds must be a whole number 1..100, not "${value}"`);
  return parsed;
};

// `compare`: console/compare/ (the command's shell is compare-command.ts); its own options first
withTargetOptions(
  program
    .command('compare <inputs...>')
    .description(
      'one script against several setups of the bundled server (--variant, twice or more), or saved `run --json` summaries (a.json b.json …), side by side',
    )
    .option(
      '--variant <name:knobs>',
      `a setup, NAME:KNOB=VALUE,… (repeatable); knobs: ${VARIANT_KNOBS.join(', ')}`,
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--rounds <n>', 'run every variant this many times, the order alternating (default: 1)', rounds)
    .option('--json <file>', "write the comparison (figures and every run's summary) as JSON")
    .option('--report <file>', 'write a self-contained HTML report: percentile curves and per-second series')
    .option('--progress-interval <duration>', 'one progress line on stderr per this long (default: 1s)', interval)
    .option('--no-host-check', 'run even when a variant asks for more users than this host can hold (exit 106 otherwise)'),
  [
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
    '\nExample:\n  sockstorm compare examples/event-loop.storm --variant ws-loop:engine=ws,fanout=loop --variant uws:engine=uws --report compare.html\n  sockstorm compare before.json after.json\n' +
      exitCodeHelp(RUN_EXITS),
  )
  .action(async (inputs: string[], flags: CompareFlags) => {
    const { runCompareCommand } = await import('./compare/compare-command.ts');
    process.exitCode = await runCompareCommand(inputs, flags);
  });

program
  .command('server')
  .description('the bundled target server (see `sockstorm server --help`)')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[args...]')
  .action((args: string[]) => runServer(args));

program
  .command('tune <action>')
  .description('host limits: check (exit 106 if the host cannot hold N), apply, restore, probe')
  .option('--connections <n>', 'connections wanted', '10000')
  .option('--target <url>', 'the destination (capacity is per destination)')
  .option('--source-addresses <list>', 'local addresses the fleet will spread over')
  .option('--json', 'machine-readable output')
  .option('--proc-root <dir>', 'read facts from another /proc tree', '/proc')
  .option('--yes', 'apply: really change the host (root)')
  .option('--persist', 'apply: also write /etc/sysctl.d/99-sockstorm.conf')
  .option('--journal <file>', 'apply/restore: the journal of old values')
  .option('--pid <pid>', 'apply: the process whose fd limit is raised (default: the calling shell)')
  .addOption(new Option('--scope <scope>', 'apply: all settings, or only network-namespace ones').choices(['all', 'net']).default('all'))
  .option('--max <n>', 'probe: most connections to open')
  .addHelpText('after', exitCodeHelp([EXIT.passed, EXIT.error, EXIT.invalid, EXIT.host]))
  .action(async (action: string, flags) => {
    // the probe drives an engine: it is the console's, and tuning imports nothing of the console
    process.exitCode = action === 'probe' ? await (await import('./tune-probe.ts')).runProbe(flags) : await runTune(action, flags);
  });

program
  .command('agent')
  .description(
    'a load generator for a coordinator on another host (run|console --agents N --listen HOST:PORT --token T): dials out, runs its share, exits when the run ends',
  )
  .requiredOption('--coordinator <url>', 'the coordinator, ws://HOST:PORT or wss://HOST:PORT')
  .option('--token <token>', "the coordinator's --token (default: $SOCKSTORM_TOKEN, which keeps it out of the process list)")
  .option('--name <name>', 'how the coordinator calls this agent (default: $JOB_COMPLETION_INDEX, else the host name)')
  .option('--source-addresses <list>', "local addresses to spread this agent's users over")
  .option('--plaintext', 'allow plain ws:// to a coordinator on another host (the token crosses unencrypted: a network you trust)')
  .option('--insecure', 'accept any TLS certificate from a wss:// coordinator (a test certificate; --ca is the way for a private CA)')
  .option('--ca <file>', "a PEM CA that signed the coordinator's certificate")
  .option('--retry-for <seconds>', 'how long to keep trying to reach a coordinator (default: 300)')
  .addHelpText('after', exitCodeHelp([EXIT.passed, EXIT.error, EXIT.invalid]))
  .action(
    async (flags: {
      coordinator: string;
      token?: string;
      name?: string;
      sourceAddresses?: string;
      plaintext?: boolean;
      insecure?: boolean;
      ca?: string;
      retryFor?: string;
    }) => {
      const { runAgent } = await import('./agent.ts');
      const retryFor = flags.retryFor === undefined ? undefined : Number(flags.retryFor);
      if (retryFor !== undefined && !(retryFor > 0))
        throw new InvalidArgumentError(`--retry-for must be a positive number of seconds, not "${flags.retryFor}"`);
      process.exitCode = await runAgent({
        ...flags,
        token: flags.token ?? process.env.SOCKSTORM_TOKEN ?? '',
        retryForMs: retryFor === undefined ? undefined : retryFor * 1000,
      });
    },
  );

program
  .command('dashboard')
  .description(
    'a full-screen wall in its own terminal (80x24 or more), attached to a run or console started with --metrics-port; without --attach it runs the demo (or --run FILE) headless, watches it, and after q prints its verdict and exits with its code',
  )
  .option('--attach <url>', 'the http://127.0.0.1:PORT a run or console serves with --metrics-port (exit 104 if nothing sockstorm answers there)')
  .option('--run <script>', 'run this script instead of the demo, and watch it')
  // the keys' one home is the dashboard's keys.ts (small, no terminal library): the help is derived from it
  .addHelpText(
    'after',
    (await import('./dashboard/keys.ts')).keysHelp() +
      exitCodeHelp([EXIT.passed, EXIT.error, EXIT.failed, EXIT.inconclusive, EXIT.invalid, EXIT.signal, EXIT.host]),
  )
  .action(async (flags: { attach?: string; run?: string }) => {
    const { runDashboard } = await import('./dashboard/dashboard.ts');
    process.exitCode = await runDashboard(flags);
  });

withTargetOptions(program.command('console'))
  .description('the interactive console (needs a terminal)')
  .addHelpText('after', exitCodeHelp(CONSOLE_EXITS))
  .action(async (flags: TargetFlags) => {
    process.exitCode = await openConsole(flags);
  });

withTargetOptions(program.command('demo', { isDefault: true }))
  .description('with a terminal: the console on the bundled server; otherwise (or with CI set) the demo experiment headless')
  .addHelpText('after', exitCodeHelp(RUN_EXITS))
  .action(async (flags: TargetFlags) => {
    const isInteractive = Boolean(process.stdout.isTTY && process.stdin.isTTY) && !process.env.CI;
    process.exitCode = isInteractive
      ? await openConsole(flags)
      : await runScriptFile(DEMO, engineOptions(flags), {
          metricsPort: flags.metricsPort,
          metricsHost: flags.metricsHost,
          metricsLinger: flags.metricsLinger,
          otlp: flags.otlp,
        });
  });

async function openConsole(flags: TargetFlags): Promise<number> {
  if (!process.stdin.isTTY) {
    process.stderr.write('sockstorm: the console needs a terminal; use `sockstorm run script.storm` to run headless\n');
    return EXIT.invalid;
  }
  // the console (ink, react) is loaded only when it is used
  const { runConsole } = await import('./ui/run-console.tsx');
  try {
    return await runConsole(engineOptions(flags), flags.metricsPort, flags.metricsHost);
  } catch (error) {
    const code = (error as { code?: string }).code;
    process.stderr.write(`sockstorm: ${(error as Error).message}${code ? ` [${code}]` : ''}\n`);
    return code === 'config.url' || code === 'config.option' || code === 'config.dns' || code === 'agents.listen'
      ? EXIT.invalid
      : code === 'agents.timeout'
        ? EXIT.host
        : code === 'agents.stopped'
          ? EXIT.signal
          : EXIT.error;
  }
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
  const code = (error as { exitCode?: number }).exitCode;
  // commander has said what was wrong; anything else says it here
  if (code === undefined) process.stderr.write(`sockstorm: ${(error as Error).message}${error instanceof EngineConfigError ? ` [${error.code}]` : ''}\n`);
  process.exitCode = code === 0 ? 0 : EXIT.invalid;
}
