// A target that sends JSON nested 10,000 deep (20 KB): it once ended the run with a stack
// overflow (exit 1, no summary, no JSON) through a check's `==`, `!=`, `matches` and `<`, and
// through the Socket.IO and graphql-ws presets. Now each such message counts once under its
// preset's bad-packet class and as a failed check, and the canary message sent after it on the
// same connection is judged as ever.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  bytesNestDeeperThan,
  readTargetJson,
  nestsDeeperThan,
  NOT_JSON,
  TOO_DEEP,
  MAX_TARGET_JSON_DEPTH,
} from '../../../console/engine/protocols/target-json.ts';
import { runCli } from '../../helpers/run-cli.ts';

const DEEP = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
const CANARY = { x: 1, s: 'ok' };
const USERS = 10;
// every kind of check, each on a path the canary passes
const CHECKS = ['check eq x == 1', 'check ne . != 0', 'check m s matches /ok/', 'check lt x < 2', 'check ex x exists'];

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-deep-'));
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function wsServer(
  options: ConstructorParameters<typeof WebSocketServer>[0] = {},
): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise((resolve) => wss.once('listening', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(resolve);
      }),
  );
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/` };
}

/** Runs a script of checks against `url` to its end; returns its exit code, stdout and JSON summary. */
async function run(url: string, lines: string[]) {
  const file = join(dir, `${lines[0]!.replace(/\W+/g, '-')}.storm`);
  const json = join(dir, `${lines[0]!.replace(/\W+/g, '-')}.json`);
  writeFileSync(
    file,
    [...lines, ...CHECKS, `vus ${USERS}`, `await open ${USERS} timeout 20s`, 'wait 2s', ''].join('\n'),
  );
  const result = await runCli(
    ['run', file, '--target', url, '--json', json, '--no-host-check', '--rate', '100'],
    {},
    45_000,
  );
  return { ...result, summary: result.code === null ? null : JSON.parse(readFileSync(json, 'utf8')) };
}

/** Each check passed once per user (the canary) and failed once per bad message. */
function expectChecks(
  summary: { checks: Record<string, { passes: number; fails: number }> },
  badPerUser: number,
): void {
  for (const name of ['eq', 'ne', 'm', 'lt', 'ex'])
    expect(summary.checks[name], name).toEqual({ passes: USERS, fails: USERS * badPerUser });
}

describe('readTargetJson', () => {
  it('reads JSON up to the depth bound, and refuses deeper without parsing it', () => {
    const deepest = `${'['.repeat(MAX_TARGET_JSON_DEPTH)}${']'.repeat(MAX_TARGET_JSON_DEPTH)}`;
    expect(readTargetJson(deepest)).toBeInstanceOf(Array);
    expect(readTargetJson(`[${deepest}]`)).toBe(TOO_DEEP);
    expect(readTargetJson(DEEP)).toBe(TOO_DEEP);
    expect(readTargetJson('{"a":{"b":[1,2]}}')).toEqual({ a: { b: [1, 2] } });
    expect(readTargetJson('hello')).toBe(NOT_JSON);
    expect(readTargetJson('{"a":')).toBe(NOT_JSON);
    expect(readTargetJson(' 42')).toBe(42);
  });

  it('counts brackets outside strings only, escaped quotes included, and stray closers hide nothing after them', () => {
    expect(nestsDeeperThan(JSON.stringify({ s: '[[[[{{{{"\\"[[[[' }), 2)).toBe(false);
    expect(nestsDeeperThan('[[["]"]]]', 2)).toBe(true);
    expect(nestsDeeperThan(']]]]]][[[', 2)).toBe(true);
  });

  it("bytesNestDeeperThan answers over a text's UTF-8 bytes what nestsDeeperThan answers over the text", () => {
    const texts = [
      DEEP,
      `{"x":${DEEP}}`,
      '[[["]"]]]',
      ']]]]]][[[',
      JSON.stringify({ s: '[[[[{{{{"\\"[[[[' }),
      '["\\é[[[", [[["ü✓😀"]]]]',
      '{"a":"\\😀[[[[","b":[[[1]]]}',
      `${'['.repeat(MAX_TARGET_JSON_DEPTH)}${']'.repeat(MAX_TARGET_JSON_DEPTH)}`,
      `${'{"a":'.repeat(MAX_TARGET_JSON_DEPTH + 1)}1${'}'.repeat(MAX_TARGET_JSON_DEPTH + 1)}`,
    ];
    for (const text of texts)
      for (const max of [2, 3, MAX_TARGET_JSON_DEPTH])
        expect(bytesNestDeeperThan(Buffer.from(text), max)).toBe(nestsDeeperThan(text, max));
    // bytes that are not UTF-8: a decoder replaces them, and neither answer changes
    const broken = Buffer.from([0x5b, 0xc3, 0x22, 0x5b, 0x5b, 0xff, 0x22, 0x5b, 0x5d]);
    expect(bytesNestDeeperThan(broken, 2)).toBe(nestsDeeperThan(broken.toString('utf8'), 2));
    expect(bytesNestDeeperThan(broken, 3)).toBe(nestsDeeperThan(broken.toString('utf8'), 3));
  });
});

describe('a target sending JSON nested 10,000 deep', () => {
  it('raw: every kind of check fails it, raw.bad_packet counts it, and the canary after it passes', async () => {
    const { wss, url } = await wsServer();
    wss.on('connection', (ws) => {
      ws.send(DEEP);
      ws.send(`{"x":${DEEP}}`);
      ws.send(JSON.stringify(CANARY));
    });
    const { code, stdout, summary } = await run(url, ['# raw']);
    expect(stdout).toMatch(/^sockstorm run: PASSED/m);
    expect(code).toBe(0);
    expect(summary.errors).toEqual({ 'raw.bad_packet': 2 * USERS });
    expect(summary.totals.messagesIn).toBe(3 * USERS);
    expectChecks(summary, 2);
  });

  it(
    'socketio (a real socket.io server writing the packet on its own transport): ' +
      'socketio.bad_packet, and the canary event after it passes',
    async () => {
      const http = createServer();
      // io.emit would serialise the value itself, and overflow the server's own stack first
      const io = new Server(http, { transports: ['websocket'] });
      io.on('connection', (socket) => {
        socket.conn.send(`2["tick",${DEEP}]`);
        socket.emit('tick', CANARY);
      });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise((resolve) => io.close(resolve)));
      const { code, stdout, summary } = await run(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`, [
        'protocol socketio',
      ]);
      expect(stdout).toMatch(/^sockstorm run: PASSED/m);
      expect(code).toBe(0);
      expect(summary.errors).toEqual({ 'socketio.bad_packet': USERS });
      expectChecks(summary, 1);
    },
  );

  it(
    'graphql-ws (a server speaking it by hand: graphql-ws would overflow serialising the value): ' +
      'graphql.bad_message, and the next event after it passes',
    async () => {
      const { wss, url } = await wsServer({
        handleProtocols: (offered) => (offered.has('graphql-transport-ws') ? 'graphql-transport-ws' : false),
      });
      wss.on('connection', (ws) => {
        ws.on('message', (data) => {
          const message = JSON.parse(String(data)) as { type: string; id?: string };
          if (message.type === 'connection_init') ws.send('{"type":"connection_ack"}');
          if (message.type !== 'subscribe') return;
          ws.send(`{"id":"${message.id}","type":"next","payload":{"data":${DEEP}}}`);
          ws.send(JSON.stringify({ id: message.id, type: 'next', payload: { data: CANARY } }));
        });
      });
      const { code, stdout, summary } = await run(url, [
        'protocol graphql-ws',
        'on open send {"query":"subscription { ticks }"}',
      ]);
      expect(stdout).toMatch(/^sockstorm run: PASSED/m);
      expect(code).toBe(0);
      expect(summary.errors).toEqual({ 'graphql.bad_message': USERS });
      expectChecks(summary, 1);
    },
  );
});
