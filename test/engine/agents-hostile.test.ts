// Issue 22, items 1 and 2: the distributed plane trusts no peer. Strangers at the coordinator's
// --listen port (10 of them sending 64 MiB each took it from 62 to 847 MiB), an agent that sends
// `{}` as a sample (the coordinator crashed without its JSON) or wrong field types (it hung), a
// coordinator that sends `null` or a second welcome (the agent crashed): real processes on
// loopback, the hostile peer a small `ws` client or server in the test.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { HELLO_HEADER, PART_PROTOCOL_VERSION } from '../../console/engine/parts/part-protocol.ts';
import { startCli, waitForOutput, type CliRun } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-agents-hostile-'));
const TOKEN = 'hostile-plane-token-0123456789';
const waitingAt = /waiting for \d+ agents at (ws:\/\/[\d.]+:\d+)/;
let n = 0;

function script(text: string): string {
  const file = join(dir, `s${++n}.storm`);
  writeFileSync(file, text);
  return file;
}

/** Starts a coordinator for `text` over `agents` agents; resolves with it, the URL agents dial and its JSON's path. */
async function coordinator(
  text: string,
  agents: number,
  extra: string[] = [],
): Promise<{ run: CliRun; url: string; json: string }> {
  const json = join(dir, `s${n + 1}.json`);
  const run = startCli([
    'run',
    script(text),
    '--agents',
    String(agents),
    '--listen',
    '127.0.0.1:0',
    '--token',
    TOKEN,
    '--json',
    json,
    ...extra,
  ]);
  const url = waitingAt.exec(await waitForOutput(run.stderr, waitingAt, 20_000))![1]!;
  return { run, url, json };
}

const agent = (url: string, name: string) =>
  startCli(['agent', '--coordinator', url, '--token', TOKEN, '--name', name, '--retry-for', '2']);

