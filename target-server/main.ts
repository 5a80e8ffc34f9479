/**
 * `sockstorm server`: the bundled target server as its own program. Prints one JSON line
 * (`{"event":"listening",...}`) on stdout and nothing else there; diagnostics go to stderr.
 */
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

function token(value: string): string {
  // the token travels in a header: an empty one would lock the API, a space would never match
  if (!/^[\x21-\x7e]{1,512}$/.test(value))
    throw new InvalidArgumentError('--token must be 1..512 visible ASCII characters without spaces');
  return value;
}

const program = new Command('sockstorm server')
  .description('the bundled WebSocket target server (uWebSockets.js or ws)')
  .option('--engine <engine>', 'uws (C++ pub/sub) or ws (JavaScript loop)', 'uws')
  .option('--host <address>', 'WebSocket bind address', '127.0.0.1')
  .option('--port <port>', 'WebSocket port, 0 for a free one', port('--port'), 0)
  .option('--admin-host <address>', 'admin API bind address', '127.0.0.1')
  .option('--admin-port <port>', 'admin API port, 0 for a free one', port('--admin-port'), 0)
  .option('--token <token>', 'admin API bearer token (random if not given)', token)
  .option('--config <json>', 'initial knobs as JSON, e.g. \'{"maxPayload":1048576}\'')
  .option('--exit-with-stdin', 'exit when stdin closes (a parent that started this server through a pipe is gone)')
  .addHelpText(
    'after',
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
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ ...opts, engine: opts.engine, config });
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
