import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { readScreen } from './screen.ts';

const BIN = fileURLToPath(new URL('../../console/bin.mjs', import.meta.url));

// A pseudo-terminal from Python's standard library (the machine has python3; Node has no pty of
// its own): runs argv on a pty of cols × rows, copies its output to stdout and stdin to it. A line
// "\x1dRESIZE cols rows" on stdin resizes the pty (the kernel sends SIGWINCH). Exits with the
// program's code, or 128 + its signal.
const PTY_PY = `
import fcntl, os, pty, select, signal, struct, sys, termios
def size(fd, cols, rows): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
cols, rows = int(sys.argv[1]), int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    size(sys.stdout.fileno(), cols, rows)
    os.execvp(sys.argv[3], sys.argv[3:])
inp, is_open, pending = sys.stdin.fileno(), True, b''
while True:
    r, _, _ = select.select([fd] + ([inp] if is_open else []), [], [])
    if fd in r:
        try: data = os.read(fd, 65536)
        except OSError: data = b''
        if not data: break
        sys.stdout.buffer.write(data); sys.stdout.buffer.flush()
    if is_open and inp in r:
        data = os.read(inp, 1024)
        if not data: is_open = False; continue
        pending += data
        while pending:
            if pending.startswith(b'\\x1dRESIZE'):
                if b'\\n' not in pending: break
                line, pending = pending.split(b'\\n', 1)
                _, c, w = line.split(b' ')
                size(fd, int(c), int(w))
            else:
                cut = pending.find(b'\\x1d')
                cut = len(pending) if cut < 0 else cut
                os.write(fd, pending[:cut]); pending = pending[cut:]
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

/** `sockstorm ...args` on a terminal of its own. */
export interface PtyRun {
  /** Everything written to the terminal, escape sequences and all. */
  raw(): string;
  /** The screen as a person reads it now, one string with a line a row. */
  screen(): string;
  /** Types `keys` on the terminal. */
  type(keys: string): void;
  resize(cols: number, rows: number): void;
  exit: Promise<number | null>;
  /** The pty's own process (sockstorm is its child). */
  readonly pid: number;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

/** Starts `sockstorm ...args` on a pty of cols × rows; killed after the test if still running. */
export function startOnPty(args: string[], cols = 80, rows = 24): PtyRun {
  // no CI in the child's environment, not even empty: Ink takes any CI but 0 or false for a CI
  // log and draws only its last frame, at exit
  const { CI: _ci, CONTINUOUS_INTEGRATION: _integration, ...env } = process.env;
  const child = spawn('python3', ['-c', PTY_PY, String(cols), String(rows), process.execPath, BIN, ...args], {
    env: { ...env, TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  running.add(child);
  let raw = '';
  let size = [cols, rows] as [number, number];
  child.stdout!.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    raw: () => raw,
    screen: () => readScreen(raw, size[0], size[1]).join('\n'),
    type: (keys) => void child.stdin!.write(keys),
    resize(c, r) {
      size = [c, r];
      child.stdin!.write(`\x1dRESIZE ${c} ${r}\n`);
    },
    exit,
    pid: child.pid!,
  };
}
