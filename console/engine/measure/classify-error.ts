/**
 * Maps a connection failure to a stable error class, a dotted name such as `tcp.refused`,
 * `handshake.http_503` or `close.1006`. Pure. The classes are documented in the README with
 * what to do about each; `adviceFor` gives the short form.
 */
import { MAX_TARGET_JSON_DEPTH } from '../protocols/target-json.ts';

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'tcp.refused',
  ECONNRESET: 'tcp.reset',
  ECONNABORTED: 'tcp.reset',
  EPIPE: 'tcp.reset',
  ETIMEDOUT: 'tcp.timeout',
  ENETUNREACH: 'tcp.timeout',
  EHOSTUNREACH: 'tcp.timeout',
  ENETDOWN: 'tcp.timeout',
  EHOSTDOWN: 'tcp.timeout',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_NONAME: 'dns',
  EMFILE: 'local.emfile',
  ENFILE: 'local.emfile',
  EADDRNOTAVAIL: 'local.ports',
  EADDRINUSE: 'local.ports',
  ERR_INVALID_URL: 'config.url',
};

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_OSSL)/;

// what `ws` says when a 101 answer breaks the handshake rules, by the class it gets
const HANDSHAKE_MESSAGES: Array<[RegExp, string]> = [
  [/Invalid Sec-WebSocket-Accept/i, 'handshake.bad_accept'],
  [/Invalid Upgrade header/i, 'handshake.bad_upgrade'],
  [/subprotocol/i, 'handshake.subprotocol'],
  [/Extensions header|extension that was not requested/i, 'handshake.extension'],
  [/Maximum redirects/i, 'handshake.redirect'],
];

/** Classifies an error emitted while connecting or while open. */
export function classifyError(error: { code?: string; message?: string }): string {
  const code = error.code ?? '';
  const message = error.message ?? '';
  if (BY_CODE[code]) return BY_CODE[code]!;
  if (code.startsWith('WS_ERR_')) return `protocol.${code}`;
  if (TLS_CODE.test(code)) return `tls.${code.toLowerCase()}`;
  // Node's HTTP parser refusing the answer to the upgrade: not HTTP at all, or broken HTTP
  if (code.startsWith('HPE_')) return 'handshake.bad_response';
  const status = /Unexpected server response: (\d{3})/.exec(message);
  // a 101 that Node did not take for an upgrade had no "Upgrade: websocket"
  if (status) return status[1] === '101' ? 'handshake.bad_upgrade' : `handshake.http_${status[1]}`;
  if (/handshake has timed out/i.test(message)) return 'handshake.timeout';
  const handshake = HANDSHAKE_MESSAGES.find(([pattern]) => pattern.test(message));
  if (handshake && code === '') return handshake[1];
  if (/Invalid URL|must be one of|Invalid WebSocket frame|protocol/i.test(message) && code === '') {
    return /Invalid URL/.test(message) ? 'config.url' : 'protocol.invalid';
  }
  if (/socket hang up/i.test(message)) return 'tcp.reset';
  return code ? `other.${code.toLowerCase()}` : 'other.unknown';
}

/** Classifies an unexpected close of an open connection. */
export function classifyClose(code: number): string {
  return `close.${code}`;
}

const ADVICE: Array<[prefix: string, advice: string]> = [
  ['config.url', 'check the target URL: ws:// or wss://, host and port'],
  ['dns', 'the host name does not resolve; check it, or use an address'],
  ['tcp.refused', 'nothing listens there, or its backlog is full; check the server and its somaxconn'],
  ['tcp.reset', 'the server or something between dropped the connection; check its logs and limits'],
  ['tcp.timeout', 'the target does not answer; check reachability and firewalls'],
  ['local.emfile', 'this host ran out of file descriptors; run `sockstorm tune check`'],
  ['local.ports', 'this host ran out of ephemeral ports; add source addresses or run `sockstorm tune check`'],
  ['tls.', 'the TLS handshake failed; check the certificate, or pass --insecure for a test certificate'],
  ['handshake.http_', 'the server refused the upgrade with that HTTP status'],
  [
    'handshake.timeout',
    'the upgrade took longer than the handshake timeout; the server is overloaded or slow to accept',
  ],
  [
    'handshake.bad_accept',
    'the server answered 101 with a wrong Sec-WebSocket-Accept: something between (a proxy, a cache) ' +
      'or the server mangles the upgrade',
  ],
  [
    'handshake.bad_upgrade',
    'the server answered 101 without "Upgrade: websocket": a proxy or the server does not speak WebSocket on this path',
  ],
  [
    'handshake.bad_response',
    'the answer to the upgrade was not valid HTTP: is this port a WebSocket server (TLS on a ws:// URL)?',
  ],
  ['handshake.subprotocol', 'the server and --subprotocol disagree: offer the one the server speaks'],
  [
    'handshake.extension',
    'the server answered with an extension sockstorm did not offer (check --compression and the ' +
      "server's permessage-deflate)",
  ],
  ['handshake.redirect', 'the upgrade was redirected; give the final URL as the target'],
  ['protocol.', 'the server sent a frame the WebSocket protocol forbids, or one over --max-payload'],
  ['agent.lost', 'an agent (its process or host) was lost mid-run and its users with it; see its log, and agents.lost'],
  ['shard.lost', 'a generator process died mid-run and its users with it; look for an out-of-memory kill'],
  [
    'raw.bad_packet',
    `the target sent a message nested deeper than ${MAX_TARGET_JSON_DEPTH} levels: it was not read, ` +
      `and every check counts it failed`,
  ],
  [
    'socketio.bad_packet',
    `a packet nested deeper than ${MAX_TARGET_JSON_DEPTH} levels, or a broken binary event: skipped, the user goes on`,
  ],
  [
    'socketio.held_',
    'a binary event never finished: dropped over --held-budget (all users together) or past the ' +
      'deadline; the user goes on',
  ],
  ['socketio.connect_error', 'the Socket.IO server refused the namespace connect: check the connect payload (auth)'],
  ['socketio.', 'the Socket.IO session broke: check the server, its version (v4) and its path'],
  [
    'graphql.bad_message',
    `a frame that is not a graphql-ws message, or nested deeper than ${MAX_TARGET_JSON_DEPTH} ` +
      `levels: skipped, the user goes on`,
  ],
  ['graphql.', 'the graphql-ws server answered with an error: check the subscription and connection_init payload'],
  [
    'mqtt.held_',
    'a packet spanning frames never finished: dropped over --held-budget (all users together) or ' +
      'past the deadline; the user reconnects',
  ],
  [
    'mqtt.packet_too_large',
    'the broker sent a packet over --max-payload (refused at its header): raise --max-payload, or check the broker',
  ],
  ['mqtt.connack_', 'the broker refused the CONNECT: check clientId, username and password in connect'],
  ['mqtt.', 'the MQTT session broke: check the broker and the mqtt subprotocol'],
  ['close.1006', 'the connection dropped without a close frame'],
  ['close.', 'the server closed the connection with that code'],
];

/** One line of what to do about an error class. */
export function adviceFor(errorClass: string): string {
  return ADVICE.find(([prefix]) => errorClass.startsWith(prefix))?.[1] ?? 'see the README table of error classes';
}
