/**
 * Engine options, merged with defaults and validated before any socket opens (an invalid
 * URL is a config error with a clear message, never a failed connection).
 */
import { isIP } from 'node:net';
import type { ReconnectPolicy } from './commands.ts';
import type { FramePaths } from './users/frame-decoder.ts';
import { DEFAULT_RECONNECT_POLICY } from './users/reconnect-policy.ts';
import { EXIT, ExitError } from '../../target-server/contract/exit-codes.ts';
import type { ServerConfig } from '../../target-server/contract/wire.ts';
import { PROTOCOLS, type ProtocolName } from './protocols/codec.ts';
import { maskCredentials } from './protocols/shown-text.ts';

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** A `ws://` or `wss://` URL; without one the engine starts the bundled server. */
  target?: string;
  /** Engine of the bundled server. @default 'uws' */
  serverEngine?: 'uws' | 'ws';
  /** Bundled server processes, each on its own port; VUs spread over them. @default 1 */
  servers?: number;
  /** Several target URLs, VUs spread over them round-robin (a coordinator sets it for its shards). */
  targets?: string[];
  /** Subprotocols offered at the upgrade. @default [] */
  protocols?: string[];
  /** Extra upgrade request headers. @default {} */
  headers?: Record<string, string>;
  /** Accept any TLS certificate (test targets only). @default false */
  insecure?: boolean;
  /** Largest frame a VU accepts, bytes (and the largest MQTT packet). @default 1048576 */
  maxPayloadBytes?: number;
  /**
   * Bytes the fleet's users may hold across frames (partial MQTT packets,
   * Socket.IO attachments), all together; split over processes. @default 67108864
   */
  heldBudgetBytes?: number;
  /** How long one partial packet may be held before it is dropped, ms. @default 10000 */
  heldDeadlineMs?: number;
  /** Handshake timeout, ms. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Most bytes a user holds unsent; over it a send is dropped and counted as `send.dropped`. @default 1048576 */
  sendBufferBytes?: number;
  /** permessage-deflate. @default false */
  compression?: boolean;
  /** Connect rate, VUs per second. @default 1000 */
  ratePerSec?: number;
  /** Most handshakes pending at once. @default 500 */
  maxInFlight?: number;
  /** Topics VUs subscribe to at open (bundled server: `?topics=`). @default ['all'] */
  topics?: string[];
  /** Local addresses to spread VUs over (bind before connect). @default [] */
  localAddresses?: string[];
  /** Where fan-out fields live in a real target's messages. */
  framePaths?: FramePaths;
  /** Broadcast trigger for a real target: `METHOD URL [BODY]`. */
  broadcastHttp?: string;
  /** Broadcast trigger for a real target: a frame a VU sends, which the server fans out. */
  broadcastSend?: string;
  /** Initial reconnect policy. @default expo 100ms..5s full jitter */
  reconnect?: ReconnectPolicy;
  /** Snapshot period, ms. @default 1000 */
  snapshotIntervalMs?: number;
  /** Generator processes to split the fleet over (each holds up to its own fd limit). @default 1 */
  workers?: number;
  /** This host's capacity, when the entry checked it. */
  hostLimit?: HostLimit;
  /** Where the bundled servers listen (agents on other hosts must reach them). @default '127.0.0.1' */
  serverHost?: string;
  /** Initial knobs of the bundled servers. */
  serverConfig?: Partial<ServerConfig>;
  /** The protocol every user speaks (`--protocol`). @default raw */
  protocol?: ProtocolName;
  /** Run the fleet on remote agents that dial in (`--agents N --listen HOST:PORT --token T`). */
  agents?: AgentsOptions;
}

/** The coordinator's side of a run over remote agents. */
export interface AgentsOptions {
  count: number;
  /** HOST:PORT to listen on for agents. */
  listen: string;
  token: string;
  /** PEM files: agents then dial wss://. */
  tlsCert?: string;
  tlsKey?: string;
  /** How long to wait for every agent to join. @default 60000 */
  joinTimeoutMs?: number;
}

/** How long the coordinator and its agents wait for each other, in one place (the CLI shows them in seconds). */
export const AGENTS_DEFAULTS = Object.freeze({
  /** The coordinator waits this long for every agent to join. */
  joinTimeoutMs: 60_000,
  /** An agent keeps trying to reach a coordinator this long. */
  retryForMs: 300_000,
});

/**
 * What this host can hold, from the tuning check made once at the entry (`run`, the console):
 * the engine says so before a target beyond it, and knows nothing of tuning itself.
 */
export interface HostLimit {
  capacity: number;
  /** The limit that binds, as `tune check` names it. */
  binding: string;
}

type Unset =
  | 'target'
  | 'targets'
  | 'framePaths'
  | 'broadcastHttp'
  | 'broadcastSend'
  | 'hostLimit'
  | 'serverHost'
  | 'serverConfig'
  | 'agents'
  | 'protocol';

/** Options with every default filled in. */
export type ResolvedOptions = Required<Omit<EngineOptions, Unset>> & Pick<EngineOptions, Unset>;

/** The bundled server's URL with `?topics=` so VUs subscribe at open. */
export function withTopics(url: string, topics: string[]): string {
  const parsed = new URL(url);
  if (topics.length > 0) parsed.searchParams.set('topics', topics.join(','));
  return parsed.toString();
}

