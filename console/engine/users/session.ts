/**
 * The per-user session every virtual user of a fleet follows: the protocol preset (its
 * codec), the connect payload, what to send once open (`on open send`), how long a session
 * lasts before a normal close and a reconnect (`session D [jitter D]`: churn), and the checks
 * applied to every message a user receives. Plain state and pure helpers; the fleet drives it.
 */
import { renderTemplate } from '../bundled/broadcast-trigger.ts';
import { pick } from './frame-decoder.ts';
import { compileLinear, MAX_CHECK_SUBJECT_CHARS } from './linear-regex.ts';
import type { Codec } from '../protocols/codec.ts';
import { rawCodec } from '../protocols/raw.ts';
import { NOT_JSON } from '../protocols/target-json.ts';

/** A check's comparison. */
export type CheckOp = 'exists' | '==' | '!=' | '<' | '>' | 'matches';

/** `check NAME PATH OP VALUE`. */
export interface CheckSpec {
  name: string;
  /** Dotted JSON path into the message; `.` is the whole message. */
  path: string;
  op: CheckOp;
  /** The value compared with (JSON if it parses, else text); a regular expression's source for `matches`. */
  value?: string;
}

/** Passes and fails of one check. */
export interface CheckCounts {
  passes: number;
  fails: number;
}

/** A fleet's session settings. */
export class UserSession {
  codec: Codec = rawCodec();
  /** The connect payload template (Socket.IO auth, graphql-ws connection_init payload, MQTT CONNECT fields). */
  connect: string | null = null;
  /** Templates sent, in order, once a user is open. */
  onOpen: string[] = [];
  /** A session's length before a normal close and a reconnect; 0: forever. */
  lifetimeMs = 0;
  jitterMs = 0;
  readonly checks: Array<CheckSpec & { compiled: (message: unknown) => boolean }> = [];
  readonly checkCounts = new Map<string, CheckCounts>();
  /**
   * Request/response probes (`probe RATE/s TEMPLATE reply PATH`): the
   * template, where replies carry the id, and when each id was due.
   */
  probe: { template: string; replyPath: string; pending: Map<number, number> } | null = null;

  /**
   * A reply's probe id, when it answers a pending request/response probe: its
   * intended send time (ms epoch). `message` is as `readTargetJson` read it.
   */
  matchProbe(message: unknown): number | null {
    const probe = this.probe;
    if (
      !probe ||
      probe.replyPath === 'ack' ||
      probe.pending.size === 0 ||
      message === null ||
      typeof message !== 'object'
    )
      return null;
    const id = pick(message, probe.replyPath);
    if (typeof id !== 'number' && typeof id !== 'string') return null;
    const key = Number(id);
    const intended = probe.pending.get(key);
    if (intended === undefined) return null;
    probe.pending.delete(key);
    return intended;
  }

  /** A protocol ack of probe `id` (`reply ack`): its intended send time, when it was pending. */
  matchProbeId(id: number): number | null {
    const intended = this.probe?.pending.get(id);
    if (intended === undefined) return null;
    this.probe!.pending.delete(id);
    return intended;
  }

  /** `users from FILE`: one row per user, round-robin, as `row.NAME` template values. */
  private rows: Array<Record<string, string>> = [];
  /** The same rows percent-encoded, for URLs: encoded once, not at every connect. */
  private urlRows: Array<Record<string, string>> = [];

