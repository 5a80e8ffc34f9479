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
import {
  PART_PROTOCOL_VERSION,
  REFUSED,
  type AgentHello,
  type CoordinatorWelcome,
  type FromPart,
  type ToPart,
} from '../engine/parts/part-protocol.ts';
import { servePart } from '../engine/parts/serve-part.ts';
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
  for (let attempt = 0; ; attempt++) {
    const outcome = await session(flags, name, Number.isFinite(capacity.capacity) ? capacity.capacity : null, own, ca);
    if (outcome.kind === 'ended') return EXIT.passed;
    if (outcome.kind === 'refused') {
      say(`refused by the coordinator: ${outcome.reason}`);
      return outcome.code === REFUSED.badToken ? EXIT.invalid : EXIT.error;
    }
    if (outcome.kind === 'joined') lastSeen = Date.now();
    if (Date.now() - lastSeen > retryForMs) {
      say(`no coordinator at ${flags.coordinator} for ${Math.round(retryForMs / 1000)} s: giving up`);
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

/** One connection to the coordinator, from dial to close. */
function session(
  flags: AgentFlags,
  name: string,
  capacity: number | null,
  own: EngineOptions,
  ca: Buffer | undefined,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(flags.coordinator, {
      rejectUnauthorized: !flags.insecure,
      ca,
      maxPayload: 64 * 1024 * 1024,
      handshakeTimeout: 10_000,
    });
    let isJoined = false;
    let hasEnded = false;
    let stopFleet: (() => Promise<void>) | null = null;
    const listeners: Array<(message: ToPart) => void> = [];
    socket.on('open', () => {
      socket.send(
        JSON.stringify({
          type: 'hello',
          protocol: PART_PROTOCOL_VERSION,
          token: flags.token,
          name,
          capacity,
        } satisfies AgentHello),
      );
    });
    socket.on('message', (data) => {
      let message: ToPart | CoordinatorWelcome;
      try {
        message = JSON.parse(String(data)) as ToPart | CoordinatorWelcome;
      } catch {
        return;
      }
      if (message.type === 'welcome') {
        isJoined = true;
        say(`joined ${flags.coordinator} as ${message.name}`);
        stopFleet = servePart(
          {
            send: (out: FromPart) => {
              if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(out));
            },
            onMessage: (listener) => {
              listeners.push(listener);
            },
          },
          {
            override: own,
            onEnd: () => {
              hasEnded = true;
            },
          },
        );
        return;
      }
      if (message.type === 'end') hasEnded = true;
      // this host's own addresses and limits, whatever the coordinator's were
      for (const listener of listeners) listener(message);
    });
    socket.on('error', () => {});
    socket.on('close', (code, reasonBuffer) => {
      const reason = reasonBuffer.toString() || `code ${code}`;
      void (stopFleet?.() ?? Promise.resolve()).then(() => {
        if (hasEnded || (isJoined && code === REFUSED.ended)) return resolve({ kind: 'ended' });
        if (code === REFUSED.badToken || code === REFUSED.badHello || code === REFUSED.full)
          return resolve({ kind: 'refused', code, reason });
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
