/**
 * The one option table of the fleet-driving commands (`run`, `console`, `demo`): each
 * option's flag, default, check and help in one row, from which commander's options, the
 * defaults shown by --help, the validation messages and the engine options all come.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ENGINE_DEFAULTS, EngineConfigError, type EngineOptions } from './engine/engine-options.ts';

/** What the fleet options parse to. */
export interface TargetFlags {
  target?: string;
  targets?: string;
  engine?: 'uws' | 'ws';
  rate?: number;
  maxInFlight?: number;
  handshakeTimeout?: number;
  maxPayload?: number;
  heldBudget?: number;
  sendBuffer?: number;
  topics?: string;
  subprotocol?: string[];
  protocol?: 'raw' | 'socketio' | 'graphql-ws' | 'mqtt';
  header?: string[];
  insecure?: boolean;
  compression?: boolean;
  sourceAddresses?: string;
  broadcastHttp?: string;
  broadcastSend?: string;
  tsPath?: string;
  seqPath?: string;
  topicPath?: string;
  metricsPort?: number;
  metricsHost?: string;
  /** Seconds. */
  metricsLinger?: number;
  otlp?: string;
  workers?: number;
  servers?: number;
  agents?: number;
  listen?: string;
  token?: string;
  tlsCert?: string;
  tlsKey?: string;
  agentsTimeout?: number;
}

type Check = (value: string, previous: unknown) => unknown;

/** One row: the flag as commander writes it, its help, the default shown (the engine's, not repeated), a check. */
interface Row {
  flags: string;
  help: string;
  default?: string;
  check?: (flag: string) => Check;
  choices?: readonly string[];
}

const flagName = (flags: string): string => flags.split(/[ ,]/)[0]!;

function positive(isInteger: boolean): (flag: string) => Check {
  return (flag) => (value) => {
    const parsed = Number(value.replace(/\/s$/, ''));
    if (!Number.isFinite(parsed) || parsed <= 0 || (isInteger && !Number.isInteger(parsed))) {
      throw new InvalidArgumentError(`${flag} must be a positive ${isInteger ? 'whole number' : 'number'}, not "${value}"`);
    }
    return parsed;
  };
}

const port =
  (flag: string): Check =>
  (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new InvalidArgumentError(`${flag} must be a port 0..65535, not "${value}"`);
    return parsed;
  };

const seconds =
  (flag: string): Check =>
  (value) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0 || parsed > 3600) throw new InvalidArgumentError(`${flag} must be seconds 0..3600, not "${value}"`);
    return parsed;
  };

const url =
  (flag: string): Check =>
  (value) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new InvalidArgumentError(`${flag} must be an http:// or https:// URL (an OTLP receiver, e.g. http://127.0.0.1:4318), not "${value}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new InvalidArgumentError(`${flag} must be an http:// or https:// URL (OTLP over HTTP), not "${value}"`);
    return value;
  };

const repeatable = (): Check => (value, previous) => [...((previous as string[] | undefined) ?? []), value];

const D = ENGINE_DEFAULTS;

/** The fleet options, in the order --help lists them. */
export const TARGET_OPTIONS: readonly Row[] = [
  { flags: '--target <url>', help: 'a ws:// or wss:// target', default: 'the bundled server' },
  { flags: '--targets <list>', help: 'several targets, comma-separated; users spread over them round-robin' },
  { flags: '--engine <engine>', help: 'bundled server engine', default: D.serverEngine, choices: ['uws', 'ws'] },
  {
    flags: '--servers <n>',
    help: 'bundled server processes, each on its own port (one holds up to its own fd limit)',
    default: String(D.servers),
    check: positive(true),
  },
  { flags: '--rate <n>', help: 'connect rate, users per second', default: `${D.ratePerSec}/s`, check: positive(false) },
  { flags: '--max-in-flight <n>', help: 'most handshakes pending at once', default: String(D.maxInFlight), check: positive(true) },
  { flags: '--handshake-timeout <ms>', help: 'handshake timeout in ms', default: String(D.handshakeTimeoutMs), check: positive(true) },
  { flags: '--max-payload <bytes>', help: 'largest frame (and MQTT packet) a user accepts', default: String(D.maxPayloadBytes), check: positive(true) },
  {
    flags: '--held-budget <bytes>',
    help: 'most bytes all users together hold of packets that span frames (MQTT, Socket.IO attachments)',
    default: String(D.heldBudgetBytes),
    check: positive(true),
  },
  {
    flags: '--send-buffer <bytes>',
    help: 'most bytes a user holds unsent; past it sends are dropped and counted (send.dropped)',
    default: String(D.sendBufferBytes),
    check: positive(true),
  },
  { flags: '--topics <list>', help: 'topics users subscribe to (bundled server), comma-separated', default: D.topics.join(',') },
  {
    flags: '--protocol <name>',
    help: 'what users speak: raw, socketio, graphql-ws or mqtt (scripts: protocol NAME)',
    default: 'raw',
    choices: ['raw', 'socketio', 'graphql-ws', 'mqtt'],
  },
  { flags: '--subprotocol <name>', help: 'offer a subprotocol (repeatable)', check: repeatable },
  { flags: '--header <name:value>', help: 'add an upgrade request header (repeatable)', check: repeatable },
  { flags: '--insecure', help: 'accept any TLS certificate (test targets only)' },
  { flags: '--compression', help: 'offer permessage-deflate (users then dial through ws, not the lean client)' },
  {
    flags: '--source-addresses <list>',
    help: 'local addresses to spread users over, e.g. 127.0.0.2,127.0.0.3',
    default: "this host's address, as the kernel picks; the bundled server: 64 loopback addresses",
  },
  { flags: '--broadcast-http <spec>', help: 'real target: broadcast with an HTTP request "METHOD URL [BODY]"' },
  { flags: '--broadcast-send <template>', help: 'real target: broadcast by sending this frame from a user' },
  { flags: '--ts-path <path>', help: 'real target: JSON path of the send time (epoch ms) in fan-out messages' },
  { flags: '--seq-path <path>', help: 'real target: JSON path of a per-topic sequence number' },
  { flags: '--topic-path <path>', help: 'real target: JSON path of the topic' },
  {
    flags: '--workers <n>',
    help: 'split the fleet over N generator processes (each has its own fd limit and event loop)',
    default: String(D.workers),
    check: positive(true),
  },
  { flags: '--agents <n>', help: 'run the fleet on N remote agents (sockstorm agent) that dial in to --listen', check: positive(true) },
  { flags: '--listen <host:port>', help: 'with --agents: where agents dial in (the address they reach; it also serves the bundled server)' },
  { flags: '--token <token>', help: 'with --agents: the secret every agent must give (default: $SOCKSTORM_TOKEN)' },
  { flags: '--tls-cert <file>', help: 'with --agents: a PEM certificate, so agents dial wss://' },
  { flags: '--tls-key <file>', help: "with --agents: the certificate's PEM key" },
  {
    flags: '--agents-timeout <seconds>',
    help: 'with --agents: how long to wait for all of them (exit 106 naming who joined)',
    default: '60',
    check: positive(false),
  },
  {
    flags: '--metrics-port <port>',
    help: 'serve /metrics (Prometheus), /snapshot and /stream on --metrics-host (0: a free port)',
    default: 'off',
    check: port,
  },
  {
    flags: '--metrics-host <address>',
    help: 'where --metrics-port listens (0.0.0.0 for a cluster to scrape: said on stderr)',
    default: '127.0.0.1',
  },
  {
    flags: '--metrics-linger <seconds>',
    help: 'run: keep serving /metrics this long after the end, or until the next scrape, so the last figures are scraped',
    default: '15',
    check: seconds,
  },
  { flags: '--otlp <url>', help: 'run: push the metrics to an OpenTelemetry receiver over OTLP/HTTP (JSON) every 10 s and at the end', check: url },
];

