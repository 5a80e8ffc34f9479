/**
 * Reads the NDJSON snapshot stream of a running console or run (`--metrics-port`). Attaching
 * is checked before the wall is drawn: an address with nothing behind it, or something that
 * is not a sockstorm endpoint, is an `AttachError` with a sentence to print. Once attached,
 * following never throws: it says how the stream ended. It uses node:http rather than fetch,
 * which refuses ports on its "bad ports" list (6000, 10080, …) that a user may well pick.
 */
import http from 'node:http';
import https from 'node:https';
import type { Snapshot } from '../engine/measure/snapshot.ts';

/** Why `--attach` failed; `code` is stable. */
export class AttachError extends Error {
  constructor(
    message: string,
    readonly code: 'attach.url' | 'attach.unreachable' | 'attach.not-sockstorm' | 'attach.timeout',
  ) {
    super(message);
    this.name = 'AttachError';
  }
}

/** How long attaching waits for the first snapshot (an endpoint sends one at once). */
export const ATTACH_TIMEOUT_MS = 5000;

/** The base URL of an `--attach` value (`http://host:port`, with or without a path); throws `AttachError`. */
export function parseAttachUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AttachError(
      `--attach ${JSON.stringify(text)} is not a URL; give the http://127.0.0.1:PORT a run or console ` +
        `prints with --metrics-port`,
      'attach.url',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AttachError(
      `--attach ${text}: needs http:// (the metrics endpoint), not ${url.protocol}//`,
      'attach.url',
    );
  return `${url.protocol}//${url.host}`;
}

/** Whether a parsed line has the shape of a snapshot (what the wall reads of it). */
export function isSnapshot(value: unknown): value is Snapshot {
  const s = value as Partial<Snapshot> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.seq === 'number' &&
    typeof s.elapsedMs === 'number' &&
    typeof s.fleet?.open === 'number' &&
    typeof s.totals === 'object' &&
    typeof s.latency === 'object' &&
    typeof s.interval === 'object' &&
    Array.isArray(s.events) &&
    Array.isArray(s.recoveries) &&
    typeof s.health === 'object'
  );
}

// splits a byte stream into lines
class LineReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  /** The next line, or null at the end of the stream. */
  async next(): Promise<string | null> {
    for (;;) {
      const newline = this.buffer.indexOf('\n');
      if (newline >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        if (line.trim()) return line;
        continue;
      }
      const { done, value } = await this.chunks.next();
      if (done) return null;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }
}

function get(url: string, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    // a connection of its own: a pooled one may be a dead endpoint's
    const request = (url.startsWith('https:') ? https : http).get(url, { signal, agent: false }, resolve);
    request.once('error', reject);
  });
}

/** How a followed stream ended. */
export type StreamEnd = { kind: 'ended' } | { kind: 'broken'; message: string } | { kind: 'aborted' };

/** A stream that sent its first snapshot. */
export interface AttachedStream {
  url: string;
  first: Snapshot;
  /** Calls `onSnapshot` for every later snapshot until the stream ends or `signal` aborts. */
  follow(onSnapshot: (s: Snapshot) => void): Promise<StreamEnd>;
}

function unreachable(url: string, error: NodeJS.ErrnoException): AttachError {
  const why =
    error.code === 'ECONNREFUSED'
      ? 'nothing is listening there (connection refused)'
      : error.code === 'ENOTFOUND'
        ? 'no such host'
        : error.message;
  return new AttachError(
    `cannot attach to ${url}: ${why}; start the run or console with --metrics-port and pass the URL it prints`,
    'attach.unreachable',
  );
}

function notSockstorm(url: string, why: string): AttachError {
  return new AttachError(`${url} is not a sockstorm endpoint: ${why}`, 'attach.not-sockstorm');
}

/** Opens `${url}/stream` and reads its first snapshot; rejects with `AttachError`. */
export async function attachStream(
  url: string,
  signal: AbortSignal,
  timeoutMs = ATTACH_TIMEOUT_MS,
): Promise<AttachedStream> {
  const timer = new AbortController();
  const timeout = setTimeout(() => timer.abort(), timeoutMs);
  const both = AbortSignal.any([signal, timer.signal]);
  try {
    let response: http.IncomingMessage;
    try {
      response = await get(`${url}/stream`, both);
    } catch (error) {
      if (timer.signal.aborted)
        throw new AttachError(`cannot attach to ${url}: no answer within ${timeoutMs / 1000} s`, 'attach.timeout');
      throw unreachable(url, error as NodeJS.ErrnoException);
    }
    const type = response.headers['content-type'] ?? '';
    if (response.statusCode !== 200) {
      response.resume();
      throw notSockstorm(url, `GET /stream answered HTTP ${response.statusCode}`);
    }
    if (!type.startsWith('application/x-ndjson')) {
      response.destroy();
      throw notSockstorm(url, `GET /stream answers ${type || 'untyped content'}, not a snapshot stream`);
    }
    const lines = new LineReader(response[Symbol.asyncIterator]());
    let line: string | null;
    try {
      line = await lines.next();
    } catch {
      throw timer.signal.aborted
        ? new AttachError(`cannot attach to ${url}: no snapshot within ${timeoutMs / 1000} s`, 'attach.timeout')
        : notSockstorm(url, 'the stream broke before its first snapshot');
    }
    let first: unknown = null;
    try {
      first = line === null ? null : JSON.parse(line);
    } catch {
      // not JSON: said below
    }
    if (!isSnapshot(first)) {
      response.destroy();
      throw notSockstorm(
        url,
        line === null ? 'its stream ended without a snapshot' : 'its stream sends something other than snapshots',
      );
    }
    return { url, first, follow: (onSnapshot) => follow(lines, onSnapshot, signal) };
  } finally {
    clearTimeout(timeout);
  }
}

async function follow(lines: LineReader, onSnapshot: (s: Snapshot) => void, signal: AbortSignal): Promise<StreamEnd> {
  try {
    for (let line = await lines.next(); line !== null; line = await lines.next()) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(line);
      } catch {
        // a torn or foreign line is skipped, the stream goes on
      }
      if (isSnapshot(parsed)) onSnapshot(parsed);
    }
    return { kind: 'ended' };
  } catch (error) {
    return signal.aborted ? { kind: 'aborted' } : { kind: 'broken', message: (error as Error).message };
  }
}
