/**
 * The coordinator's door for remote agents: a WebSocket listener (wss:// with a certificate)
 * that agents dial out to, so agents in pods or behind NAT need no inbound port. An agent's
 * hello (the token, compared in constant time, its name and its host's capacity) rides in its
 * upgrade request, so it is checked before any WebSocket exists: a stranger costs an HTTP
 * request of at most a few KiB for at most a few seconds, at most {@link MAX_PENDING} of them
 * at once, and only a joined agent gets the full frame limit. It is refused when the token is
 * wrong, its name is taken, or the run is full or started. Each joined agent becomes a
 * {@link PartChannel} whose every message is checked (part-messages.ts); a bad one loses the
 * agent with the reason, and a dead agent is found by missed pings.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentsOptions } from '../engine-options.ts';
import { AgentsError } from '../engine-options.ts';
import { parseJson, readFromPart, readHello } from './part-messages.ts';
import {
  HELLO_HEADER,
  PART_PROTOCOL_VERSION,
  REFUSED,
  type AgentHello,
  type CoordinatorWelcome,
  type FromPart,
  type PartChannel,
  type ToPart,
} from './part-protocol.ts';
import { printable } from '../protocols/shown-text.ts';

export { AgentsError, REFUSED };

/** Connections that have not joined (a TLS handshake, an upgrade request on its way) held at once; more are dropped at accept. */
export const MAX_PENDING = 32;
/** How long a connection may take to say its hello (TLS handshake, upgrade request), ms. */
export const HELLO_DEADLINE_MS = 5000;
/** The largest upgrade request (its headers carry the hello), bytes. */
export const HELLO_MAX_BYTES = 8 * 1024;
/** The largest frame of a joined agent (a sample with its histograms), bytes. */
export const JOINED_MAX_PAYLOAD = 64 * 1024 * 1024;

/** An agent that joined. */
export interface JoinedAgent {
  name: string;
  /** Its host's capacity (from `tune check` there), or null when it could not tell. */
  capacity: number | null;
  address: string;
  channel: PartChannel;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether `given` is the token, in time that does not depend on where they differ. */
export function isToken(given: unknown, token: string): boolean {
  return typeof given === 'string' && timingSafeEqual(digest(given), digest(token));
}

function parseListen(listen: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 0 && port <= 65535))
    throw new AgentsError('agents.listen', `--listen "${listen}" is not HOST:PORT (e.g. 0.0.0.0:7400)`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Pings an agent is let miss in a row (one a second) before it is taken for lost. */
export const MISSED_PINGS = 6;

function wsChannel(socket: WebSocket): PartChannel {
  let missed = 0;
  let badReason: string | null = null;
  const listeners: Array<(message: FromPart) => void> = [];
  socket.on('pong', () => {
    missed = 0;
  });
  // one parse and one check a frame, whoever listens; a bad frame ends the agent, with the reason
  socket.on('message', (data) => {
    missed = 0;
    if (badReason !== null) return;
    const json = parseJson(String(data));
    const checked = json.ok ? readFromPart(json.message) : json;
    if (!checked.ok) {
      badReason = `it sent a bad message (${printable(checked.reason, 200)})`;
      socket.terminate();
      return;
    }
    for (const listener of listeners.slice()) listener(checked.message);
  });
  // a SIGKILLed agent's kernel closes its socket at once; a lost network is found within about
  // 6 s. An agent answers pings from its JavaScript loop, and a saturated agent's loop stalls:
  // one missed pong (a 1-2 s stall in a 57,000-user ramp on 2 cores) lost two agents and their
  // 38,000 users in the agents bench, so a few stalled seconds are not a lost agent
  const pinger = setInterval(() => {
    if (missed >= MISSED_PINGS) return socket.terminate();
    missed++;
    socket.ping();
  }, 1000);
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      clearInterval(pinger);
      resolve();
    }),
  );
  return {
    send: (message: ToPart) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    },
    onMessage: (listener) => {
      listeners.push(listener);
    },
    onClose: (listener) => {
      socket.once('close', (code, reason) =>
        listener(
          badReason ?? `the connection closed (${code}${reason.length ? ` ${printable(reason.toString(), 120)}` : ''})`,
        ),
      );
    },
    async close(graceMs) {
      if (socket.readyState === socket.OPEN) {
        socket.send(JSON.stringify({ type: 'end', reason: 'run ended' } satisfies ToPart));
        socket.close(REFUSED.ended, 'run ended');
      }
      const timer = setTimeout(() => socket.terminate(), Math.max(graceMs, 500));
      await closed;
      clearTimeout(timer);
    },
  };
}

