/**
 * `sockstorm agent --coordinator URL --token T [--name N] [--source-addresses …]`: a load
 * generator on another host. It dials out to the coordinator (so a pod or a host behind NAT
 * needs no inbound port), says hello with the token and what this host can hold (`tune
 * check`), then runs its share of every command as one fleet part and streams samples. It
 * comes back to a coordinator that restarts, and exits when the run ends (0) or when it is
 * refused (a wrong token: 104).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import WebSocket from 'ws';
import { AGENTS_DEFAULTS, type EngineOptions } from '../engine/engine-options.ts';
import { parseJson, readFromCoordinator } from '../engine/parts/part-messages.ts';
import {
  HELLO_HEADER,
  PART_PROTOCOL_VERSION,
  REFUSED,
  type AgentHello,
  type FromPart,
  type ToPart,
} from '../engine/parts/part-protocol.ts';
import { servePart } from '../engine/parts/serve-part.ts';
import { printable } from '../engine/protocols/shown-text.ts';
import { hostCapacity, hostLimitOf } from '../host-check.ts';
import { EXIT } from '../../target-server/contract/exit-codes.ts';

/** The agent's flags. */
export interface AgentFlags {
  coordinator: string;
  token: string;
  name?: string;
  sourceAddresses?: string;
  /** Accept any TLS certificate from the coordinator (a test certificate). */
  insecure?: boolean;
  /** Allow plain ws:// to a coordinator on another host: the token and commands cross unencrypted. */
  plaintext?: boolean;
  ca?: string;
  /** How long to keep trying to reach a coordinator, ms. @default AGENTS_DEFAULTS.retryForMs */
  retryForMs?: number;
}

const say = (text: string): void => {
  process.stderr.write(`sockstorm agent: ${text}\n`);
};

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || h.startsWith('127.');
}

