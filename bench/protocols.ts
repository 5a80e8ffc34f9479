/**
 * `npm run bench -- protocols`: 10,000 users per preset against the real server on loopback
 * (socket.io, graphql-ws, aedes over WebSocket, and a plain `ws` server for raw), each through
 * `sockstorm run` as a user runs it: connect rate, RSS per open user (what the second half of
 * the users added to the generator process), fan-out p99 of 3 broadcasts, and the cost over raw (goal: at most
 * 1 KiB per open user). The servers run in this process; the generator in its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import { Server as SocketIoServer } from 'socket.io';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { startGraphqlTickServer } from '../test/helpers/graphql-server.ts';

const USERS = Number(process.env.BENCH_PROTOCOL_USERS ?? 10_000);
const BIN = fileURLToPath(new URL('../console/bin.mjs', import.meta.url));

interface Target {
  name: string;
  url: string;
  flags: string[];
  /** Script lines before the fleet. */
  setup: string[];
  close(): Promise<void>;
}

const listen = (http: HttpServer): Promise<number> =>
  new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve((http.address() as AddressInfo).port)));

async function rawTarget(): Promise<Target> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  // the raw pattern: subscribe on open, a relay fans out to every subscriber
  wss.on('connection', (socket) =>
    socket.on('message', (data) => {
      if (String(data).includes('"relay"')) for (const client of wss.clients) client.send(String(data));
    }),
  );
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return {
    name: 'raw',
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    setup: ['on open send {"event":"subscribe"}'],
    flags: ['--broadcast-send', '{"event":"relay","ts":{{now}},"n":{{n}}}', '--ts-path', 'ts', '--seq-path', 'n'],
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function socketIoTarget(): Promise<Target> {
  const http = createServer();
  const io = new SocketIoServer(http, { transports: ['websocket'], pingInterval: 5000 });
  io.on('connection', (socket) => socket.on('relay', (m: unknown) => io.emit('tick', m)));
  const port = await listen(http);
  return {
    name: 'socketio',
    url: `ws://127.0.0.1:${port}/`,
    setup: ['protocol socketio'],
    flags: ['--broadcast-send', 'relay {"ts":{{now}},"n":{{n}}}', '--ts-path', 'ts', '--seq-path', 'n'],
    close: () => new Promise((resolve) => io.close(() => resolve())),
  };
}

async function mqttTarget(): Promise<Target> {
  const broker = await Aedes.createBroker();
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (socket) => broker.handle(createWebSocketStream(socket) as never));
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return {
    name: 'mqtt',
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    setup: ['protocol mqtt keepalive 30s', 'connect {"clientId":"u{{vu}}"}', 'on open send subscribe ticks'],
    flags: ['--broadcast-send', 'publish ticks {"ts":{{now}},"n":{{n}}}', '--ts-path', 'ts', '--seq-path', 'n'],
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

async function graphqlTarget(): Promise<Target> {
  const server = await startGraphqlTickServer();
  return {
    name: 'graphql-ws',
    url: server.url,
    setup: ['protocol graphql-ws', 'on open send {"query":"subscription { ticks { ts n } }"}'],
    flags: ['--broadcast-http', server.trigger, '--ts-path', 'ticks.ts', '--seq-path', 'ticks.n'],
    close: () => server.close(),
  };
}

interface Row {
  preset: string;
  open: number;
  'connects/s': string;
  'RSS KiB/user': string;
  'over raw KiB': string;
  'goal <= 1 KiB': string;
  'fanout p99 ms': string;
  reach: string;
  saturated: string;
  verdict: string;
}

interface Outcome {
  verdict: string;
  open: number;
  connectS: number;
  marginalKiB: number;
  fanoutP99: number | null;
  reach: number | null;
  saturated: string;
}

/**
 * Runs the preset to half the users, then all of them: the RSS a user adds is the difference
 * over the second half (a module loaded once, the codec's parser packages, is not a user's).
 */
async function runOn(target: Target, dir: string): Promise<Outcome> {
  const script = join(dir, `${target.name}.storm`);
  const json = join(dir, `${target.name}.json`);
  const ndjson = join(dir, `${target.name}.ndjson`);
  const half = Math.floor(USERS / 2);
  writeFileSync(
    script,
    [
      ...target.setup,
      'rate 10000/s',
      'mark ramp',
      `vus ${half}`,
      `await open ${half} timeout 120s`,
      'mark half',
      'wait 3s',
      'mark second',
      `vus ${USERS}`,
      `await open ${USERS} timeout 120s`,
      'mark held',
      'wait 3s',
      'mark broadcast',
      'broadcast 3 every 1s',
      'wait 4s',
      // a drop is the bench's failure, not a footnote: the verdict says so
      `expect open >= ${USERS}`,
      'expect reach >= 100%',
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [BIN, 'run', script, '--target', target.url, '--json', json, '--ndjson', ndjson, ...target.flags],
    {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const timer = setTimeout(() => child.kill('SIGINT'), 240_000);
  await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const s = JSON.parse(readFileSync(json, 'utf8'));
  const series = readFileSync(ndjson, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { atMs: number; health: { rssBytes: number } });
  const at = (label: string): number =>
    (s.marks as Array<{ label: string; atMs: number }>).find((m) => m.label === label)?.atMs ?? NaN;
  // the RSS of the last second of each quiet spell
  const rssBefore = (t: number): number => series.filter((x) => x.atMs <= t).pop()?.health.rssBytes ?? NaN;
  const marginal = (rssBefore(at('broadcast')) - rssBefore(at('second'))) / (USERS - half) / 1024;
  const connectS = (at('half') - at('ramp')) / 1000;
  return {
    verdict: s.verdict,
    open: s.fleet.open,
    connectS,
    marginalKiB: marginal,
    fanoutP99: s.latency.fanout.p99,
    reach: s.broadcasts.minReach,
    saturated: `${s.saturated.intervals}/${s.saturated.of}`,
  };
}

/** Runs every preset and prints one table. */
export async function runProtocolsBench(): Promise<void> {
  console.log(`\n## protocols: ${USERS.toLocaleString('en-US')} users per preset against the real server on loopback`);
  const dir = mkdtempSync(join(tmpdir(), 'sockstorm-protocols-'));
  const rows: Row[] = [];
  let rawPerUser = 0;
  for (const make of [rawTarget, socketIoTarget, graphqlTarget, mqttTarget]) {
    const target = await make();
    try {
      const o = await runOn(target, dir);
      if (target.name === 'raw') rawPerUser = o.marginalKiB;
      const over = o.marginalKiB - rawPerUser;
      rows.push({
        preset: target.name,
        open: o.open,
        'connects/s': o.connectS > 0 ? (Math.floor(USERS / 2) / o.connectS).toFixed(0) : '—',
        'RSS KiB/user': o.marginalKiB.toFixed(2),
        'over raw KiB': target.name === 'raw' ? '—' : over.toFixed(2),
        'goal <= 1 KiB': target.name === 'raw' ? '—' : over <= 1 ? 'met' : 'MISSED',
        'fanout p99 ms': o.fanoutP99 === null ? '—' : o.fanoutP99.toFixed(1),
        reach: o.reach === null ? '—' : `${(o.reach * 100).toFixed(1)}%`,
        saturated: o.saturated,
        verdict: o.verdict,
      });
    } finally {
      await target.close();
    }
  }
  console.table(rows);
}
