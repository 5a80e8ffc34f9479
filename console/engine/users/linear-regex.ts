/**
 * The regular expressions of `check NAME PATH matches /re/`, which run on every message a
 * target sends: V8's linear-time engine (the `l` flag), so no subject can make a match
 * backtrack for minutes and freeze the generator (a 27-character string against `/(a+)+$/`
 * did, past the reach of SIGTERM). That engine refuses what it cannot run in linear time
 * (backreferences, lookaround, a counted repeat over 16), and a check using one is refused
 * when the script is read, saying what to write instead. Subjects are capped too: the engine
 * is linear but not fast (about a microsecond a character on a hard pattern).
 *
 * The one module that owns the engine: importing it turns the `l` flag on in this process
 * (the CLI, a shard and an agent all import it before they compile a check).
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--enable-experimental-regexp-engine');

/** The longest subject a check tests; a longer one counts as a fail. */
export const MAX_CHECK_SUBJECT_CHARS = 4096;

/** What to write instead of a construct the linear engine refuses. */
function advice(source: string): string {
  if (/\\[1-9]|\\k</.test(source)) return 'it uses a backreference (\\1, \\k<name>); write out the text it stands for';
  if (/\(\?<?[=!]/.test(source))
    return (
      'it uses lookahead or lookbehind ((?=, (?!, (?<=, (?<!); match the text itself, or give each ' +
      'condition a check of its own'
    );
  return (
    'it repeats more than 16 times ({17} and up, or nested repeats that multiply past 16); split the ' +
    'repeat, as in [0-9a-f]{16}[0-9a-f]{16}'
  );
}

/** Why a valid regular expression cannot be a check's pattern (what to write instead), or null when it can. */
export function linearRegexProblem(source: string): string | null {
  try {
    new RegExp(source, 'l');
    return null;
  } catch (error) {
    const message = (error as Error).message;
    return /linear time/.test(message) ? advice(source) : message;
  }
}

/** Compiles a check's pattern for the linear engine; throws as {@link linearRegexProblem} says. */
export function compileLinear(source: string): RegExp {
  return new RegExp(source, 'l');
}
