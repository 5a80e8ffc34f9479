/**
 * How the option table (cli-options.ts) reads a flag: the name commander keeps its value under,
 * and the checks that turn its text into a value or say, naming the flag, what it must be.
 */
import { InvalidArgumentError } from 'commander';

/** A flag's check: its text (and what it held before, for a repeated flag) to its value. */
export type Check = (value: string, previous: unknown) => unknown;

/** The flag of a row's flags: `--rate` of `--rate <n>`. */
export const flagName = (flags: string): string => flags.split(/[ ,]/)[0]!;

/**
 * The name commander keeps a flag's value under: `--max-in-flight` is `maxInFlight`, `--no-host-check` is `hostCheck`.
 */
export const attributeOf = (flags: string): string =>
  flagName(flags)
    .replace(/^--(no-)?/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** A positive number (a whole one when `isInteger`); `1000/s` reads as 1000. */
export function positive(isInteger: boolean): (flag: string) => Check {
  return (flag) => (value) => {
    const parsed = Number(value.replace(/\/s$/, ''));
    if (!Number.isFinite(parsed) || parsed <= 0 || (isInteger && !Number.isInteger(parsed))) {
      throw new InvalidArgumentError(
        `${flag} must be a positive ${isInteger ? 'whole number' : 'number'}, not "${value}"`,
      );
    }
    return parsed;
  };
}

/** A port, 0..65535. */
export const port =
  (flag: string): Check =>
  (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
      throw new InvalidArgumentError(`${flag} must be a port 0..65535, not "${value}"`);
    return parsed;
  };

/** `500ms`, `2s`, or a bare number of seconds; at least 100 ms. */
export const interval =
  (flag: string): Check =>
  (value) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
    const parsed = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : 1000) : Number.NaN;
    if (!(parsed >= 100))
      throw new InvalidArgumentError(`${flag} must be a duration of at least 100ms (500ms, 5s), not "${value}"`);
    return parsed;
  };

/** A whole number 1..`max`. */
export const wholeUpTo =
  (max: number) =>
  (flag: string): Check =>
  (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max)
      throw new InvalidArgumentError(`${flag} must be a whole number 1..${max}, not "${value}"`);
    return parsed;
  };

/** Seconds, 0..3600. */
export const seconds =
  (flag: string): Check =>
  (value) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0 || parsed > 3600)
      throw new InvalidArgumentError(`${flag} must be seconds 0..3600, not "${value}"`);
    return parsed;
  };

/** An http:// or https:// URL (an OTLP receiver). */
export const httpUrl =
  (flag: string): Check =>
  (value) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new InvalidArgumentError(
        `${flag} must be an http:// or https:// URL (an OTLP receiver, e.g. http://127.0.0.1:4318), not "${value}"`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new InvalidArgumentError(`${flag} must be an http:// or https:// URL (OTLP over HTTP), not "${value}"`);
    return value;
  };

/** A flag given more than once: every value, in order. */
export const repeatable = (): Check => (value, previous) => [...((previous as string[] | undefined) ?? []), value];

/** A comma-separated list, trimmed, without empty items. */
export const list = (text: unknown): string[] | undefined =>
  typeof text === 'string'
    ? text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
    : undefined;
