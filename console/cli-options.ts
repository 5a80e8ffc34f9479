/**
 * The one option table: every option of every command, written once as a row (its flag, its
 * help, the default --help shows, its check, and for a fleet option the engine option it sets),
 * from which commander's options, the validation messages and the engine options all come. A
 * default shown is its owner's (the engine's, tuning's), read from the owner's table.
 */
import { Option, type Command } from 'commander';
import {
  attributeOf,
  type Check,
  flagName,
  interval,
  list,
  port,
  positive,
  repeatable,
  seconds,
  httpUrl,
  wholeUpTo,
} from './cli-checks.ts';
import { AGENTS_DEFAULTS, ENGINE_DEFAULTS, EngineConfigError, type EngineOptions } from './engine/engine-options.ts';
import { VARIANT_KNOBS } from './compare/variants.ts';
import { PROTOCOLS } from './engine/protocols/codec.ts';
import { PROGRESS_INTERVAL_MS } from './report/progress.ts';
import { TUNE_DEFAULTS } from '../tuning/tune-command.ts';

/** What commander parsed: each option under its camel-cased name (`--max-in-flight` is `maxInFlight`). */
export type Flags = Record<string, unknown>;

/** One option. */
export interface OptionRow {
  /** The flag as commander writes it. */
  flags: string;
  help: string;
  /** The default --help shows: its owner's, not repeated here. */
  default?: string;
  /** A default this table owns (the command's own, not an engine's), given to the command when the flag is not. */
  value?: unknown;
  check?: (flag: string) => Check;
  choices?: readonly string[];
  /** The command cannot run without it. */
  isRequired?: boolean;
  /** The engine option a fleet option sets: its name (the value as parsed), or how it sets it. */
  engine?: keyof EngineOptions | ((value: unknown, options: EngineOptions) => void);
}

const D = ENGINE_DEFAULTS;

/** Where users dial from; the fleet commands, the agent and `tune check` read it alike. */
const SOURCE_ADDRESSES: OptionRow = {
  flags: '--source-addresses <list>',
  help: 'local addresses to spread users over, e.g. 127.0.0.2,127.0.0.3',
  default: 'the kernel picks; on Linux, 127.0.0.1-64 to the bundled server and more to a loopback one short of ports',
  engine: (value, options) => {
    options.localAddresses = list(value);
  },
};

/** The secret agents and their coordinator share: `run --agents` asks for it, `agent` gives it. */
const TOKEN: OptionRow = {
  flags: '--token <token>',
  help:
    'the secret agents and their coordinator share, 16 characters or more (default: ' +
    '$SOCKSTORM_TOKEN, which keeps it out of the process list)',
};