/** Checks the flags; a message when they cannot work. */
export function checkAgentFlags(flags: AgentFlags): string | null {
  let url: URL;
  try {
    url = new URL(flags.coordinator);
  } catch {
    return `--coordinator "${flags.coordinator}" is not a URL; give one like wss://coordinator:7400`;
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    return `--coordinator must be ws:// or wss://, not ${url.protocol}`;
  // the token and every command would cross the network in the clear
  if (url.protocol === 'ws:' && !isLoopback(url.hostname) && !flags.plaintext)
    return (
      `--coordinator ${flags.coordinator} is plain ws:// to another host: use wss:// (the ` +
      `coordinator's --tls-cert), or --plaintext on a network you trust`
    );
  if (!flags.token || flags.token.length < 16)
    return "--token (or SOCKSTORM_TOKEN) is required: the coordinator's, at least 16 characters";
  return null;
}

/** Runs the agent until the run ends; resolves with the exit code. */
export async function runAgent(flags: AgentFlags): Promise<number> {
  const problem = checkAgentFlags(flags);
  if (problem) {
    say(problem);
    return EXIT.invalid;
  }
  // a Job's index names its pod; two agents on one host outside a Job still get different names
  const name =
    flags.name ??
    (process.env.JOB_COMPLETION_INDEX !== undefined
      ? `agent-${process.env.JOB_COMPLETION_INDEX}`
      : `${hostname()}-${process.pid}`);
  const localAddresses =
    flags.sourceAddresses
      ?.split(',')
      .map((a) => a.trim())
      .filter(Boolean) ?? [];
  const capacity = hostCapacity({ localAddresses }, 1);
  const own: EngineOptions = {
    localAddresses,
    hostLimit: hostLimitOf(capacity),
  };
  const ca = flags.ca ? readFileSync(flags.ca) : undefined;
  const retryForMs = flags.retryForMs ?? AGENTS_DEFAULTS.retryForMs;
  let lastSeen = Date.now();
  let lastReason: string | null = null;
  for (let attempt = 0; ; attempt++) {
    const outcome = await session(flags, name, Number.isFinite(capacity.capacity) ? capacity.capacity : null, own, ca);
    if (outcome.kind === 'ended') return EXIT.passed;
    if (outcome.kind === 'refused') {
      say(`refused by the coordinator: ${outcome.reason}`);
      return outcome.code === REFUSED.badToken ? EXIT.invalid : EXIT.error;
    }
    if (outcome.kind === 'joined') lastSeen = Date.now();
    // why a dial failed is said once, and again when it changes (a certificate this agent cannot trust, say)
    if (outcome.kind === 'unreachable' && outcome.reason !== lastReason)
      say(`cannot reach ${flags.coordinator}: ${outcome.reason}`);
    lastReason = outcome.reason;
    if (Date.now() - lastSeen > retryForMs) {
      say(
        `no coordinator at ${flags.coordinator} for ${Math.round(retryForMs / 1000)} s (the last try: ${outcome.reason}): giving up`,
      );
      return EXIT.error;
    }
    const delay = Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
    if (outcome.kind === 'joined') say(`lost the coordinator (${outcome.reason}); the fleet is stopped; trying again`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

type Outcome =
  | { kind: 'ended' }
  | { kind: 'refused'; code: number; reason: string }
  | { kind: 'joined' | 'unreachable'; reason: string };

/** What a TLS failure to reach the coordinator was, and what to do: by Node's error codes. */
export function describeTlsError(error: Error & { code?: string }): string | null {
  const code = error.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the coordinator's certificate is not for this name (${error.message.replace(/^Hostname\/IP does not match certificate's altnames: /, '')}): dial the name or address it names, or give it a certificate for this one`;
  if (code === 'CERT_HAS_EXPIRED') return "the coordinator's certificate has expired: give the coordinator a new one";
  if (code === 'CERT_NOT_YET_VALID')
    return "the coordinator's certificate is not valid yet: check the clocks of both hosts";
  if (
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT'
  )
    return `the coordinator's certificate is signed by a CA this agent does not trust (${code}): give --ca with the CA's PEM (or --insecure for a test certificate)`;
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /certificate|SSL|TLS/i.test(error.message))
    return `TLS failed (${code || error.message}): check the coordinator's --tls-cert and this agent's --ca`;
  return null;
}

/** Refusals said before an agent stops saying them: a coordinator gone wrong must not flood stderr. */
const SAID_MOST = 10;

/** One connection to the coordinator, from dial to close. */
function session(
  flags: AgentFlags,
  name: string,
  capacity: number | null,
  own: EngineOptions,
  ca: Buffer | undefined,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const hello: AgentHello = { type: 'hello', protocol: PART_PROTOCOL_VERSION, token: flags.token, name, capacity };
    // the hello rides in the upgrade request: the coordinator checks it before any WebSocket exists
    const socket = new WebSocket(flags.coordinator, {
      rejectUnauthorized: !flags.insecure,
      ca,
      maxPayload: 64 * 1024 * 1024,
      handshakeTimeout: 10_000,
      headers: { [HELLO_HEADER]: Buffer.from(JSON.stringify(hello)).toString('base64url') },
    });
    let isJoined = false;
    let hasEnded = false;
    let said = 0;
    let dialError: string | null = null;
    let outcome: Outcome | null = null;
    let stopFleet: (() => Promise<void>) | null = null;
    const listeners: Array<(message: ToPart) => void> = [];
    const settle = (next: Outcome): void => {
      outcome ??= next;
    };
    const sayBad = (text: string): void => {
      if (++said <= SAID_MOST) say(text);
    };
    const send = (out: FromPart): void => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(out));
    };
    // a refusal at the upgrade: its status says why, its body in words
    socket.on('unexpected-response', (request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 1024) body += chunk;
      });
      const done = (): void => {
        const status = response.statusCode ?? 0;
        const reason = printable(body.trim() || `HTTP ${status}`, 300);
        if (status === REFUSED.badToken || status === REFUSED.badHello || status === REFUSED.full)
          settle({ kind: 'refused', code: status, reason });
        else settle({ kind: 'unreachable', reason: `the coordinator answered HTTP ${status}` });
        request.destroy();
        socket.terminate();
      };
      response.once('end', done);
      response.once('error', done);
    });
    socket.on('message', (data) => {
      const json = parseJson(String(data));
      const checked = json.ok ? readFromCoordinator(json.message) : json;
      if (!checked.ok) {
        // a command it cannot read is refused, and said: the part goes on
        const raw = json.ok ? (json.message as { type?: unknown; id?: unknown } | null) : null;
        if (raw?.type === 'apply' && typeof raw.id === 'number')
          send({
            type: 'result',
            id: raw.id,
            result: { ok: false, message: `refused: ${checked.reason}` },
            live: { open: 0, target: 0, isRecovered: true, killed: 0 },
          });
        sayBad(`refused a bad message from the coordinator: ${printable(checked.reason, 200)}`);
        return;
      }
      const message = checked.message;
      if (message.type === 'welcome') {
        if (isJoined) return sayBad('ignored a second welcome from the coordinator');
        isJoined = true;
        say(`joined ${flags.coordinator} as ${printable(message.name, 64)}`);
        stopFleet = servePart(
          {
            send,
            onMessage: (listener) => {
              listeners.push(listener);
            },
          },
          {
            override: own,
            // the run is over: this side closes too, whether or not the coordinator does
            onEnd: () => {
              hasEnded = true;
              socket.close(1000, 'run ended');
            },
          },
        );
        return;
      }
      if (!isJoined) return sayBad(`ignored a ${message.type} from the coordinator before its welcome`);
      if (message.type === 'end') hasEnded = true;
      // this host's own addresses and limits, whatever the coordinator's were
      for (const listener of listeners) listener(message);
    });
    socket.on('error', (error: Error & { code?: string }) => {
      dialError ??= describeTlsError(error) ?? (error.code ? `${error.code}: ${error.message}` : error.message);
    });
    socket.on('close', (code, reasonBuffer) => {
      const reason = printable(reasonBuffer.toString(), 300) || dialError || `code ${code}`;
      void (stopFleet?.() ?? Promise.resolve()).then(() => {
        if (outcome) return resolve(outcome);
        if (hasEnded || (isJoined && code === REFUSED.ended)) return resolve({ kind: 'ended' });
        resolve({ kind: isJoined ? 'joined' : 'unreachable', reason });
      });
    });
  });
}

/** `sockstorm agent`: the flags as the option table reads them; resolves with the exit code. */
export function runAgentCommand(
  flags: Omit<AgentFlags, 'token' | 'retryForMs'> & { token?: string; retryFor?: number },
): Promise<number> {
  const { retryFor, ...rest } = flags;
  return runAgent({
    ...rest,
    token: flags.token ?? process.env.SOCKSTORM_TOKEN ?? '',
    retryForMs: retryFor === undefined ? undefined : retryFor * 1000,
  });
}
