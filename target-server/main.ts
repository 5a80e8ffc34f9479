/**
 * `sockstorm server`: the bundled target server as its own program. Prints one JSON line
 * (`{"event":"listening",...}`) on stdout and nothing else there; diagnostics go to stderr.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { NativeUnavailableError, startServer } from './server.ts';
import { EXIT, exitCodeHelp } from './contract/exit-codes.ts';
import { validateConfigPatch, type ServerConfig } from './contract/wire.ts';

function port(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed > 65535)
      throw new InvalidArgumentError(`${name} must be a port number 0..65535 (0 picks a free one), not "${value}"`);
    return parsed;
  };
}

/** Why a token cannot be used, or null: it travels in a header, so an empty one would lock the API and a space would never match. */
function tokenProblem(value: string): string | null {
  // checked after parsing, never in commander's argParser: commander's message repeats the value, which is a secret (and was once 1 MB)
  return /^[\x21-\x7e]{1,512}$/.test(value) ? null : 'must be 1..512 visible ASCII characters without spaces';
}

function address(name: string) {
  return (value: string): string => {
    if (isIP(value) === 0)
      throw new InvalidArgumentError(
        `${name} must be an IP address to bind (127.0.0.1, ::1, 0.0.0.0 for every interface)`,
      );
    return value;
  };
}

const isLoopback = (host: string): boolean => host.startsWith('127.') || host === '::1';

/** Whether this host can bind `host`: a wildcard, loopback, or an address of one of its interfaces. */
function isBindable(host: string): boolean {
  if (host === '0.0.0.0' || host === '::' || isLoopback(host)) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === host));
}

const program = new Command('sockstorm server')
  .description('the bundled WebSocket target server (uWebSockets.js or ws)')
  .option('--engine <engine>', 'uws (C++ pub/sub) or ws (JavaScript loop)', 'uws')
  .option('--host <address>', 'WebSocket bind address', address('--host'), '127.0.0.1')
  .option('--port <port>', 'WebSocket port, 0 for a free one', port('--port'), 0)
  .option(
    '--admin-host <address>',
    'admin API bind address (loopback unless you mean it: the token is its only guard)',
    address('--admin-host'),
    '127.0.0.1',
  )
  .option('--admin-port <port>', 'admin API port, 0 for a free one', port('--admin-port'), 0)
  .option(
    '--token <token>',
    'admin API bearer token (random if not given; SOCKSTORM_SERVER_TOKEN keeps it out of the process list)',
  )
  .option('--config <json>', 'initial knobs as JSON, e.g. \'{"maxPayload":1048576}\'')
  .option('--exit-with-stdin', 'exit when stdin closes (a parent that started this server through a pipe is gone)')
  .addHelpText(
    'after',
    '\nExample:\n' +
      '  sockstorm server --engine ws --port 0\n' +
      '  sockstorm server --port 0 --admin-port 0 --config \'{"workMs":5,"fanout":"loop"}\'\n' +
      exitCodeHelp([EXIT.passed, EXIT.serverStart, EXIT.nativeUnavailable, EXIT.crashed, EXIT.invalid]),
  )
  .exitOverride()
  // help is asked for, so it goes to stdout; errors go to stderr (stdout carries the listening line)
  .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

function fail(message: string, code: number): never {
  process.stderr.write(`sockstorm server: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  try {
    program.parse(process.argv);
  } catch (error) {
    process.exit((error as { exitCode?: number }).exitCode === 0 ? EXIT.passed : EXIT.invalid);
  }
  const opts = program.opts<{
    engine: string;
    host: string;
    port: number;
    adminHost: string;
    adminPort: number;
    token?: string;
    config?: string;
    exitWithStdin?: boolean;
  }>();
  if (opts.engine !== 'uws' && opts.engine !== 'ws')
    fail(`--engine must be uws or ws, not "${opts.engine}"`, EXIT.invalid);
  const token = opts.token ?? (process.env.SOCKSTORM_SERVER_TOKEN || undefined);
  const problem = token === undefined ? null : tokenProblem(token);
  if (problem) fail(`${opts.token === undefined ? 'SOCKSTORM_SERVER_TOKEN' : '--token'} ${problem}`, EXIT.invalid);
  if (!isLoopback(opts.adminHost))
    process.stderr.write(
      `sockstorm server: warning: the admin API listens on ${opts.adminHost}: anyone who reaches it with the token can broadcast, kill connections and change knobs\n`,
    );
  let config: Partial<ServerConfig> = {};
  if (opts.config) {
    let raw: unknown;
    try {
      raw = JSON.parse(opts.config);
    } catch {
      fail('--config is not valid JSON', EXIT.invalid);
    }
    const checked = validateConfigPatch(raw);
    if (!checked.ok) fail(`--config: ${checked.message}`, EXIT.invalid);
    config = checked.value;
  }
  // the uWS listener says only that it failed, which had read as "already in use" for an address this host does not have
  for (const host of [opts.host, opts.adminHost])
    if (!isBindable(host))
      fail(
        `${host} is not an address of this host; give one it has (ip addr), 127.0.0.1, or 0.0.0.0 for every interface`,
        EXIT.serverStart,
      );
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ ...opts, token, engine: opts.engine, config });
  } catch (error) {
    if (error instanceof NativeUnavailableError) fail(error.message, EXIT.nativeUnavailable);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      fail(
        `port ${opts.port} or admin port ${opts.adminPort} on ${opts.host} is already in use; pick ` +
          `another with --port/--admin-port (0 picks a free one)`,
        EXIT.serverStart,
      );
    fail((error as Error).message, EXIT.serverStart);
  }
  process.stdout.write(`${JSON.stringify(server.info)}\n`);
  let isShuttingDown = false;
  const shutdown = (): void => {
    if (isShuttingDown) return;
    isShuttingDown = true;
    const started = performance.now();
    const open = server.hub.conns.size;
    // close frames first; what the kernel already holds is sent after exit, so the grace is short
    server.close(250).then(() => {
      process.stderr.write(
        `sockstorm server: stopped in ${Math.round(performance.now() - started)} ms, ${open} connections closed\n`,
      );
      process.exit(EXIT.passed);
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  // a parent that is gone closed our pipes: nothing to tell it, and no reason to crash
  for (const stream of [process.stdin, process.stdout, process.stderr]) stream.on('error', () => {});
  if (opts.exitWithStdin) {
    // the parent holds the other end of stdin: when it dies, however it dies, so does this server
    process.stdin.on('end', shutdown).on('close', shutdown).resume();
  }
}

// a bug of ours must not look like a clean exit: say what it was, on stderr, and exit 70
process.on('uncaughtException', (error) => {
  process.stderr.write(`sockstorm server: crashed: ${error.stack ?? error.message}\n`);
  process.exit(EXIT.crashed);
});

void main();