/** A listening coordinator. */
export interface Coordinator {
  readonly url: string;
  readonly host: string;
  /**
   * Resolves with `count` agents, in the order they joined; rejects with `agents.timeout` naming
   * who joined, or with `agents.stopped` as soon as `signal` aborts (a stop while it waits).
   */
  waitFor(count: number, timeoutMs: number, signal?: AbortSignal): Promise<JoinedAgent[]>;
  /** Where refusals and joins are said (stderr until the shell's log exists). */
  setLog(log: (level: 'info' | 'warn' | 'error', text: string) => void): void;
  /** Ends every joined agent's run (they exit) and stops listening. */
  close(): Promise<void>;
}

/** The hello an upgrade request carries in its {@link HELLO_HEADER}, or why there is none to read. */
export function helloOf(request: IncomingMessage): { ok: true; message: AgentHello } | { ok: false; reason: string } {
  const header = request.headers[HELLO_HEADER];
  if (typeof header !== 'string')
    return { ok: false, reason: 'no hello (this is a sockstorm coordinator: agents dial it with `sockstorm agent`)' };
  const json = parseJson(Buffer.from(header, 'base64url').toString('utf8'));
  return json.ok ? readHello(json.message) : { ok: false, reason: 'the hello is not JSON' };
}

/** Listens for agents. */
export async function startCoordinator(options: AgentsOptions): Promise<Coordinator> {
  const { host, port } = parseListen(options.listen);
  // what a connection may cost before its hello: one request's headers, for a few seconds
  const limits: ServerOptions = {
    maxHeaderSize: HELLO_MAX_BYTES,
    headersTimeout: HELLO_DEADLINE_MS,
    requestTimeout: HELLO_DEADLINE_MS,
    keepAliveTimeout: 1000,
    connectionsCheckingInterval: 500,
  };
  const isTls = Boolean(options.tlsCert && options.tlsKey);
  const server = isTls
    ? createHttpsServer({
        ...limits,
        cert: readFileSync(options.tlsCert!),
        key: readFileSync(options.tlsKey!),
        handshakeTimeout: HELLO_DEADLINE_MS,
      })
    : createHttpServer(limits);
  // joined agents and at most MAX_PENDING others; the kernel's accept is answered with a close past that
  server.maxConnections = options.count + MAX_PENDING;
  // a connection has HELLO_DEADLINE_MS to be upgraded (Node's own headersTimeout spares a socket that sends nothing)
  const upgraded = new WeakSet<object>();
  const deadline = (socket: Socket): void => {
    const timer = setTimeout(() => {
      if (!upgraded.has(socket)) socket.destroy();
    }, HELLO_DEADLINE_MS);
    socket.once('close', () => clearTimeout(timer));
  };
  // over TLS the handshake has its own deadline (handshakeTimeout), then the upgrade has this one
  if (isTls) server.on('secureConnection', deadline);
  else server.on('connection', deadline);
  server.on('request', (_request, response) => {
    response
      .writeHead(426, { connection: 'close', 'content-type': 'text/plain' })
      .end('a sockstorm coordinator: agents dial it with `sockstorm agent`\n');
  });
  const joined: JoinedAgent[] = [];
  let wanted = options.count;
  let isClosed = false;
  let onJoin: (() => void) | null = null;
  let refusals = 0;
  let closing: Promise<void> | null = null;
  let log = (level: 'info' | 'warn' | 'error', text: string): void => {
    process.stderr.write(`sockstorm coordinator: ${level === 'info' ? '' : `${level}: `}${text}\n`);
  };
  // a crowd of strangers must not flood the log: the first few, then one line a hundred
  const refused = (from: string, why: string): void => {
    refusals++;
    if (refusals <= 10) log('warn', `refused an agent from ${from}: ${why}`);
    else if (refusals % 100 === 0)
      log('warn', `refused ${refusals} connections so far (the last from ${from}: ${why})`);
  };
  const hellos = new WeakMap<IncomingMessage, AgentHello>();
  const wss = new WebSocketServer({
    server,
    maxPayload: JOINED_MAX_PAYLOAD,
    verifyClient: (info, done) => {
      const from = `${info.req.socket.remoteAddress}:${info.req.socket.remotePort}`;
      const refuse = (status: number, why: string): void => {
        refused(from, why);
        done(false, status, why, { connection: 'close' });
      };
      const hello = helloOf(info.req);
      if (!hello.ok)
        return refuse(
          REFUSED.badToken,
          hello.reason.startsWith('no hello') ? hello.reason : `a bad hello (${hello.reason})`,
        );
      if (!isToken(hello.message.token, options.token)) return refuse(REFUSED.badToken, 'wrong token');
      if (hello.message.protocol !== PART_PROTOCOL_VERSION)
        return refuse(
          REFUSED.badHello,
          `protocol ${hello.message.protocol}, this coordinator speaks ${PART_PROTOCOL_VERSION}`,
        );
      const name = nameOf(hello.message, from);
      if (joined.some((a) => a.name === name))
        return refuse(REFUSED.full, `an agent named "${name}" has joined already`);
      if (isClosed || joined.length >= wanted) return refuse(REFUSED.full, `the run has its ${wanted} agents`);
      // the upgrade completes in this same turn of the loop: no other agent can take the place meanwhile
      hellos.set(info.req, hello.message);
      done(true);
    },
  });
  wss.on('connection', (socket, request) => {
    upgraded.add(request.socket);
    const hello = hellos.get(request)!;
    const from = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    const agent: JoinedAgent = {
      name: nameOf(hello, from),
      capacity: hello.capacity,
      address: from,
      channel: wsChannel(socket),
    };
    joined.push(agent);
    socket.send(JSON.stringify({ type: 'welcome', name: agent.name } satisfies CoordinatorWelcome));
    log(
      'info',
      `agent ${agent.name} joined from ${from}${agent.capacity !== null ? ` (can hold ${agent.capacity})` : ''}: ${joined.length} of ${wanted}`,
    );
    onJoin?.();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', (error: Error) =>
      reject(new AgentsError('agents.listen', `cannot listen for agents on ${options.listen}: ${error.message}`)),
    );
    server.listen(port, host);
  });
  const address = server.address() as AddressInfo;
  const scheme = isTls ? 'wss' : 'ws';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const dial = host === '0.0.0.0' || host === '::' ? `${scheme}://<an address of this host>:${address.port}` : url;
  log('info', `waiting for ${options.count} agents at ${url} (sockstorm agent --coordinator ${dial} --token …)`);
  return {
    url,
    host,
    setLog(next) {
      log = next;
    },
    waitFor(count, timeoutMs, signal) {
      wanted = count;
      return new Promise((resolve, reject) => {
        const finish = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          onJoin = null;
        };
        const onAbort = (): void => {
          finish();
          reject(
            new AgentsError(
              'agents.stopped',
              `stopped before the run started (waiting for agents: ${joined.length} of ${count} had joined)`,
            ),
          );
        };
        const timer = setTimeout(() => {
          finish();
          const names = joined.map((a) => a.name);
          reject(
            new AgentsError(
              'agents.timeout',
              `${joined.length} of ${count} agents joined within ${Math.round(timeoutMs / 1000)} ` +
                `s${names.length ? `: ${names.join(', ')}` : ''}; start the others with sockstorm agent ` +
                `--coordinator ${url} --token …`,
            ),
          );
        }, timeoutMs);
        const check = (): void => {
          if (joined.length < count) return;
          finish();
          resolve(joined.slice(0, count));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        onJoin = check;
        check();
      });
    },
    close() {
      closing ??= (async () => {
        isClosed = true;
        // agents that joined are told the run is over (they exit 0), not left to dial again
        await Promise.all(joined.map((agent) => agent.channel.close(1000)));
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** The name an agent joins as: its own, printable and bounded, else where it came from. */
function nameOf(hello: AgentHello, from: string): string {
  return printable(hello.name || from, 64);
}
