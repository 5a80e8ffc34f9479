/**
 * Maps a connection failure to a stable error class (DESIGN.md section 5). Pure. The classes
 * are documented in the README with what to do about each; `adviceFor` gives the short form.
 */

/** A stable error class such as `tcp.refused`, `handshake.http_503` or `close.1006`. */
export type ErrorClass = string;

const BY_CODE: Record<string, ErrorClass> = {
  ECONNREFUSED: 'tcp.refused',
  ECONNRESET: 'tcp.reset',
  EPIPE: 'tcp.reset',
  ETIMEDOUT: 'tcp.timeout',
  ENETUNREACH: 'tcp.timeout',
  EHOSTUNREACH: 'tcp.timeout',
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

/** Classifies an error emitted while connecting or while open. */
export function classifyError(error: { code?: string; message?: string }): ErrorClass {
  const code = error.code ?? '';
  const message = error.message ?? '';
  if (BY_CODE[code]) return BY_CODE[code]!;
  if (code.startsWith('WS_ERR_')) return `protocol.${code}`;
  if (TLS_CODE.test(code)) return `tls.${code.toLowerCase()}`;
  const status = /Unexpected server response: (\d{3})/.exec(message);
  if (status) return `handshake.http_${status[1]}`;
  if (/handshake has timed out/i.test(message)) return 'handshake.timeout';
  if (/Invalid URL|must be one of|Invalid WebSocket frame|protocol/i.test(message) && code === '') {
    return /Invalid URL/.test(message) ? 'config.url' : 'protocol.invalid';
  }
  if (/socket hang up/i.test(message)) return 'tcp.reset';
  return code ? `other.${code.toLowerCase()}` : 'other.unknown';
}

/** Classifies an unexpected close of an open connection. */
export function classifyClose(code: number): ErrorClass {
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
  ['handshake.timeout', 'the upgrade took longer than the handshake timeout; the server is overloaded or slow to accept'],
  ['protocol.', 'the server sent a frame the WebSocket protocol forbids, or one over --max-payload'],
  ['close.1006', 'the connection dropped without a close frame'],
  ['close.', 'the server closed the connection with that code'],
];

/** One line of what to do about an error class. */
export function adviceFor(errorClass: ErrorClass): string {
  return ADVICE.find(([prefix]) => errorClass.startsWith(prefix))?.[1] ?? 'see the README table of error classes';
}