/**
 * A bad option (104); `code` is stable (`config.url`,
 * `config.option`, `config.dns`: the target's host does not resolve).
 */
export class EngineConfigError extends ExitError {
  constructor(
    readonly code: 'config.url' | 'config.option' | 'config.dns',
    message: string,
  ) {
    super(message, EXIT.invalid, code);
  }
}

/**
 * Raised when the agents did not all join in time (106), cannot be listened for (104), or a stop
 * came first (105); `code` is stable.
 */
export class AgentsError extends ExitError {
  constructor(
    readonly code: 'agents.timeout' | 'agents.listen' | 'agents.stopped',
    message: string,
  ) {
    super(
      message,
      code === 'agents.timeout' ? EXIT.host : code === 'agents.stopped' ? EXIT.signal : EXIT.invalid,
      code,
    );
  }
}

/** Checks a target URL: parseable, ws: or wss:, with a host. Messages show it with its credentials masked. */
export function validateTargetUrl(target: string): URL {
  let url: URL;
  const shown = maskCredentials(target);
  try {
    url = new URL(target);
  } catch {
    throw new EngineConfigError('config.url', `"${shown}" is not a URL; give one like ws://127.0.0.1:8080/path`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new EngineConfigError('config.url', `"${shown}" uses ${url.protocol} but the target must be ws:// or wss://`);
  }
  if (!url.hostname) throw new EngineConfigError('config.url', `"${shown}" has no host`);
  return url;
}

/** Why a protocol preset cannot run against the bundled server, and what to give instead. */
export function presetNeedsTarget(protocol: string): string {
  return (
    `protocol ${protocol} speaks to your own server: give --target ws://HOST:PORT/PATH (the bundled ` +
    `server speaks raw WebSocket only)`
  );
}

function positive(name: string, value: number, isInteger = true): number {
  if (!Number.isFinite(value) || value <= 0 || (isInteger && !Number.isInteger(value))) {
    throw new EngineConfigError(
      'config.option',
      `${name} must be a positive ${isInteger ? 'integer' : 'number'}, not ${value}`,
    );
  }
  return value;
}

/** Every default of the engine's options, in one place (the CLI's --help shows them from here). */
export const ENGINE_DEFAULTS: Omit<ResolvedOptions, Unset> = {
  serverEngine: 'uws',
  protocols: [],
  headers: {},
  insecure: false,
  maxPayloadBytes: 1024 * 1024,
  heldBudgetBytes: 64 * 1024 * 1024,
  heldDeadlineMs: 10_000,
  handshakeTimeoutMs: 10_000,
  sendBufferBytes: 1024 * 1024,
  compression: false,
  ratePerSec: 1000,
  maxInFlight: 500,
  topics: ['all'],
  localAddresses: [],
  reconnect: DEFAULT_RECONNECT_POLICY,
  snapshotIntervalMs: 1000,
  workers: 1,
  servers: 1,
};

/** Merges defaults and validates; throws {@link EngineConfigError}. */
export function resolveOptions(options: EngineOptions): ResolvedOptions {
  if (options.target !== undefined) validateTargetUrl(options.target);
  if (options.targets !== undefined && options.targets.length === 0)
    throw new EngineConfigError('config.url', '--targets lists no URL; give one or more, comma-separated');
  for (const target of options.targets ?? []) validateTargetUrl(target);
  for (const address of options.localAddresses ?? []) {
    if (isIP(address) === 0)
      throw new EngineConfigError(
        'config.option',
        `source address "${address}" is not an IP address; give local addresses like 127.0.0.2,127.0.0.3`,
      );
  }
  const resolved: ResolvedOptions = {
    ...ENGINE_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  if (resolved.protocol !== undefined && !PROTOCOLS.includes(resolved.protocol)) {
    throw new EngineConfigError(
      'config.option',
      `--protocol must be one of ${PROTOCOLS.join(', ')}, not "${resolved.protocol}"`,
    );
  }
  if (
    resolved.protocol !== undefined &&
    resolved.protocol !== 'raw' &&
    resolved.target === undefined &&
    resolved.targets === undefined
  ) {
    throw new EngineConfigError('config.option', presetNeedsTarget(resolved.protocol));
  }
  if (resolved.serverEngine !== 'uws' && resolved.serverEngine !== 'ws') {
    throw new EngineConfigError('config.option', `server engine must be uws or ws, not "${resolved.serverEngine}"`);
  }
  positive('maxPayloadBytes', resolved.maxPayloadBytes);
  positive('heldBudgetBytes', resolved.heldBudgetBytes);
  positive('heldDeadlineMs', resolved.heldDeadlineMs);
  positive('handshakeTimeoutMs', resolved.handshakeTimeoutMs);
  positive('sendBufferBytes', resolved.sendBufferBytes);
  positive('ratePerSec', resolved.ratePerSec, false);
  positive('maxInFlight', resolved.maxInFlight);
  positive('snapshotIntervalMs', resolved.snapshotIntervalMs);
  positive('workers', resolved.workers);
  positive('servers', resolved.servers);
  if (resolved.broadcastHttp !== undefined && !/^[A-Z]+\s+https?:\/\/\S+/.test(resolved.broadcastHttp)) {
    throw new EngineConfigError(
      'config.option',
      `--broadcast-http must be "METHOD URL [BODY]", e.g. "POST http://127.0.0.1:8080/broadcast {}"`,
    );
  }
  return resolved;
}
