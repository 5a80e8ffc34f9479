/**
 * The coordinator's door for remote agents: a WebSocket listener (wss:// with a certificate)
 * that agents dial out to, so agents in pods or behind NAT need no inbound port. An agent
 * says hello with the token (compared in constant time), its name and its host's capacity;
 * it is refused when the token is wrong, its name is taken, or the run is full or started.
 * Each joined agent becomes a {@link PartChannel}; a dead agent is found by missed pings.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentsOptions } from '../engine-options.ts';
import { AgentsError } from '../engine-options.ts';
import {
  PART_PROTOCOL_VERSION,
  REFUSED,
  type AgentHello,
  type CoordinatorWelcome,
  type FromPart,
  type PartChannel,
  type ToPart,
} from './part-protocol.ts';

export { AgentsError, REFUSED };

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
  const heard = (): void => {
    missed = 0;
  };
  socket.on('pong', heard);
  socket.on('message', heard);
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
      socket.on('message', (data) => {
        try {
          listener(JSON.parse(String(data)) as FromPart);
        } catch {
          // a malformed frame from an agent is dropped; the agent is still counted
        }
      });
    },
    onClose: (listener) => {
      socket.once('close', (code, reason) =>
        listener(`the connection closed (${code}${reason.length ? ` ${reason}` : ''})`),
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
  /** Resolves with `count` agents, in the order they joined; rejects with `agents.timeout` naming who joined. */
  waitFor(count: number, timeoutMs: number): Promise<JoinedAgent[]>;
  /** Where refusals and joins are said (stderr until the shell's log exists). */
  setLog(log: (level: 'info' | 'warn' | 'error', text: string) => void): void;
  close(): Promise<void>;
}

/** Listens for agents. */
export async function startCoordinator(options: AgentsOptions): Promise<Coordinator> {
  const { host, port } = parseListen(options.listen);
  const https =
    options.tlsCert && options.tlsKey
      ? createHttpsServer({ cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) })
      : null;
  const wss = https
    ? new WebSocketServer({ server: https, maxPayload: 64 * 1024 * 1024 })
    : new WebSocketServer({ host, port, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    const target = https ?? wss;
    target.once('listening', () => resolve());
    target.once('error', (error: Error) =>
      reject(new AgentsError('agents.listen', `cannot listen for agents on ${options.listen}: ${error.message}`)),
    );
    https?.listen(port, host);
  });
  const address = (https ? https.address() : wss.address()) as AddressInfo;
  let log = (level: 'info' | 'warn' | 'error', text: string): void => {
    process.stderr.write(`sockstorm coordinator: ${level === 'info' ? '' : `${level}: `}${text}\n`);
  };
  const joined: JoinedAgent[] = [];
  let wanted = options.count;
  let isClosed = false;
  let onJoin: (() => void) | null = null;
  wss.on('connection', (socket, request) => {
    const from = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    const refuse = (code: number, why: string): void => {
      log('warn', `refused an agent from ${from}: ${why}`);
      socket.close(code, why);
    };
    const timer = setTimeout(() => refuse(REFUSED.badHello, 'no hello within 5 s'), 5000);
    socket.once('message', (data) => {
      clearTimeout(timer);
      let hello: AgentHello;
      try {
        hello = JSON.parse(String(data)) as AgentHello;
      } catch {
        return refuse(REFUSED.badHello, 'the hello is not JSON');
      }
      if (hello?.type !== 'hello') return refuse(REFUSED.badHello, 'the first message is not a hello');
      if (!isToken(hello.token, options.token)) return refuse(REFUSED.badToken, 'wrong token');
      if (hello.protocol !== PART_PROTOCOL_VERSION)
        return refuse(REFUSED.badHello, `protocol ${hello.protocol}, this coordinator speaks ${PART_PROTOCOL_VERSION}`);
      const name = String(hello.name || from).slice(0, 64);
      if (joined.some((a) => a.name === name))
        return refuse(REFUSED.full, `an agent named "${name}" has joined already`);
      if (isClosed || joined.length >= wanted) return refuse(REFUSED.full, `the run has its ${wanted} agents`);
      const agent: JoinedAgent = {
        name,
        capacity: typeof hello.capacity === 'number' && Number.isFinite(hello.capacity) ? hello.capacity : null,
        address: from,
        channel: wsChannel(socket),
      };
      joined.push(agent);
      socket.send(JSON.stringify({ type: 'welcome', name } satisfies CoordinatorWelcome));
      log(
        'info',
        `agent ${name} joined from ` +
          `${from}${agent.capacity !== null ? ` (can hold ${agent.capacity})` : ''}: ${joined.length} of ` +
          `${wanted}`,
      );
      onJoin?.();
    });
  });
  const url = `${https ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const dial =
    host === '0.0.0.0' || host === '::' ? `${https ? 'wss' : 'ws'}://<an address of this host>:${address.port}` : url;
  log('info', `waiting for ${options.count} agents at ${url} (sockstorm agent --coordinator ${dial} --token …)`);
  return {
    url,
    host,
    setLog(next) {
      log = next;
    },
    waitFor(count, timeoutMs) {
      wanted = count;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          onJoin = null;
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
          clearTimeout(timer);
          onJoin = null;
          resolve(joined.slice(0, count));
        };
        onJoin = check;
        check();
      });
    },
    async close() {
      isClosed = true;
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (https) await new Promise<void>((resolve) => https.close(() => resolve()));
    },
  };
}
