/**
 * Reading one line of the command language: its tokens, the errors that name a line and
 * column, and the limits a script may ask for. parse.ts reads each command with it. Pure.
 */
import { EXIT, ExitError } from '../../target-server/contract/exit-codes.ts';
import { parseCount, parseDuration } from './units.ts';

/**
 * The largest values the language accepts: beyond them a script asks for what no run can do
 * (a timer that overflows, a rate that allocates the heap away), so it is an error up front.
 */
export const SCRIPT_LIMITS = Object.freeze({
  /** Users in one fleet, over every process and agent. */
  users: 10_000_000,
  /** Connects per second. */
  connectRate: 1_000_000,
  /** Probes or messages per second. */
  sendRate: 100_000,
  /** Any duration: waits, ramps, timeouts, `every`. */
  durationMs: 7 * 24 * 3_600_000,
  /** `stall`: it blocks the generator on purpose. */
  stallMs: 60_000,
});

/** A script error at a line and column (104); `code` is stable. */
export class ScriptError extends ExitError {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`line ${line}, column ${column}: ${reason}`, EXIT.invalid, 'script.invalid');
  }
}

/** Every error of a script at once (the first one's place is its own). */
export class ScriptErrors extends ScriptError {
  constructor(readonly errors: ScriptError[]) {
    super(errors[0]!.line, errors[0]!.column, errors[0]!.reason);
  }
}

/** A word of a line and the column it starts at. */
export interface Token {
  text: string;
  column: number;
}

const DEFAULT_AWAIT_MS = 60_000;

/** The words of a line. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\S+/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text))
    tokens.push({ text: match[0], column: match.index + 1 });
  return tokens;
}

/** Reads the words of one line in order; every error names the line and the column. */
export class LineParser {
  private at = 1;
  constructor(
    private readonly tokens: Token[],
    private readonly line: number,
    private readonly raw: string,
  ) {}

  fail(reason: string, token: Token | undefined = this.tokens[this.at]): never {
    throw new ScriptError(this.line, token?.column ?? this.raw.length + 1, reason);
  }
  peek(): Token | undefined {
    return this.tokens[this.at];
  }
  next(what: string): Token {
    return this.tokens[this.at++] ?? this.fail(`expected ${what}`);
  }
  value<T>(what: string, parse: (text: string) => T | null): T {
    const token = this.next(what);
    const value = parse(token.text);
    return value === null ? this.fail(`"${token.text}" is not ${what}`, token) : value;
  }
  /** A number within `max`, named for the error: counts, rates, durations. */
  bounded(what: string, parse: (text: string) => number | null, max: number, unit = ''): number {
    const token = this.peek();
    const value = this.value(what, parse);
    if (value > max)
      this.fail(`"${token!.text}" is more than the ${max.toLocaleString('en-US')}${unit} a script may ask for`, token);
    return value;
  }
  count(): number {
    return this.bounded('a count', parseCount, SCRIPT_LIMITS.users);
  }
  duration(what: string, max: number = SCRIPT_LIMITS.durationMs): number {
    return this.bounded(what, parseDuration, max, ' ms');
  }
  rest(what: string): string {
    const token = this.next(what);
    this.at = this.tokens.length;
    return this.raw.slice(token.column - 1).trimEnd();
  }
  end(): void {
    const extra = this.peek();
    if (extra) this.fail(`unexpected "${extra.text}"`, extra);
  }
  /** One of `words`, or an error naming them. */
  expect(words: readonly string[]): string {
    return this.optional(words) ?? this.fail(`expected ${words.map((w) => `"${w}"`).join(' or ')}`);
  }
  optional(words: readonly string[]): string | null {
    const token = this.peek();
    if (token && words.includes(token.text)) {
      this.at++;
      return token.text;
    }
    return null;
  }
  timeout(): number {
    if (!this.optional(['timeout'])) return DEFAULT_AWAIT_MS;
    return this.duration('a duration like 30s');
  }
}
