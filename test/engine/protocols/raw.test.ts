import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/test-client.ts';
import { useEngines } from '../../helpers/engines.ts';
import { nextSnapshot } from '../../helpers/next-snapshot.ts';
import { parseScript } from '../../../console/script/parse.ts';

// The k6 pattern against a plain `ws` server written here: subscribe on open, check
// what arrives, close after a session's length and come back.
const engines = useEngines();
let wss: WebSocketServer;
let url: string;
const subscribed = new Set<unknown>();

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { event?: string; channel?: string };
      if (message.event === 'subscribe') {
        subscribed.add(socket);
        socket.send(JSON.stringify({ channel: message.channel, price: 101.5, ts: Date.now() }));
        socket.send(JSON.stringify({ channel: message.channel, price: -1, ts: Date.now() }));
      }
    });
    socket.on('close', () => subscribed.delete(socket));
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => wss.close(resolve));
});

describe('the raw preset: subscribe on open, checks, sessions', () => {
  it('subscribes every user on open, counts check passes and fails, and counts session ends as churn', async () => {
    const engine = await engines.start({
      target: url,
      ratePerSec: 5000,
      snapshotIntervalMs: 250,
      reconnect: { kind: 'fixed', delayMs: 50 },
    });
    const setup = parseScript(
      [
        'on open send {"event":"subscribe","channel":"ticker"}',
        'check ticker channel == "ticker"',
        'check positive price > 0',
        'session 600ms',
        'vus 50',
      ].join('\n'),
    );
    for (const step of setup) if (step.kind === 'engine') expect((await engine.dispatch(step.command)).ok).toBe(true);
    await eventually(() => subscribed.size === 50, 10_000);
    const s = await nextSnapshot(engine, (snap) => snap.totals.churn >= 50, 10_000);
    // two messages per session: the channel is always right, the price only every other time
    expect(s.checks.ticker!.fails).toBe(0);
    expect(s.checks.positive!.passes).toBe(s.checks.positive!.fails);
    expect(s.checks.ticker!.passes).toBe(2 * s.checks.positive!.passes);
    expect(s.totals.disconnects).toBe(0);
    expect(s.errors).toEqual({});
  }, 30_000);

  it('refuses an unknown preset or a bad check before any socket, with the place', () => {
    expect(() => parseScript('protocol stomp\nvus 1')).toThrow(
      /line 1, column 10: "stomp" is not a protocol \(raw, socketio, graphql-ws, mqtt\)/,
    );
    expect(() => parseScript('check c price ~= 1\nvus 1')).toThrow(/line 1, column 15: "~=" is not an operator/);
    expect(() => parseScript('check c name matches /[/\nvus 1')).toThrow(/not a regular expression/);
  });
});

describe('users from FILE', () => {
  it('gives each user its row in the URL, a header and its on-open message', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-users-'));
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, 'name,token,room\nada,t-1,"r,1"\nbob,t-2,r2\n');
    const seen: Array<{ url: string; token: string | undefined; hello: string }> = [];
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (socket, request) => {
      socket.once('message', (data) =>
        seen.push({
          url: request.url ?? '',
          token: request.headers['x-token'] as string | undefined,
          hello: String(data),
        }),
      );
    });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const target = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/rooms/{{row.room}}`;
    const { createEngine } = await import('../../../console/engine/engine.ts');
    const { resolveUserFiles } = await import('../../../console/script/user-rows.ts');
    const steps = parseScript(`users from ${csv}\non open send {"hello":"{{row.name}}"}\nvus 4`);
    expect(resolveUserFiles(steps)).toEqual([]);
    const engine = await createEngine({ target, headers: { 'x-token': '{{row.token}}' } });
    try {
      for (const step of steps) if (step.kind === 'engine') expect((await engine.dispatch(step.command)).ok).toBe(true);
      await eventually(() => seen.length === 4, 10_000);
      const byName = seen.map((s) => [JSON.parse(s.hello).hello, s.token, decodeURIComponent(s.url)]).sort();
      expect(byName).toEqual([
        ['ada', 't-1', '/rooms/r,1'],
        ['ada', 't-1', '/rooms/r,1'],
        ['bob', 't-2', '/rooms/r2'],
        ['bob', 't-2', '/rooms/r2'],
      ]);
    } finally {
      await engine.stop();
      await new Promise((resolve) => server.close(resolve));
    }
    // a field the file lacks, and a malformed file, are errors with their places
    const missing = parseScript(`users from ${csv}\non open send {{row.email}}\nvus 1`);
    expect(resolveUserFiles(missing).map((e) => [e.line, e.column, e.reason])).toEqual([
      [2, 14, 'the users file has no field "email" (it has name, token, room)'],
    ]);
    const broken = join(dir, 'broken.csv');
    writeFileSync(broken, 'name,token\nada\n');
    expect(resolveUserFiles(parseScript(`users from ${broken}\nvus 1`))[0]!.reason).toMatch(
      /broken\.csv:2 has 1 fields, the header 2/,
    );
  }, 30_000);
});

describe('request/response probes', () => {
  it('times a probe template from its intended send time to the reply whose path holds its id', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (socket) =>
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { op?: string; id?: number };
        // the target answers after 20 ms, and never echoes the request
        if (message.op === 'ping')
          setTimeout(() => socket.send(JSON.stringify({ pong: true, req: { id: message.id } })), 20);
      }),
    );
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const engine = await engines.start({
      target: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      snapshotIntervalMs: 250,
    });
    try {
      for (const step of parseScript('vus 5\nprobe 50/s {"op":"ping","id":{{id}}} reply req.id'))
        if (step.kind === 'engine') expect((await engine.dispatch(step.command)).ok).toBe(true);
      const s = await nextSnapshot(engine, (snap) => snap.latency.rtt.count >= 40, 10_000);
      expect(s.latency.rtt.p50).toBeGreaterThanOrEqual(20);
      expect(s.totals.probesReceived).toBe(s.latency.rtt.count);
    } finally {
      await engine.stop();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(() => parseScript('probe 5/s {"op":"ping"} reply id\nvus 1')).toThrow(/must carry \{\{id\}\}/);
    expect(() => parseScript('probe 5/s {"op":"ping","id":{{id}}}\nvus 1')).toThrow(/needs "reply PATH"/);
  }, 30_000);
});
