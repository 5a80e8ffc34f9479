/**
 * The per-user session lines of the command language (issue 11): `protocol`, `on open send`,
 * `session`, `check`, `users from`, and the request/response form of `probe`. Pure, like the
 * rest of the parser; `parse.ts` calls these from its one switch.
 */
import type { EngineCommand } from '../engine/commands.ts';
import { PROTOCOLS, type ProtocolName } from '../engine/protocols/codec.ts';
import { linearRegexProblem } from '../engine/users/linear-regex.ts';
import type { CheckOp, CheckSpec } from '../engine/users/session.ts';
import { type LineParser, SCRIPT_LIMITS } from './line-parser.ts';
import { parseRate } from './units.ts';

type Command<T extends EngineCommand['type']> = Extract<EngineCommand, { type: T }>;

const CHECK_OPS = ['exists', '==', '!=', '<', '>', 'matches'] as const;

export function parseProtocol(p: LineParser): Command<'protocol'> {
  const name = p.value(`a protocol (${PROTOCOLS.join(', ')})`, (t) =>
    (PROTOCOLS as readonly string[]).includes(t) ? (t as ProtocolName) : null,
  );
  const command: Command<'protocol'> = { type: 'protocol', name };
  for (
    let word = p.optional(['namespace', 'keepalive', 'mqtt5']);
    word;
    word = p.optional(['namespace', 'keepalive', 'mqtt5'])
  ) {
    if (word === 'namespace')
      command.namespace = p.value('a namespace like /chat', (t) => (t.startsWith('/') ? t : null));
    else if (word === 'keepalive')
      command.keepaliveS = Math.max(1, Math.round(p.duration('a keepalive like 30s', 3_600_000) / 1000));
    else command.mqttVersion = 5;
  }
  return command;
}

export function parseCheck(p: LineParser): CheckSpec {
  const name = p.value('a check name (letters, digits, _ and -)', (t) => (/^[A-Za-z][\w-]{0,63}$/.test(t) ? t : null));
  const path = p.value('a JSON path like data.price (or . for the whole message)', (t) =>
    /^(\.|[\w$-]+(\.[\w$-]+)*)$/.test(t) ? t : null,
  );
  const op = p.value(`an operator (${CHECK_OPS.join(', ')})`, (t) =>
    (CHECK_OPS as readonly string[]).includes(t) ? (t as CheckOp) : null,
  );
  if (op === 'exists') return { name, path, op };
  if (op === 'matches') {
    const token = p.peek();
    const source = p.rest('a regular expression like /^ok/');
    const re = /^\/(.*)\/$/.exec(source);
    if (!re) p.fail(`"${source}" is not a regular expression like /^ok/`, token);
    try {
      new RegExp(re![1]!);
    } catch (error) {
      p.fail(`"${source}" is not a regular expression: ${(error as Error).message}`, token);
    }
    const problem = linearRegexProblem(re![1]!);
    if (problem)
      p.fail(
        `check ${name}: ${source} cannot run in linear time, so a target's message could freeze the run ` +
          `on it: ${problem}`,
        token,
      );
    return { name, path, op, value: re![1]! };
  }
  return { name, path, op, value: p.rest('a value (JSON, or text)') };
}

/**
 * `probe RATE/s`, `probe off`, or `probe RATE/s TEMPLATE reply PATH` (request/response, the template carrying {{id}}).
 */
export function parseProbe(p: LineParser): Command<'probe'> {
  if (p.optional(['off'])) return { type: 'probe', perSec: 0 };
  const perSec = p.bounded('a rate like 100/s', parseRate, SCRIPT_LIMITS.sendRate, '/s');
  if (!p.peek()) return { type: 'probe', perSec };
  const token = p.peek()!;
  const rest = p.rest('a probe template');
  const at = rest.lastIndexOf(' reply ');
  if (at < 0) p.fail('a probe template needs "reply PATH": where the answer carries the id', token);
  const template = rest.slice(0, at).trim();
  const replyPath = rest.slice(at + 7).trim();
  // `reply ack`: the protocol acknowledges the message itself (Socket.IO acks), no id in the template needed
  if (replyPath !== 'ack' && !template.includes('{{id}}'))
    p.fail(
      'a probe template must carry {{id}}, so its reply can be matched (or reply ack, for a protocol ' +
        'that acknowledges)',
      token,
    );
  if (!/^[\w$-]+(\.[\w$-]+)*$/.test(replyPath)) p.fail(`"${replyPath}" is not a JSON path like id or meta.id`, token);
  return { type: 'probe', perSec, template, replyPath };
}

/** `on open send TEMPLATE` or `on open off`. */
export function parseOnOpen(p: LineParser): Command<'on-open'> {
  p.expect(['open']);
  if (p.optional(['off'])) return { type: 'on-open', template: null };
  p.expect(['send']);
  return { type: 'on-open', template: p.rest('a message template') };
}

/** `session D [jitter D]` or `session off`. */
export function parseSession(p: LineParser): Command<'session'> {
  if (p.optional(['off'])) return { type: 'session', lifetimeMs: 0, jitterMs: 0 };
  const lifetimeMs = p.duration('a session length like 30s');
  const jitterMs = p.optional(['jitter']) ? p.duration('a jitter like 5s') : 0;
  return { type: 'session', lifetimeMs, jitterMs };
}

/** `users from FILE`: the file is read before the run (user-rows.ts), where its errors get their places too. */
export function parseUsers(p: LineParser): Command<'users'> {
  p.expect(['from']);
  return { type: 'users', file: p.rest('a CSV or JSON-lines file'), rows: [] };
}
