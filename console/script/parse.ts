/**
 * The command language shared by scripts and the console's command line: one command a line,
 * `#` comments. Pure: text in, steps or a located error out (1-based line and column).
 */
import {
  BROADCAST_LIMITS,
  CONFIG_KNOBS,
  CONFIG_UNITS,
  validateConfigPatch,
} from '../../target-server/contract/wire.ts';
import type { EngineCommand, KillMode, ReconnectPolicy, VictimChoice } from '../engine/commands.ts';
import { parseCheck, parseOnOpen, parseProbe, parseProtocol, parseSession, parseUsers } from './parse-session.ts';
import { EngineConfigError, validateTargetUrl } from '../engine/engine-options.ts';
import {
  isKnownMetric,
  METRIC_HELP,
  parseThresholdValue,
  splitOperator,
  type Threshold,
} from '../verdict/thresholds.ts';
import { LineParser, SCRIPT_LIMITS, ScriptError, ScriptErrors, tokenize, type Token } from './line-parser.ts';
import { parseCount, parseDuration, parsePercent, parseRate, parseSize } from './units.ts';
import { didYouMean } from './did-you-mean.ts';

export { SCRIPT_LIMITS, ScriptError, ScriptErrors } from './line-parser.ts';

/** One step of a script. */
export type ScriptStep = { line: number; text: string } & (
  | { kind: 'engine'; command: EngineCommand }
  | { kind: 'ramp'; command: Extract<EngineCommand, { type: 'ramp' }>; until: Threshold[] }
  | { kind: 'target'; url: string }
  | { kind: 'wait'; ms: number }
  | { kind: 'await-open'; count: number; timeoutMs: number }
  | { kind: 'await-recovered'; timeoutMs: number }
  | { kind: 'expect'; threshold: Threshold }
  | { kind: 'report'; file: string }
);

type StepBody = ScriptStep extends infer S ? (S extends ScriptStep ? Omit<S, 'line' | 'text'> : never) : never;

export const COMMAND_NAMES = [
  'target',
  'vus',
  'add',
  'remove',
  'rate',
  'ramp',
  'wait',
  'await',
  'probe',
  'messages',
  'broadcast',
  'kill',
  'slow',
  'reconnect',
  'server',
  'expect',
  'mark',
  'report',
  'stop',
  'stall',
  'protocol',
  'connect',
  'on',
  'session',
  'check',
  'users',
] as const;

function parsePolicy(p: LineParser): ReconnectPolicy {
  const kind = p.next('a policy: off, immediate, fixed D, expo MIN..MAX [none|full|equal]');
  if (kind.text === 'off' || kind.text === 'immediate') return { kind: kind.text };
  if (kind.text === 'fixed') return { kind: 'fixed', delayMs: p.duration('a duration like 1s') };
  if (kind.text !== 'expo') {
    const near = didYouMean(kind.text, ['off', 'immediate', 'fixed', 'expo']);
    p.fail(`unknown policy "${kind.text}"${near}; use off, immediate, fixed D or expo MIN..MAX`, kind);
  }
  const range = p.next('a range like 100ms..10s');
  const [min, max] = range.text.split('..').map((part) => parseDuration(part));
  if (min == null || max == null || min <= 0 || max < min)
    p.fail(`"${range.text}" is not a range like 100ms..10s`, range);
  if (max > SCRIPT_LIMITS.durationMs)
    p.fail(`"${range.text}" reaches past the ${SCRIPT_LIMITS.durationMs} ms a script may ask for`, range);
  const jitter = (p.optional(['none', 'full', 'equal']) ?? 'full') as 'none' | 'full' | 'equal';
  return { kind: 'expo', minMs: min, maxMs: max, jitter };
}

function parseBroadcast(p: LineParser): EngineCommand {
  const command: Extract<EngineCommand, { type: 'broadcast' }> = { type: 'broadcast', count: 1, sizeBytes: 16 };
  const first = p.peek();
  if (first && /^\d+$/.test(first.text)) command.count = p.bounded('a count', parseCount, BROADCAST_LIMITS.maxCount);
  for (let word = p.optional(['size', 'topic', 'every']); word; word = p.optional(['size', 'topic', 'every'])) {
    if (word === 'size')
      command.sizeBytes = p.bounded('a size like 64 or 1KiB', parseSize, BROADCAST_LIMITS.maxSizeBytes, ' bytes');
    else if (word === 'topic') command.topic = p.next('a topic').text;
    else command.everyMs = p.duration('a duration like 100ms');
  }
  const stray = p.peek();
  if (stray && /^[a-z]+$/i.test(stray.text))
    p.fail(`unexpected "${stray.text}"${didYouMean(stray.text, ['size', 'topic', 'every'])}`, stray);
  if (command.count < 1) p.fail('a broadcast needs a count of at least 1', first);
  // `every` sends them one at a time; back to back they are one request to the server
  if (!command.everyMs && command.count * command.sizeBytes > BROADCAST_LIMITS.maxTotalBytes) {
    p.fail(
      `${command.count} × ${command.sizeBytes} bytes is more than the ` +
        `${BROADCAST_LIMITS.maxTotalBytes} bytes one burst may carry; use "every" or fewer`,
      first,
    );
  }
  return command;
}

