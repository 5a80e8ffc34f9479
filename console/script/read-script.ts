/**
 * Reading what a command is given by file name: a script, parsed, with each error at its
 * file:line:column, or any other input file. A file that cannot be read or parsed is invalid
 * input (104), raised as an ExitError that the entry says once.
 */
import { readFileSync } from 'node:fs';
import { EXIT, ExitError } from '../../target-server/contract/exit-codes.ts';
import { parseScript, ScriptError, ScriptErrors, type ScriptStep } from './parse.ts';

/** A file's text; throws an ExitError (104) naming `what` and the file when it cannot be read. */
export function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ExitError(`cannot read ${what} ${file}: ${(error as Error).message}`, EXIT.invalid);
  }
}

/** The name a script read from stdin (`sockstorm run -`) goes by in its errors: `<stdin>:2:1: …`. */
export const STDIN_NAME = '<stdin>';

/**
 * The whole of stdin, for `sockstorm run -`; an ExitError (104) when stdin is a terminal
 * (a script is piped in, not typed: nothing would say when it ends).
 */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new ExitError(
      'run - reads the script from stdin, which is a terminal here: pipe one in (sockstorm run - < my.storm)',
      EXIT.invalid,
      'cli.stdin',
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Script errors as the lines that name their places, `file:line:column: reason`, one a line. */
export function scriptErrorLines(file: string, errors: readonly ScriptError[]): string {
  return errors.map((e) => `${file}:${e.line}:${e.column}: ${e.reason}`).join('\nsockstorm: ');
}

/** A script file's steps (`source`, when given, is its text); throws an ExitError (104) naming each error's place. */
export function readScript(file: string, source?: string): ScriptStep[] {
  const text = source ?? readInput(file, 'script');
  try {
    return parseScript(text);
  } catch (error) {
    if (!(error instanceof ScriptError)) throw error;
    throw new ExitError(scriptErrorLines(file, error instanceof ScriptErrors ? error.errors : [error]), EXIT.invalid);
  }
}
