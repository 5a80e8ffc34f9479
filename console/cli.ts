/**
 * `sockstorm`: argument parsing and wiring only. Subcommands: `server` (the bundled target
 * server, a separate program), `run` (a headless script), `console`, `tune`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER_MAIN = fileURLToPath(new URL('../target-server/main.ts', import.meta.url));

/** Runs the bundled server in a child process with the terminal's stdio; forwards signals. */
function runServer(args: string[]): void {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), SERVER_MAIN, ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 105 : 1)));
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'server') {
  runServer(rest);
} else {
  // until the console exists, `sockstorm` starts the bundled server and says where it listens
  runServer(command === undefined ? [] : [command, ...rest]);
}