/** The peak resident memory of a process so far, bytes. */
function peakRss(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** Writes up to `bytes` of an upgrade request that never ends; resolves with the bytes written once the peer has closed. */
function flood(port: number, bytes: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    let written = 0;
    const write = (): void => {
      while (written < bytes && !socket.destroyed) {
        written += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', write);
      }
    };
    socket.on('connect', () => {
      socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Filler: `);
      write();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(written));
  });
}

/** An agent played by the test: it joins with the token and answers each message with `answer`. */
function fakeAgent(
  url: string,
  name: string,
  answer: (message: { type: string; id?: number }, send: (m: unknown) => void) => void,
): WebSocket {
  const hello = { type: 'hello', protocol: PART_PROTOCOL_VERSION, token: TOKEN, name, capacity: null };
  const socket = new WebSocket(url, {
    headers: { [HELLO_HEADER]: Buffer.from(JSON.stringify(hello)).toString('base64url') },
  });
  socket.on('message', (data) =>
    answer(JSON.parse(String(data)), (m) => socket.send(typeof m === 'string' ? m : JSON.stringify(m))),
  );
  socket.on('error', () => {});
  return socket;
}

const LIVE = { open: 0, target: 0, isRecovered: true, killed: 0 };

describe('a coordinator facing strangers', () => {
  it('refuses connections without the token at the upgrade, drops floods and idlers, keeps its memory, and runs with the agent that has it', async () => {
    const { run, url, json } = await coordinator('vus 4\nawait open 4 timeout 20s\nwait 1s\nexpect open >= 4\n', 1, [
      '--agents-timeout',
      '60',
    ]);
    const port = Number(new URL(url).port);
    const pid = run.child.pid!;
    const before = peakRss(pid);
    // WebSocket clients without a hello, or with a wrong token: refused before any WebSocket exists
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const headers =
          i % 2
            ? {
                [HELLO_HEADER]: Buffer.from(
                  JSON.stringify({
                    type: 'hello',
                    protocol: PART_PROTOCOL_VERSION,
                    token: 'not-the-token-000000',
                    name: 'x',
                    capacity: null,
                  }),
                ).toString('base64url'),
              }
            : {};
        return new Promise<number>((resolve) => {
          const socket = new WebSocket(url, { headers });
          socket.on('unexpected-response', (request, response) => {
            resolve(response.statusCode ?? 0);
            request.destroy();
          });
          socket.on('open', () => resolve(101));
          socket.on('error', () => resolve(-1));
        });
      }),
    );
    expect(statuses).toEqual(new Array(10).fill(401));
    // ten strangers that send 64 MiB each of an upgrade request: cut off after a few KiB of headers
    const written = await Promise.all(Array.from({ length: 10 }, () => flood(port, 64 * 1024 * 1024)));
    for (const bytes of written) expect(bytes).toBeLessThan(64 * 1024 * 1024);
    // idlers that say nothing: past the cap dropped at once, the others closed at the hello deadline
    const idlers = Array.from({ length: 60 }, () => net.connect(port, '127.0.0.1'));
    const closedAt = await Promise.all(
      idlers.map((socket) => {
        const at = Date.now();
        socket.on('error', () => {});
        return new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - at)));
      }),
    );
    // (a few of the refused connections above may still be closing)
    expect(closedAt.filter((ms) => ms < 1000).length).toBeGreaterThanOrEqual(60 - 32 - 4);
    expect(Math.max(...closedAt)).toBeLessThan(9000);
    expect(peakRss(pid) - before).toBeLessThan(48 * 1024 * 1024);
    // the stranger lines stop after ten, with a count now and then
    expect(run.stderr().match(/refused an agent from/g)!.length).toBeLessThanOrEqual(10);
    // and an agent with the token joins and runs the script
    const real = agent(url, 'real');
    const { code } = await run.exit;
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ verdict: 'passed', fleet: { open: 4 } });
    expect(code).toBe(0);
    expect((await real.exit).code).toBe(0);
  }, 60_000);
});

describe('a coordinator facing a joined agent that sends bad messages', () => {
  it.each([
    {
      what: '{} as a sample',
      bad: (id: number) => ({ type: 'sample', id, sample: {}, live: LIVE }),
      reason: /sample\.fleet: /,
    },
    {
      what: 'wrong field types',
      bad: () => ({ type: 'live', open: 'many', target: 4, isRecovered: true, killed: 0 }),
      reason: /open: .*expected number/,
    },
    { what: 'a frame that is not JSON', bad: () => '{"type":', reason: /not JSON/ },
  ])(
    'loses that agent with the reason ($what) and ends the run with its JSON',
    async ({ bad, reason }) => {
      const { run, url, json } = await coordinator('vus 4\nawait open 2 timeout 20s\nwait 2s\n', 2);
      const real = agent(url, 'real');
      await waitForOutput(run.stderr, 'agent real joined');
      fakeAgent(url, 'liar', (message, send) => {
        if (message.type === 'init') return send({ type: 'ready' });
        if (message.type === 'sample') send(bad(message.id!));
      });
      const { code } = await run.exit;
      const summary = JSON.parse(readFileSync(json, 'utf8'));
      const fault = summary.thresholds.find((t: { metric: string }) => t.metric === 'fault');
      expect(fault.source).toMatch(/^agent\.lost: agent liar lost \(it sent a bad message \(/);
      expect(fault.source).toMatch(reason);
      // lost at its first sample, before `vus 4`: the real agent holds them all
      expect(summary.fleet.open).toBe(4);
      expect(code).toBe(99);
      expect((await real.exit).code).toBe(0);
    },
    45_000,
  );
});

describe('an agent facing a coordinator that sends bad messages', () => {
  it('refuses a bad command with an answer, ignores null and a second welcome, and exits 0 at the end', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    const answers: unknown[] = [];
    wss.on('connection', (socket) => {
      socket.on('message', (data) => answers.push(JSON.parse(String(data))));
      socket.send(JSON.stringify({ type: 'welcome', name: 'a' }));
      socket.send('null');
      socket.send('[1,2,3]');
      socket.send(JSON.stringify({ type: 'welcome', name: 'again' }));
      socket.send(JSON.stringify({ type: 'apply', id: 7, command: { type: 'set-target', count: 'all of them' } }));
      socket.send(JSON.stringify({ type: 'sample', id: 'x' }));
      setTimeout(() => socket.send(JSON.stringify({ type: 'end', reason: 'done' })), 1000);
    });
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const run = agent(url, 'target-of-lies');
    const { code } = await run.exit;
    wss.close();
    expect(run.stderr()).toContain('joined ws://127.0.0.1');
    expect(run.stderr()).toMatch(/refused a bad message from the coordinator: .*null/);
    expect(run.stderr()).toContain('ignored a second welcome from the coordinator');
    expect(answers).toContainEqual(
      expect.objectContaining({
        type: 'result',
        id: 7,
        result: expect.objectContaining({ ok: false, message: expect.stringMatching(/^refused: command\.count/) }),
      }),
    );
    expect(code).toBe(0);
  }, 30_000);
});
