// Issue 19, item 4: every wait on what a target does has a deadline and gives way to a stop. A
// --broadcast-http answer dripped a byte a second, a check's regular expression that backtracks
// for ever, a host name that does not resolve, users stuck in handshakes: each ends the run in
// its time (or before any socket, 104), and SIGTERM during any of them exits 105 at once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runCli, startCli, waitForOutput } from '../helpers/run-cli.ts';
import { eventually } from '../helpers/test-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-waits-'));
let n = 0;
function script(text: string): string {
  const file = join(dir, `s${++n}.storm`);
  writeFileSync(file, text);
  return file;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A ws server on 127.0.0.1:0; `onUser` gets each socket. */
async function wsServer(onUser: (send: (text: string) => void) => void = () => {}): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    onUser((text) => ws.send(text));
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  closers.push(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  return `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}/`;
}

/**
 * An HTTP server that answers 200 at once and then drips its body a byte
 * a second, never ending it; it notes when each request came and went.
 */
async function drip(): Promise<{ base: string; requests: Array<{ startedAt: number; closedAt: number | null }> }> {
  const requests: Array<{ startedAt: number; closedAt: number | null }> = [];
  const server = http.createServer((req, res) => {
    const seen = { startedAt: performance.now(), closedAt: null as number | null };
    requests.push(seen);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('x');
    const timer = setInterval(() => res.write('x'), 1000);
    res.on('close', () => {
      clearInterval(timer);
      seen.closedAt = performance.now();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { base: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests };
}

describe('--broadcast-http against a target that drips its answer', () => {
  it('fails the request at its 5 s deadline, saying so, and the script goes on to its end', async () => {
    const target = await wsServer();
    const http = await drip();
    const result = await runCli(
      [
        'run',
        script('vus 2\nawait open 2 timeout 10s\nbroadcast 1\nwait 1s\n'),
        '--target',
        target,
        '--broadcast-http',
        `POST ${http.base}/publish {}`,
      ],
      {},
      30_000,
    );
    expect(result.code).toBe(99);
    expect(result.stdout).toContain(
      'line 3 "broadcast 1": broadcast request failed: answered HTTP 200, but its body did not end within 5000 ms',
    );
    expect(http.requests).toHaveLength(1);
    expect(http.requests[0]!.closedAt).not.toBeNull();
  }, 40_000);

  it('ends a 3 s script of a broadcast every second after its 3 s: the stop aborts the requests still ' +
    'dripping', async () => {
    const target = await wsServer();
    const http = await drip();
    const result = await runCli(
      [
        'run',
        script('vus 2\nbroadcast 3 every 1s\nwait 3s\n'),
        '--target',
        target,
        '--broadcast-http',
        `POST ${http.base}/publish {}`,
      ],
      {},
      30_000,
    );
    expect(result.code).toBe(0);
    expect(http.requests).toHaveLength(3);
    // each one was cut by the end of the script, before the deadline of 5 s would have
    for (const request of http.requests) expect(request.closedAt).not.toBeNull();
    expect(http.requests[2]!.closedAt! - http.requests[2]!.startedAt).toBeLessThan(4500);
  }, 40_000);

  it('exits 105 on SIGTERM while the script waits for the answer, aborting the request', async () => {
    const target = await wsServer();
    const http = await drip();
    const run = startCli([
      'run',
      script('vus 2\nawait open 2 timeout 10s\nbroadcast 1\nwait 1s\n'),
      '--target',
      target,
      '--broadcast-http',
      `POST ${http.base}/x {}`,
    ]);
    await eventually(() => http.requests.length === 1, 20_000);
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(105);
    expect(http.requests[0]!.closedAt).not.toBeNull();
    // aborted by the stop, not by the 5 s deadline
    expect(http.requests[0]!.closedAt! - http.requests[0]!.startedAt).toBeLessThan(4500);
  }, 40_000);
});

describe('check … matches against what a target sends', () => {
  it('finishes with /(a+)+$/ against "aaaaaaaaaaaaaaaaaaaaaaaaaa!" (26 a and a !), each a failed check', async () => {
    const evil = `${'a'.repeat(26)}!`;
    const target = await wsServer((send) => {
      for (let i = 0; i < 5; i++) send(evil);
    });
    const result = await runCli(
      ['run', script('check evil . matches /(a+)+$/\nvus 3\nawait open 3 timeout 10s\nwait 1s\n'), '--target', target],
      {},
      30_000,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('checks     evil 0% of 15 (15 failed)');
  }, 40_000);

  it('refuses a backreference when the script is read (104), naming the check and what to write instead', async () => {
    const result = await runCli([
      'run',
      script('check twice name matches /(a)\\1/\nvus 1\n'),
      '--target',
      'ws://127.0.0.1:9/',
    ]);
    expect(result.code).toBe(104);
    expect(result.stderr).toMatch(
      /s\d+\.storm:1:26: check twice: \/\(a\)\\1\/ cannot run in linear time.*write out the text it stands for/,
    );
    expect(result.stdout).toBe('');
  });
});

describe('a target host name that does not resolve', () => {
  // .invalid never resolves (RFC 6761); the resolver may still ask this host's DNS server, so
  // nothing here depends on how long that takes: the lookup has a deadline of its own
  it.each([
    { how: 'one process', args: [] as string[] },
    { how: 'two generator processes', args: ['--workers', '2'] },
  ])(
    'is refused before any socket opens (104), naming the host ($how)',
    async ({ args }) => {
      const result = await runCli(
        ['run', script('vus 100\nwait 3s\n'), '--target', 'ws://no-such-host.invalid:1234/', ...args],
        {},
        40_000,
      );
      expect(result.code).toBe(104);
      expect(result.stderr).toMatch(
        /the target's host "no-such-host\.invalid" does not resolve \(\w+.*\); check the name.*\[config\.dns\]/,
      );
      expect(result.stdout).toBe('');
    },
    50_000,
  );
});

describe('a stop during a wait', () => {
  /** A TCP server that accepts and never answers: every handshake hangs. */
  async function blackhole(): Promise<string> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  }

  it.each([
    { wait: 'await open 30 timeout 60s', text: 'vus 30\nawait open 30 timeout 60s\n' },
    { wait: 'wait 60s', text: 'vus 30\nwait 60s\n' },
  ])(
    'exits 105 on SIGTERM during `$wait` with every user stuck in its handshake',
    async ({ text }) => {
      const target = await blackhole();
      const run = startCli(['run', script(text), '--target', target, '--handshake-timeout', '60000']);
      await waitForOutput(run.stderr, /conn 30 /, 20_000);
      run.child.kill('SIGTERM');
      expect((await run.exit).code).toBe(105);
      expect(run.stdout()).toMatch(/sockstorm run: STOPPED \(exit 105\)/);
    },
    40_000,
  );

  it('exits 105 at once on SIGTERM before the run has started (waiting for agents to join)', async () => {
    const run = startCli([
      'run',
      script('vus 1\nwait 1s\n'),
      '--agents',
      '1',
      '--listen',
      '127.0.0.1:0',
      '--token',
      'a-token-of-16-chars',
      '--target',
      'ws://127.0.0.1:9/',
    ]);
    await waitForOutput(run.stderr, 'waiting for 1 agents', 20_000);
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(105);
    expect(run.stderr()).toContain('stopped before the run started');
  }, 40_000);
});
