import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const BIN = fileURLToPath(new URL('../../console/bin.mjs', import.meta.url));

/** A `sockstorm` process started as a user would, with its output collected. */
export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
// a test that fails half-way must not leave a sockstorm behind (its server would follow it only
// when it dies): whatever a test started is killed after it
afterEach(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

/** What a started sockstorm reads on stdin (then closed; none: stdin is empty) and where it starts. */
export interface CliIo {
  input?: string;
  cwd?: string;
}

/** Starts `sockstorm ...args` (no TTY, CI set) and collects its output; killed after the test if still running. */
export function startCli(args: string[], env: Record<string, string> = {}, io: CliIo = {}): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, CI: 'true', ...env },
    stdio: [io.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    cwd: io.cwd,
  });
  if (io.input !== undefined) child.stdin!.end(io.input);
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Runs `sockstorm ...args` to the end, with a hard time limit. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000, io: CliIo = {}) {
  const run = startCli(args, env, io);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const { code } = await run.exit;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Resolves once `text` appears in the stream returned by `read`. */
export async function waitForOutput(read: () => string, text: string | RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = read();
    if (typeof text === 'string' ? out.includes(text) : text.test(out)) return out;
    if (Date.now() > deadline)
      throw new Error(`"${String(text)}" did not appear within ${timeoutMs} ms; got: ${out.slice(-500)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
