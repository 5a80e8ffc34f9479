/**
 * `sockstorm server …`: the bundled target server, its own program, in a child process with
 * the terminal's output. Its arguments are its own (`sockstorm server --help` is the server's).
 */
import { spawn } from 'node:child_process';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import { programEntry } from '../runtime.ts';

/**
 * Runs the bundled server in a child process with the terminal's output; forwards signals.
 * Its stdin is a pipe from us, so it cannot outlive this process however it ends; a death
 * we did not ask for (uWS aborts on some inputs) is reported as a crash, exit 70.
 */
export function runServer(args: string[]): void {
  const server = programEntry('server');
  const child = spawn(process.execPath, [...server.execArgv, server.file, ...args, '--exit-with-stdin'], {
    stdio: ['pipe', 'inherit', 'inherit'],
  });
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