/** Adds the fleet options to a command, from the table. */
export function withTargetOptions(command: Command, omit: readonly string[] = []): Command {
  for (const row of TARGET_OPTIONS) {
    // a command that cannot use an option does not offer it (compare starts its own servers)
    if (omit.includes(flagName(row.flags))) continue;
    // the engine applies its own defaults (a value left unset is its default); --help shows them from here
    const option = new Option(row.flags, row.default === undefined ? row.help : `${row.help} (default: ${row.default})`);
    if (row.choices) option.choices(row.choices);
    if (row.check) option.argParser(row.check(flagName(row.flags)));
    command.addOption(option);
  }
  return command;
}

const list = (text: string | undefined): string[] | undefined =>
  text
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/** The engine options the flags ask for; a malformed value is an {@link EngineConfigError}. */
export function engineOptions(flags: TargetFlags): EngineOptions {
  const headers: Record<string, string> = {};
  for (const header of flags.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new EngineConfigError('config.option', `--header "${header}" has no name: give it as 'Name: value'`);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  const framePaths =
    flags.tsPath || flags.seqPath || flags.topicPath ? { tsPath: flags.tsPath, seqPath: flags.seqPath, topicPath: flags.topicPath } : undefined;
  const targets = list(flags.targets);
  return {
    target: flags.target ?? targets?.[0],
    targets,
    serverEngine: flags.engine,
    ratePerSec: flags.rate,
    maxInFlight: flags.maxInFlight,
    handshakeTimeoutMs: flags.handshakeTimeout,
    maxPayloadBytes: flags.maxPayload,
    heldBudgetBytes: flags.heldBudget,
    sendBufferBytes: flags.sendBuffer,
    topics: list(flags.topics),
    protocols: flags.subprotocol,
    headers,
    insecure: flags.insecure,
    compression: flags.compression,
    localAddresses: list(flags.sourceAddresses),
    broadcastHttp: flags.broadcastHttp,
    broadcastSend: flags.broadcastSend,
    framePaths,
    workers: flags.workers,
    servers: flags.servers,
    agents: agentsOptions(flags),
    protocol: flags.protocol,
  };
}

function agentsOptions(flags: TargetFlags): EngineOptions['agents'] {
  const token = flags.token ?? process.env.SOCKSTORM_TOKEN;
  const given = flags.listen !== undefined || flags.token !== undefined || flags.tlsCert !== undefined || flags.tlsKey !== undefined;
  if (flags.agents === undefined) {
    if (given) throw new EngineConfigError('config.option', '--listen, --token and --tls-* go with --agents N');
    return undefined;
  }
  if (!flags.listen) throw new EngineConfigError('config.option', '--agents needs --listen HOST:PORT: where the agents dial in');
  if (!token || token.length < 16)
    throw new EngineConfigError('config.option', '--agents needs --token with at least 16 characters (e.g. openssl rand -hex 16)');
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new EngineConfigError('config.option', '--tls-cert and --tls-key go together');
  if (flags.workers !== undefined && flags.workers > 1)
    throw new EngineConfigError('config.option', '--agents and --workers do not mix: give each agent its own processes');
  return { count: flags.agents, listen: flags.listen, token, tlsCert: flags.tlsCert, tlsKey: flags.tlsKey, joinTimeoutMs: (flags.agentsTimeout ?? 60) * 1000 };
}