/** The fleet options of `run`, `console`, the demo and `compare`, in the order --help lists them. */
export const FLEET_OPTIONS: readonly OptionRow[] = [
  { flags: '--target <url>', help: 'a ws:// or wss:// target', default: 'the bundled server', engine: 'target' },
  {
    flags: '--targets <list>',
    help: 'several targets, comma-separated; users spread over them round-robin',
    engine: (value, options) => {
      options.targets = list(value);
      options.target ??= options.targets?.[0];
    },
  },
  {
    flags: '--engine <engine>',
    help: 'bundled server engine',
    default: D.serverEngine,
    choices: ['uws', 'ws'],
    engine: 'serverEngine',
  },
  {
    flags: '--servers <n>',
    help: 'bundled server processes, each on its own port (one holds up to its own fd limit)',
    default: String(D.servers),
    check: positive(true),
    engine: 'servers',
  },
  {
    flags: '--rate <n>',
    help: 'connect rate, users per second',
    default: `${D.ratePerSec}/s`,
    check: positive(false),
    engine: 'ratePerSec',
  },
  {
    flags: '--max-in-flight <n>',
    help: 'most handshakes pending at once',
    default: String(D.maxInFlight),
    check: positive(true),
    engine: 'maxInFlight',
  },
  {
    flags: '--handshake-timeout <ms>',
    help: 'handshake timeout in ms',
    default: String(D.handshakeTimeoutMs),
    check: positive(true),
    engine: 'handshakeTimeoutMs',
  },
  {
    flags: '--max-payload <bytes>',
    help: 'largest frame (and MQTT packet) a user accepts',
    default: String(D.maxPayloadBytes),
    check: positive(true),
    engine: 'maxPayloadBytes',
  },
  {
    flags: '--held-budget <bytes>',
    help: 'most bytes all users together hold of packets that span frames (MQTT, Socket.IO attachments)',
    default: String(D.heldBudgetBytes),
    check: positive(true),
    engine: 'heldBudgetBytes',
  },
  {
    flags: '--send-buffer <bytes>',
    help: 'most bytes a user holds unsent; past it sends are dropped and counted (send.dropped)',
    default: String(D.sendBufferBytes),
    check: positive(true),
    engine: 'sendBufferBytes',
  },
  {
    flags: '--topics <list>',
    help: 'topics users subscribe to (bundled server), comma-separated',
    default: D.topics.join(','),
    engine: (value, options) => {
      options.topics = list(value);
    },
  },
  {
    flags: '--protocol <name>',
    help: `what users speak: ${PROTOCOLS.join(', ')} (scripts: protocol NAME)`,
    default: PROTOCOLS[0],
    choices: PROTOCOLS,
    engine: 'protocol',
  },
  { flags: '--subprotocol <name>', help: 'offer a subprotocol (repeatable)', check: repeatable, engine: 'protocols' },
  {
    flags: '--header <name:value>',
    help: 'add an upgrade request header (repeatable)',
    check: repeatable,
    engine: (value, options) => {
      const headers: Record<string, string> = {};
      for (const header of value as string[]) {
        const colon = header.indexOf(':');
        if (colon <= 0)
          throw new EngineConfigError('config.option', `--header "${header}" has no name: give it as 'Name: value'`);
        headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
      }
      options.headers = headers;
    },
  },
  { flags: '--insecure', help: 'accept any TLS certificate (test targets only)', engine: 'insecure' },
  {
    flags: '--compression',
    help: 'offer permessage-deflate (users then dial through ws, not the lean client)',
    engine: 'compression',
  },
  SOURCE_ADDRESSES,
  {
    flags: '--broadcast-http <spec>',
    help: 'real target: broadcast with an HTTP request "METHOD URL [BODY]"',
    engine: 'broadcastHttp',
  },
  {
    flags: '--broadcast-send <template>',
    help: 'real target: broadcast by sending this frame from a user',
    engine: 'broadcastSend',
  },
  ...(['ts', 'seq', 'topic'] as const).map(
    (field): OptionRow => ({
      flags: `--${field}-path <path>`,
      help: {
        ts: 'real target: JSON path of the send time (epoch ms) in fan-out messages',
        seq: 'real target: JSON path of a per-topic sequence number',
        topic: 'real target: JSON path of the topic',
      }[field],
      engine: (value, options) => {
        options.framePaths = { ...options.framePaths, [`${field}Path`]: value as string };
      },
    }),
  ),
  {
    flags: '--workers <n>',
    help: 'split the fleet over N generator processes (each has its own fd limit and event loop)',
    default: String(D.workers),
    check: positive(true),
    engine: 'workers',
  },
  // the agents' options are read together by agentsOptions(): one needs the others
  {
    flags: '--agents <n>',
    help: 'run the fleet on N remote agents (sockstorm agent) that dial in to --listen',
    check: positive(true),
  },
  {
    flags: '--listen <host:port>',
    help: 'with --agents: where agents dial in (the address they reach; it also serves the bundled server)',
  },
  TOKEN,
  { flags: '--tls-cert <file>', help: 'with --agents: a PEM certificate, so agents dial wss://' },
  { flags: '--tls-key <file>', help: "with --agents: the certificate's PEM key" },
  {
    flags: '--agents-timeout <seconds>',
    help: 'with --agents: how long to wait for all of them (exit 106 naming who joined)',
    default: String(AGENTS_DEFAULTS.joinTimeoutMs / 1000),
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
  {
    flags: '--otlp <url>',
    help: 'run: push the metrics to an OpenTelemetry receiver over OTLP/HTTP (JSON) every 10 s and at the end',
    check: httpUrl,
  },
];

/** What a run writes, and whether it checks the host first: `run` and `compare`. */
export const OUTPUT_OPTIONS: readonly OptionRow[] = [
  { flags: '--json <file>', help: "write the end summary as JSON (compare: the comparison, with every run's summary)" },
  { flags: '--ndjson <file>', help: 'write one snapshot per second as NDJSON, from the first second' },
  {
    flags: '--report <file>',
    help: 'write a self-contained HTML report (compare: percentile curves and per-second series of every run)',
  },
  { flags: '--junit <file>', help: 'write JUnit XML for CI: a test case per threshold (compare: a suite per run)' },
  {
    flags: '--progress-interval <duration>',
    help: 'one progress line on stderr per this long',
    default: `${PROGRESS_INTERVAL_MS / 1000}s`,
    check: interval,
  },
  {
    flags: '--no-host-check',
    help: 'run even when the script asks for more users than this host can hold (exit 106 otherwise)',
  },
];

/** `compare`'s own options. */
export const COMPARE_OPTIONS: readonly OptionRow[] = [
  {
    flags: '--variant <name:knobs>',
    help: `a setup, NAME:KNOB=VALUE,… (repeatable); knobs: ${VARIANT_KNOBS.join(', ')}`,
    check: repeatable,
  },
  {
    flags: '--rounds <n>',
    help: 'run every variant this many times, the order alternating',
    value: 1,
    check: wholeUpTo(100),
  },
];

/** `tune`'s options. */
export const TUNE_OPTIONS: readonly OptionRow[] = [
  { flags: '--connections <n>', help: 'connections wanted', default: String(TUNE_DEFAULTS.connections) },
  { flags: '--target <url>', help: 'the destination (capacity is per destination)' },
  SOURCE_ADDRESSES,
  { flags: '--json', help: 'machine-readable output' },
  { flags: '--proc-root <dir>', help: 'read facts from another /proc tree', default: TUNE_DEFAULTS.procRoot },
  { flags: '--yes', help: 'apply: really change the host (root)' },
  { flags: '--persist', help: 'apply: also write /etc/sysctl.d/99-sockstorm.conf' },
  { flags: '--journal <file>', help: 'apply/restore: the journal of old values' },
  { flags: '--pid <pid>', help: 'apply: the process whose fd limit is raised (default: the calling shell)' },
  {
    flags: '--scope <scope>',
    help: 'apply: all settings, or only network-namespace ones',
    default: TUNE_DEFAULTS.scope,
    choices: ['all', 'net'],
  },
  { flags: '--max <n>', help: 'probe: most connections to open' },
];

/** `agent`'s options. */
export const AGENT_OPTIONS: readonly OptionRow[] = [
  { flags: '--coordinator <url>', help: 'the coordinator, ws://HOST:PORT or wss://HOST:PORT', isRequired: true },
  TOKEN,
  {
    flags: '--name <name>',
    help: 'how the coordinator calls this agent (default: $JOB_COMPLETION_INDEX, else the host name)',
  },
  SOURCE_ADDRESSES,
  {
    flags: '--plaintext',
    help: 'allow plain ws:// to a coordinator on another host (the token crosses unencrypted: a network you trust)',
  },
  {
    flags: '--insecure',
    help: 'accept any TLS certificate from a wss:// coordinator (a test certificate; --ca is the way for a private CA)',
  },
  { flags: '--ca <file>', help: "a PEM CA that signed the coordinator's certificate" },
  {
    flags: '--retry-for <seconds>',
    help: 'how long to keep trying to reach a coordinator',
    default: String(AGENTS_DEFAULTS.retryForMs / 1000),
    check: positive(false),
  },
];

/** `dashboard`'s options. */
export const DASHBOARD_OPTIONS: readonly OptionRow[] = [
  {
    flags: '--attach <url>',
    help:
      'the http://127.0.0.1:PORT a run or console serves with --metrics-port (exit 104 if nothing ' +
      'sockstorm answers there)',
  },
  { flags: '--run <script>', help: 'run this script instead of the demo, and watch it' },
];

/** Adds `rows` to a command, leaving out the flags in `omit` (compare starts its own servers). */
export function withOptions(command: Command, rows: readonly OptionRow[], omit: readonly string[] = []): Command {
  for (const row of rows) {
    if (omit.includes(flagName(row.flags))) continue;
    // the owner applies its own defaults (a value left unset is its default); --help shows them from here
    const option = new Option(
      row.flags,
      row.default === undefined ? row.help : `${row.help} (default: ${row.default})`,
    );
    if (row.choices) option.choices(row.choices);
    if (row.check) option.argParser(row.check(flagName(row.flags)));
    if (row.value !== undefined) option.default(row.value);
    if (row.isRequired) option.makeOptionMandatory();
    command.addOption(option);
  }
  return command;
}

/** The engine options the fleet flags ask for; a malformed value is an {@link EngineConfigError}. */
export function engineOptions(flags: Flags): EngineOptions {
  const options: EngineOptions = {};
  for (const row of FLEET_OPTIONS) {
    const value = flags[attributeOf(row.flags)];
    if (value === undefined || row.engine === undefined) continue;
    if (typeof row.engine === 'function') row.engine(value, options);
    else (options as Record<string, unknown>)[row.engine] = value;
  }
  const agents = agentsOptions(flags);
  return agents ? { ...options, agents } : options;
}

function agentsOptions(flags: Flags): EngineOptions['agents'] {
  type AgentFlags = Partial<
    Record<'agents' | 'workers' | 'agentsTimeout', number> & Record<'listen' | 'tlsCert' | 'tlsKey', string>
  >;
  const { agents, listen, tlsCert, tlsKey, workers, agentsTimeout } = flags as AgentFlags;
  const token = (flags.token as string | undefined) ?? process.env.SOCKSTORM_TOKEN;
  const given = listen !== undefined || flags.token !== undefined || tlsCert !== undefined || tlsKey !== undefined;
  if (agents === undefined) {
    if (given) throw new EngineConfigError('config.option', '--listen, --token and --tls-* go with --agents N');
    return undefined;
  }
  if (!listen)
    throw new EngineConfigError('config.option', '--agents needs --listen HOST:PORT: where the agents dial in');
  if (!token || token.length < 16)
    throw new EngineConfigError(
      'config.option',
      '--agents needs --token with at least 16 characters (e.g. openssl rand -hex 16)',
    );
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new EngineConfigError('config.option', '--tls-cert and --tls-key go together');
  if (workers !== undefined && workers > 1)
    throw new EngineConfigError('config.option', '--agents and --workers do not mix: give each agent its processes');
  return {
    count: agents,
    listen,
    token,
    tlsCert,
    tlsKey,
    joinTimeoutMs: agentsTimeout === undefined ? undefined : agentsTimeout * 1000,
  };
}
