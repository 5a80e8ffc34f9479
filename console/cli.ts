/**
 * `sockstorm`: argument parsing and wiring only.
 *
 *   sockstorm                      the demo headless when stdout is not a TTY or CI is set
 *   sockstorm run script.storm     a script, headless, with thresholds and an exit code
 *   sockstorm server               the bundled target server (its own program)
 *   sockstorm tune check|apply|restore|probe
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EngineConfigError, type EngineOptions } from './engine/engine-options.ts';
import { runScriptFile } from './script/run-file.ts';
import { EXIT } from './report/summary.ts';
import { runTune } from '../tuning/tune-command.ts';
import { PACKAGE_ROOT, programEntry } from './runtime.ts';

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
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { forwarded = signal; child.kill(signal); });
  child.on('exit', (code, signal) => {
    if (signal && signal !== forwarded) {
      process.stderr.write(`sockstorm server: crashed (${signal}); see the lines above\n`);
      process.exit(EXIT.crashed);
    }
    process.exit(code ?? (signal ? EXIT.signal : EXIT.crashed));
  });
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const parsed = Number(value.replace(/\/s$/, ''));
    if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return parsed;
  };
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('--metrics-port must be 0..65535');
  return port;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface TargetFlags {
  target?: string;
  targets?: string;
  engine: 'uws' | 'ws';
  rate?: number;
  maxInFlight?: number;
  handshakeTimeout?: number;
  maxPayload?: number;
  topics?: string;
  subprotocol?: string[];
  header?: string[];
  insecure?: boolean;
  sourceAddresses?: string;
  broadcastHttp?: string;
  broadcastSend?: string;
  tsPath?: string;
  seqPath?: string;
  topicPath?: string;
  metricsPort?: number;
  workers?: number;
  servers?: number;
}

/** The options every fleet-driving command shares. */
function withTargetOptions(command: Command): Command {
  return command
    .option('--target <url>', 'a ws:// or wss:// target (default: the bundled server)')
    .option('--targets <list>', 'several targets, comma-separated; users spread over them round-robin')
    .addOption(new Option('--engine <engine>', 'bundled server engine').choices(['uws', 'ws']).default('uws'))
    .option('--rate <n>', 'connect rate, VUs per second', positiveNumber('--rate'))
    .option('--max-in-flight <n>', 'most handshakes pending at once', positiveNumber('--max-in-flight'))
    .option('--handshake-timeout <ms>', 'handshake timeout in ms', positiveNumber('--handshake-timeout'))
    .option('--max-payload <bytes>', 'largest frame a VU accepts', positiveNumber('--max-payload'))
    .option('--topics <list>', 'topics VUs subscribe to (bundled server), comma-separated')
    .option('--subprotocol <name>', 'offer a subprotocol (repeatable)', collect)
    .option('--header <name:value>', 'add an upgrade request header (repeatable)', collect)
    .option('--insecure', 'accept any TLS certificate (test targets only)')
    .option('--source-addresses <list>', 'local addresses to spread VUs over, e.g. 127.0.0.2,127.0.0.3')
    .option('--broadcast-http <spec>', 'real target: broadcast with an HTTP request "METHOD URL [BODY]"')
    .option('--broadcast-send <template>', 'real target: broadcast by sending this frame from a VU')
    .option('--ts-path <path>', 'real target: JSON path of the send time (epoch ms) in fan-out messages')
    .option('--seq-path <path>', 'real target: JSON path of a per-topic sequence number')
    .option('--topic-path <path>', 'real target: JSON path of the topic')
    .option('--servers <n>', 'bundled server processes, each on its own port (one holds up to its own fd limit)', positiveNumber('--servers'))
    .option('--workers <n>', 'split the fleet over N generator processes (each has its own fd limit and event loop)', positiveNumber('--workers'))
    .option('--metrics-port <port>', 'serve /metrics (Prometheus), /snapshot and /stream on 127.0.0.1 (0: a free port)', portNumber);
}