  setRows(rows: Array<Record<string, string>>): void {
    this.rows = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [`row.${k}`, v])));
    this.urlRows = this.rows.map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, encodeURIComponent(v)])),
    );
  }

  get hasRows(): boolean {
    return this.rows.length > 0;
  }

  /** Values any template may name (`env.NAME`): set apart from the templates, so the templates shown never hold them. */
  values: Readonly<Record<string, string>> = {};

  /** User `vu`'s row of `users from FILE` (`row.NAME` → value), or undefined without rows. */
  rowOf(vu: number): Readonly<Record<string, string>> | undefined {
    return this.rows.length > 0 ? this.rows[vu % this.rows.length] : undefined;
  }

  setValues(values: Record<string, string>): void {
    this.values = { ...values };
  }

  /** Whether a header or a subprotocol may need rendering per user: rows or values are set. */
  get isTemplated(): boolean {
    return this.rows.length > 0 || Object.keys(this.values).length > 0;
  }

  /** Renders a template for one user: `{{vu}}`, `{{now}}`, its row's `{{row.NAME}}`, and `values`. */
  render(template: string, vu: { id: number }, values: Record<string, string | number> = {}): string {
    if (!template.includes('{{')) return template;
    return renderTemplate(template, { vu: vu.id, now: Date.now(), ...this.values, ...this.rowOf(vu.id), ...values });
  }

  /**
   * Renders a target URL for one user: each `{{row.NAME}}` value percent-encoded, so a value is
   * one path segment or query value whatever it holds (`../../admin` reaches the server as
   * `..%2F..%2Fadmin`, not as `/admin`); headers and message templates keep values as they are.
   * Braces that URL parsing encoded (`%7B%7B`) are read as braces.
   */
  renderUrl(url: string, vu: { id: number }): string {
    const template = url.replace(/%7B%7B/gi, '{{').replace(/%7D%7D/gi, '}}');
    if (!template.includes('{{')) return url;
    const row = this.urlRows.length > 0 ? this.urlRows[vu.id % this.urlRows.length] : undefined;
    return renderTemplate(template, { vu: vu.id, now: Date.now(), ...row });
  }

  /** How long this user's session lasts, jitter included; 0 when sessions do not end. */
  lifetimeFor(): number {
    return this.lifetimeMs > 0 ? this.lifetimeMs + Math.random() * this.jitterMs : 0;
  }

  /** Adds or replaces a check. */
  addCheck(spec: CheckSpec): void {
    const at = this.checks.findIndex((c) => c.name === spec.name);
    const check = { ...spec, compiled: compileCheck(spec) };
    if (at >= 0) this.checks[at] = check;
    else this.checks.push(check);
    if (!this.checkCounts.has(spec.name)) this.checkCounts.set(spec.name, { passes: 0, fails: 0 });
  }

  /** Judges one received message by every check: its payload text, and the text as `readTargetJson` read it. */
  judge(text: string, read: unknown): void {
    if (this.checks.length === 0) return;
    const message = read === NOT_JSON ? text : read;
    for (const check of this.checks) {
      const counts = this.checkCounts.get(check.name)!;
      // a message a check cannot judge fails it, and the user goes on
      let isPassed = false;
      try {
        isPassed = check.compiled(message);
      } catch {}
      if (isPassed) counts.passes++;
      else counts.fails++;
    }
  }

  /** A message nothing could read (a bad packet): every check counts a fail. */
  failChecks(): void {
    for (const counts of this.checkCounts.values()) counts.fails++;
  }
}

function literal(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A check as a predicate over a parsed message. */
export function compileCheck(spec: CheckSpec): (message: unknown) => boolean {
  const expected = literal(spec.value);
  switch (spec.op) {
    case 'exists':
      return (m) => pick(m, spec.path) !== undefined;
    case '==':
      return (m) => JSON.stringify(pick(m, spec.path)) === JSON.stringify(expected);
    case '!=':
      return (m) => JSON.stringify(pick(m, spec.path)) !== JSON.stringify(expected);
    case '<':
      return (m) => Number(pick(m, spec.path)) < Number(expected);
    case '>':
      return (m) => Number(pick(m, spec.path)) > Number(expected);
    case 'matches': {
      const re = compileLinear(spec.value ?? '');
      return (m) => {
        const v = pick(m, spec.path);
        if (v === undefined) return false;
        const subject = typeof v === 'string' ? v : JSON.stringify(v);
        // the linear engine's time grows with the subject: a longer one is a fail, not a stall
        return subject.length <= MAX_CHECK_SUBJECT_CHARS && re.test(subject);
      };
    }
  }
}
