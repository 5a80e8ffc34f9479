/**
 * The variants of `sockstorm compare SCRIPT --variant NAME:KNOBS …`: each names a setup of the
 * bundled servers, `engine=ws,fanout=loop` or `engine=uws,workMs=5`, any knob of the server's
 * `PUT /config` (read as the script's `server KNOB VALUE` reads it, and checked by the same
 * validation) or the `servers`/`workers` counts. Pure: text in, variants or an error naming the
 * variant out, before anything starts.
 */
import { EXIT, ExitError } from '../../target-server/contract/exit-codes.ts';
import { CONFIG_KNOBS, type ServerConfig } from '../../target-server/contract/wire.ts';
import type { EngineOptions } from '../engine/engine-options.ts';
import { parseLine, ScriptError } from '../script/parse.ts';
import { didYouMean } from '../script/did-you-mean.ts';

/** One setup to run the script against. */
export interface Variant {
  name: string;
  /** The knobs as given, normalised: `engine=ws,fanout=loop`. */
  knobs: string;
  serverEngine?: 'uws' | 'ws';
  servers?: number;
  workers?: number;
  serverConfig: Partial<ServerConfig>;
}

/** A malformed variant (104); `code` is stable and the message names the variant. */
export class VariantError extends ExitError {
  constructor(
    readonly variant: string,
    reason: string,
  ) {
    super(`--variant "${variant}": ${reason}`, EXIT.invalid, 'compare.variant');
  }
}

/** Knobs a variant may set beyond the server's own. */
const PROCESS_KNOBS = ['engine', 'servers', 'workers'] as const;

/** Every knob a variant may set, for messages and --help. */
export const VARIANT_KNOBS: readonly string[] = [...PROCESS_KNOBS, ...CONFIG_KNOBS];

// process counts beyond this ask for more processes than a host runs sensibly on loopback
const MAX_PROCESSES = 256;
const NAME = /^[A-Za-z0-9][\w.+-]{0,39}$/;

function processCount(text: string, knob: string, fail: (reason: string) => never): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= MAX_PROCESSES))
    fail(`${knob} must be a whole number 1..${MAX_PROCESSES}, not "${text}"`);
  return value;
}

// a server knob's value, read exactly as the script's `server KNOB VALUE` reads it
function serverValue(knob: string, text: string, fail: (reason: string) => never): ServerConfig[keyof ServerConfig] {
  try {
    const step = parseLine(`server ${knob} ${text}`);
    if (step?.kind === 'engine' && step.command.type === 'server')
      return step.command.value as ServerConfig[keyof ServerConfig];
  } catch (error) {
    if (error instanceof ScriptError) fail(error.reason);
    throw error;
  }
  return fail(`"${knob}=${text}" is not a knob and a value`);
}

/** Parses `NAME:KNOBS` (or bare `KNOBS`, named by its knobs); throws {@link VariantError}. */
export function parseVariant(text: string): Variant {
  const fail = (reason: string): never => {
    throw new VariantError(text, reason);
  };
  const colon = text.indexOf(':');
  const name = colon === -1 ? text.trim() : text.slice(0, colon).trim();
  const body = colon === -1 ? text : text.slice(colon + 1);
  if (colon !== -1 && !NAME.test(name))
    fail(
      `the name "${name}" must be 1..40 letters, digits, or . _ + - (starting with a letter or digit), ` +
        `as in ws-loop:engine=ws,fanout=loop`,
    );
  const pairs = body.split(',').map((pair) => pair.trim());
  if (pairs.some((pair) => pair === ''))
    fail('give its knobs as KNOB=VALUE,KNOB=VALUE, as in ws-loop:engine=ws,fanout=loop');
  const variant: Variant = { name, knobs: '', serverConfig: {} };
  const seen = new Set<string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const knob = eq === -1 ? pair : pair.slice(0, eq).trim();
    const value = eq === -1 ? '' : pair.slice(eq + 1).trim();
    if (!VARIANT_KNOBS.includes(knob))
      fail(`unknown knob "${knob}"${didYouMean(knob, VARIANT_KNOBS)}; knobs are ${VARIANT_KNOBS.join(', ')}`);
    if (eq === -1 || value === '') fail(`"${knob}" has no value: write ${knob}=VALUE`);
    if (seen.has(knob)) fail(`"${knob}" is given twice`);
    seen.add(knob);
    if (knob === 'engine') {
      if (value !== 'uws' && value !== 'ws') fail(`engine must be uws or ws, not "${value}"`);
      variant.serverEngine = value as 'uws' | 'ws';
    } else if (knob === 'servers' || knob === 'workers') {
      variant[knob] = processCount(value, knob, fail);
    } else {
      (variant.serverConfig as Record<string, unknown>)[knob] = serverValue(knob, value, fail);
    }
  }
  variant.knobs = pairs.map((pair) => pair.replace(/\s*=\s*/, '=')).join(',');
  if (colon === -1) variant.name = variant.knobs;
  return variant;
}

/** Parses every `--variant`: two or more, with distinct names; throws {@link VariantError}. */
export function parseVariants(texts: readonly string[]): Variant[] {
  if (texts.length < 2) {
    throw new VariantError(
      texts[0] ?? '',
      `compare needs two or more variants (got ${texts.length}), e.g. --variant ` +
        `ws-loop:engine=ws,fanout=loop --variant uws:engine=uws`,
    );
  }
  const variants = texts.map(parseVariant);
  variants.forEach((variant, i) => {
    if (variants.findIndex((other) => other.name === variant.name) !== i)
      throw new VariantError(texts[i]!, `the name "${variant.name}" is taken by an earlier variant`);
  });
  return variants;
}

/** The engine options of one variant's run: the command's options with the variant's knobs over them. */
export function variantOptions(base: EngineOptions, variant: Variant): EngineOptions {
  return {
    ...base,
    serverEngine: variant.serverEngine ?? base.serverEngine,
    servers: variant.servers ?? base.servers,
    workers: variant.workers ?? base.workers,
    serverConfig: { ...base.serverConfig, ...variant.serverConfig },
  };
}