function engineOptions(flags: TargetFlags): EngineOptions {
  const headers: Record<string, string> = {};
  for (const header of flags.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new EngineConfigError('config.option', `--header "${header}" has no name: give it as 'Name: value'`);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  const framePaths = flags.tsPath || flags.seqPath || flags.topicPath
    ? { tsPath: flags.tsPath, seqPath: flags.seqPath, topicPath: flags.topicPath } : undefined;
  const targets = flags.targets === undefined ? undefined : flags.targets.split(',').map((t) => t.trim()).filter(Boolean);
  return {
    target: flags.target ?? targets?.[0], targets, serverEngine: flags.engine, ratePerSec: flags.rate, maxInFlight: flags.maxInFlight,
    handshakeTimeoutMs: flags.handshakeTimeout, maxPayloadBytes: flags.maxPayload,
    topics: flags.topics?.split(',').map((t) => t.trim()).filter(Boolean), protocols: flags.subprotocol,
    headers, insecure: flags.insecure, localAddresses: flags.sourceAddresses?.split(',').map((a) => a.trim()).filter(Boolean),
    broadcastHttp: flags.broadcastHttp, broadcastSend: flags.broadcastSend, framePaths, workers: flags.workers, servers: flags.servers,
  };
}

const VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const program = new Command('sockstorm')
  .description('a load-and-chaos console for WebSocket systems')
  .version(VERSION, '-V, --version', 'print the version')
  .exitOverride()
  .showHelpAfterError();

withTargetOptions(program.command('run <script>'))
  .description('run a script of console commands headless; exit 0 passed, 99 threshold failed, 100 inconclusive, 104 invalid, 105 signal')
  .option('--json <file>', 'write the end summary as JSON')
  .option('--ndjson <file>', 'write one snapshot per second as NDJSON')
  .option('--report <file>', 'write a self-contained HTML report')
  .option('--no-host-check', 'run even when the script asks for more VUs than this host can hold (exit 106 otherwise)')
  .action(async (script: string, flags: TargetFlags & { json?: string; ndjson?: string; report?: string; hostCheck: boolean }) => {
    process.exitCode = await runScriptFile(script, engineOptions(flags), flags, undefined, flags.hostCheck);
  });

program.command('server')
  .description('the bundled target server (see `sockstorm server --help`)')
  .allowUnknownOption()
  .helpOption(false)
  .argument('[args...]')
  .action((args: string[]) => runServer(args));

program.command('tune <action>')
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
  .action(async (action: string, flags) => {
    process.exitCode = await runTune(action, flags);
  });

program.command('dashboard')
  .description('a full-screen wall in its own terminal, attached to a run or console started with --metrics-port (default: starts the demo)')
  .option('--attach <url>', 'the http://127.0.0.1:PORT a run or console serves with --metrics-port')
  .action(async (flags: { attach?: string }) => {
    const { runDashboard } = await import('./dashboard/dashboard.ts');
    process.exitCode = await runDashboard(flags.attach);
  });

withTargetOptions(program.command('console'))
  .description('the interactive console (needs a terminal)')
  .action(async (flags: TargetFlags) => {
    process.exitCode = await openConsole(flags);
  });

withTargetOptions(program.command('demo', { isDefault: true }))
  .description('with a terminal: the console on the bundled server; otherwise (or with CI set) the demo experiment headless')
  .action(async (flags: TargetFlags) => {
    const isInteractive = Boolean(process.stdout.isTTY && process.stdin.isTTY) && !process.env.CI;
    process.exitCode = isInteractive ? await openConsole(flags) : await runScriptFile(DEMO, engineOptions(flags), { metricsPort: flags.metricsPort });
  });

async function openConsole(flags: TargetFlags): Promise<number> {
  if (!process.stdin.isTTY) {
    process.stderr.write('sockstorm: the console needs a terminal; use `sockstorm run script.storm` to run headless\n');
    return EXIT.invalid;
  }
  // the console (ink, react) is loaded only when it is used
  const { runConsole } = await import('./ui/run-console.tsx');
  try {
    return await runConsole(engineOptions(flags), flags.metricsPort);
  } catch (error) {
    const code = (error as { code?: string }).code;
    process.stderr.write(`sockstorm: ${(error as Error).message}${code ? ` [${code}]` : ''}\n`);
    return code === 'config.url' || code === 'config.option' ? EXIT.invalid : 1;
  }
}

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