function parseKill(p: LineParser): EngineCommand {
  const percent = p.value('a percentage like 20%', parsePercent);
  const mode = (p.optional(['reset', 'close', 'server']) ?? 'reset') as KillMode;
  const victims = (p.optional(['random', 'oldest', 'newest']) ?? 'random') as VictimChoice;
  return { type: 'kill', percent, mode, victims };
}

// each knob in the unit the wire gives it (CONFIG_UNITS): a duration in ms or s, a size, a share
function parseServerValue(knob: string, text: string): number | string | boolean {
  if (text === 'true' || text === 'on') return true;
  if (text === 'false' || text === 'off') return false;
  const unit = Object.hasOwn(CONFIG_UNITS, knob) ? CONFIG_UNITS[knob] : undefined;
  const duration = parseDuration(text);
  if (duration !== null) return unit === 's' ? duration / 1000 : duration;
  if (unit === 'bytes' && /[a-z]$/i.test(text)) return parseSize(text) ?? text;
  if (unit === 'percent' && text.endsWith('%')) return parsePercent(text) ?? text;
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

function parseServer(p: LineParser): EngineCommand {
  const knobToken = p.next(`a knob: ${CONFIG_KNOBS.join(', ')}`);
  if (!CONFIG_KNOBS.includes(knobToken.text as never)) {
    const near = didYouMean(knobToken.text, CONFIG_KNOBS);
    p.fail(`unknown knob "${knobToken.text}"${near}; knobs are ${CONFIG_KNOBS.join(', ')}`, knobToken);
  }
  const valueToken = p.next('a value');
  const value = parseServerValue(knobToken.text, valueToken.text);
  // the server's own validation, run here: a bad knob fails the script before any socket
  const checked = validateConfigPatch({ [knobToken.text]: value });
  if (!checked.ok) p.fail(checked.message, valueToken);
  return { type: 'server', knob: knobToken.text, value };
}

function parseExpect(p: LineParser): Threshold {
  const metricToken = p.next('a metric');
  const metric = metricToken.text;
  if (!isKnownMetric(metric)) p.fail(`unknown metric "${metric}"; use ${METRIC_HELP}`, metricToken);
  const opToken = p.next('an operator (< <= > >= == !=)');
  const split =
    splitOperator(opToken.text) ?? p.fail(`"${opToken.text}" is not an operator (< <= > >= == !=)`, opToken);
  const valueToken = split.rest ? opToken : p.next('a value');
  const value = parseThresholdValue(metric, split.rest || valueToken.text);
  if (typeof value === 'string') p.fail(value, valueToken);
  return { metric, op: split.op, value, source: `${metric} ${split.op} ${split.rest || valueToken.text}` };
}

function parseTarget(p: LineParser): string {
  const token = p.next('a ws:// or wss:// URL');
  try {
    validateTargetUrl(token.text);
  } catch (error) {
    if (error instanceof EngineConfigError) p.fail(error.message, token);
    throw error;
  }
  return token.text;
}

function parseBody(name: Token, p: LineParser): StepBody {
  switch (name.text) {
    case 'target':
      return { kind: 'target', url: parseTarget(p) };
    case 'vus':
      return { kind: 'engine', command: { type: 'set-target', count: p.count() } };
    case 'add':
      return { kind: 'engine', command: { type: 'add', count: p.count() } };
    case 'remove':
      return { kind: 'engine', command: { type: 'remove', count: p.count() } };
    case 'rate':
      return {
        kind: 'engine',
        command: {
          type: 'set-rate',
          perSec: p.bounded(
            'a rate like 500/s',
            (t) => {
              const r = parseRate(t);
              return r && r > 0 ? r : null;
            },
            SCRIPT_LIMITS.connectRate,
            '/s',
          ),
        },
      };
    case 'ramp': {
      const count = p.count();
      if (!p.optional(['over'])) p.fail('expected "over D", as in: ramp 1000 over 30s');
      const overMs = p.duration('a duration like 30s');
      const until: Threshold[] = [];
      if (p.optional(['until'])) {
        do {
          const limit = parseExpect(p);
          if (!/^(connect|rtt|fanout)\.p(50|90|99)$|^errors\.rate$/.test(limit.metric)) {
            p.fail(`"until" watches connect|rtt|fanout.p50|p90|p99 or errors.rate per second, not ${limit.metric}`);
          }
          until.push(limit);
        } while (p.optional(['or']));
      }
      return { kind: 'ramp', command: { type: 'ramp', count, overMs }, until };
    }
    case 'wait':
      return { kind: 'wait', ms: p.duration('a duration like 5s') };
    case 'await': {
      const what = p.next('"open N" or "recovered"');
      if (what.text === 'open') {
        const count = p.count();
        return { kind: 'await-open', count, timeoutMs: p.timeout() };
      }
      if (what.text === 'recovered') return { kind: 'await-recovered', timeoutMs: p.timeout() };
      const near = didYouMean(what.text, ['open', 'recovered']);
      return p.fail(`"await ${what.text}"${near}: use "await open N" or "await recovered"`, what);
    }
    case 'probe':
      return { kind: 'engine', command: parseProbe(p) };
    case 'messages': {
      const perSec = p.optional(['off']) ? 0 : p.bounded('a rate like 10/s', parseRate, SCRIPT_LIMITS.sendRate, '/s');
      return {
        kind: 'engine',
        command: { type: 'messages', perSec, template: perSec > 0 ? p.rest('a message template') : '' },
      };
    }
    case 'broadcast':
      return { kind: 'engine', command: parseBroadcast(p) };
    case 'kill':
      return { kind: 'engine', command: parseKill(p) };
    case 'slow': {
      const percent = p.value('a percentage like 10%', parsePercent);
      if (!p.optional(['for'])) p.fail('expected "for D", as in: slow 10% for 5s');
      return { kind: 'engine', command: { type: 'slow', percent, forMs: p.duration('a duration like 5s') } };
    }
    case 'reconnect':
      return { kind: 'engine', command: { type: 'reconnect', policy: parsePolicy(p) } };
    case 'server':
      return { kind: 'engine', command: parseServer(p) };
    case 'expect':
      return { kind: 'expect', threshold: parseExpect(p) };
    case 'mark':
      return { kind: 'engine', command: { type: 'mark', label: p.rest('a label') } };
    case 'report':
      return { kind: 'report', file: p.next('a file name').text };
    case 'stop':
      return { kind: 'engine', command: { type: 'stop' } };
    case 'stall':
      return {
        kind: 'engine',
        command: { type: 'stall', ms: p.duration('a duration like 200ms', SCRIPT_LIMITS.stallMs) },
      };
    case 'protocol':
      return { kind: 'engine', command: parseProtocol(p) };
    case 'connect':
      return {
        kind: 'engine',
        command: {
          type: 'connect-payload',
          template: p.optional(['off']) ? null : p.rest('a connect payload template, e.g. {"token":"abc"}'),
        },
      };
    case 'on':
      return { kind: 'engine', command: parseOnOpen(p) };
    case 'session':
      return { kind: 'engine', command: parseSession(p) };
    case 'check':
      return { kind: 'engine', command: { type: 'check', check: parseCheck(p) } };
    case 'users':
      return { kind: 'engine', command: parseUsers(p) };
    default:
      return p.fail(
        `unknown command "${name.text}"${didYouMean(name.text, COMMAND_NAMES)}; commands are ${COMMAND_NAMES.join(', ')}`,
        name,
      );
  }
}

/** Parses one line; null for blank lines and comments. Line numbers are 1-based. */
export function parseLine(raw: string, line = 1): ScriptStep | null {
  const text = raw.replace(/(^|\s)#.*$/, '').trimEnd();
  const tokens = tokenize(text);
  if (tokens.length === 0) return null;
  const parser = new LineParser(tokens, line, text);
  const body = parseBody(tokens[0]!, parser);
  parser.end();
  return { line, text: text.trim(), ...body } as ScriptStep;
}

/** Parses a whole script; throws {@link ScriptErrors} with every bad line at once. */
export function parseScript(source: string): ScriptStep[] {
  const steps: ScriptStep[] = [];
  const errors: ScriptError[] = [];
  source.split(/\r?\n/).forEach((raw, index) => {
    try {
      const step = parseLine(raw, index + 1);
      if (step) steps.push(step);
    } catch (error) {
      if (!(error instanceof ScriptError)) throw error;
      errors.push(error);
    }
  });
  const firstEngine = steps.findIndex(
    (step) => step.kind !== 'target' && step.kind !== 'expect' && step.kind !== 'report',
  );
  for (const [index, step] of steps.entries()) {
    if (step.kind === 'target' && firstEngine !== -1 && index > firstEngine)
      errors.push(new ScriptError(step.line, 1, '"target" must come before the first command that drives the fleet'));
  }
  if (
    errors.length === 0 &&
    !steps.some((step) => step.kind !== 'target' && step.kind !== 'expect' && step.kind !== 'report')
  ) {
    errors.push(
      new ScriptError(1, 1, 'the script has no command that drives the fleet (vus, ramp, add, …): nothing would run'),
    );
  }
  if (errors.length > 0) throw new ScriptErrors(errors.sort((a, b) => a.line - b.line));
  return steps;
}
