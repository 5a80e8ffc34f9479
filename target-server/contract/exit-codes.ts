/**
 * The exit codes of every sockstorm program: `run`, the console, the dashboard, `tune` and the
 * server. target-server/contract/ belongs to no one program: every program imports it, and it
 * imports nothing of theirs.
 */

/** Exit codes; stable, documented in the README and in each command's --help. */
export const EXIT = {
  /** The run passed every threshold; `tune` did what it was asked. */
  passed: 0,
  /** Something outside the verdict went wrong (a server that could not start, a tune entry that failed). */
  error: 1,
  /** The bundled server could not start (a port in use, say). */
  serverStart: 2,
  /** The uWebSockets.js native binary did not load; `--engine ws` works everywhere. */
  nativeUnavailable: 3,
  /** The bundled server crashed (a death it did not ask for). */
  crashed: 70,
  /** A threshold, an await or a command of the script failed. */
  failed: 99,
  /** A threshold's samples were taken while the generator was saturated: its figure is the generator's. */
  inconclusive: 100,
  /** Invalid input: a flag, a script, a URL, an output path. Nothing was started. */
  invalid: 104,
  /** Stopped by a signal (Ctrl+C, SIGTERM). */
  signal: 105,
  /** This host cannot hold what was asked (or cannot tell): see `sockstorm tune check`. */
  host: 106,
  /** The run finished but an output could not be written; the data was saved elsewhere. */
  output: 107,
} as const;

/** An exit code. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const MEANING: Record<ExitCode, string> = {
  0: 'ok (run: passed)',
  1: 'error (see the message)',
  2: 'the server could not start (port in use?)',
  3: 'the uWebSockets.js binary did not load (use --engine ws)',
  70: 'the bundled server crashed',
  99: 'a threshold, await or command failed',
  100: 'inconclusive: a threshold was judged on saturated seconds',
  104: 'invalid input, nothing started',
  105: 'stopped by a signal',
  106: 'this host cannot hold it (sockstorm tune check), or the agents did not all join',
  107: 'finished, but an output could not be written',
};

/** The `Exit codes:` block of a command's --help, for the codes it can return. */
export function exitCodeHelp(codes: readonly ExitCode[]): string {
  return `\nExit codes:\n${codes.map((code) => `  ${String(code).padStart(3)}  ${MEANING[code]}`).join('\n')}\n`;
}

/**
 * An error that carries the exit code its program ends with (k6's pattern): raised where the
 * failure is known, turned into the process's exit status in one place, the program's entry.
 * `code`, when it has one, is its stable class, said after its message.
 */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly code?: string,
  ) {
    super(message);
  }
}
