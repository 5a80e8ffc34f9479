// Issue 22, items 3 and 4: a stop is obeyed at every stage of a run over agents (Ctrl+C and
// SIGTERM while the coordinator waited for agents were ignored until --agents-timeout, 600 s in
// the manifest), a users file over an agent's 64 MiB frame limit reaches it in chunks (it was a
// bare "1009"), and an agent that cannot trust the coordinator's certificate says what failed
// (it said only "no coordinator"). Real processes on loopback.
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { startOnPty } from '../dashboard/pty.ts';
import { hasTool } from '../helpers/optional-tools.ts';
import { childrenOf } from '../helpers/process-tree.ts';
import { startCli, waitForOutput, type CliRun } from '../helpers/run-cli.ts';
import { makeCert } from '../helpers/tls-cert.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-agents-stop-'));
const TOKEN = 'stop-test-token-0123456789abcdef';
const waitingAt = /waiting for \d+ agents at (wss?:\/\/[\d.]+:\d+)/;
let n = 0;

function file(name: string, text: string): string {
  const path = join(dir, `${++n}-${name}`);
  writeFileSync(path, text);
  return path;
}

async function coordinator(text: string, agents: number, extra: string[] = []): Promise<{ run: CliRun; url: string }> {
  const run = startCli([
    'run',
    file('s.storm', text),
    '--agents',
    String(agents),
    '--listen',
    '127.0.0.1:0',
    '--token',
    TOKEN,
    ...extra,
  ]);
  return { run, url: waitingAt.exec(await waitForOutput(run.stderr, waitingAt, 20_000))![1]! };
}

const agent = (url: string, name: string, extra: string[] = []) =>
  startCli(['agent', '--coordinator', url, '--token', TOKEN, '--name', name, '--retry-for', '30', ...extra]);

describe('a stop over agents', () => {
  it('while waiting for agents: exit 105 at once, and the agent that joined is told the run is over (exit 0)', async () => {
    const { run, url } = await coordinator('vus 2\nwait 1s\n', 2, ['--agents-timeout', '600']);
    const joined = agent(url, 'early');
    await waitForOutput(run.stderr, 'agent early joined', 20_000);
    const at = Date.now();
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(105);
    expect(run.stderr()).toContain('stopped before the run started (waiting for agents: 1 of 2 had joined)');
    // with --retry-for 30 an agent that lost its coordinator would dial on for 30 s
    expect((await joined.exit).code).toBe(0);
    expect(Date.now() - at).toBeLessThan(5000);
    expect(joined.stderr()).not.toContain('lost the coordinator');
  }, 40_000);

  it('while running: the run stops gracefully with its summary (105), and the agent exits 0', async () => {
    const { run, url } = await coordinator('vus 4\nawait open 4 timeout 20s\nwait 60s\n', 1);
    const one = agent(url, 'one');
    await waitForOutput(run.stderr, /open 4\/4/, 20_000);
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(105);
    expect(run.stdout()).toMatch(/sockstorm run: STOPPED \(exit 105\)/);
    expect((await one.exit).code).toBe(0);
  }, 40_000);

  it.skipIf(!hasTool('pty', 'the console stopping while agents join'))(
    'in the console, Ctrl+C while waiting for agents exits 105',
    async () => {
      const console = startOnPty([
        'console',
        '--agents',
        '1',
        '--listen',
        '127.0.0.1:0',
        '--token',
        TOKEN,
        '--agents-timeout',
        '600',
      ]);
      await waitForOutput(console.raw, 'waiting for 1 agents', 20_000);
      console.type('\x03');
      expect(await console.exit).toBe(105);
      expect(console.raw()).toContain('stopped before the run started');
    },
    40_000,
  );

  it.skipIf(!hasTool('pty', 'the console stopping while agents join'))(
    'in the console, SIGTERM while running ends the session (105), and the agent exits 0',
    async () => {
      const console = startOnPty([
        'console',
        '--agents',
        '1',
        '--listen',
        '127.0.0.1:0',
        '--token',
        TOKEN,
        '--metrics-port',
        '0',
      ]);
      const url = waitingAt.exec(await waitForOutput(console.raw, waitingAt, 20_000))![1]!;
      const one = agent(url, 'one');
      // the endpoint's line comes once the engine exists: the session is running
      await waitForOutput(console.raw, 'metrics at http://', 20_000);
      const [sockstorm] = childrenOf(console.pid);
      process.kill(sockstorm!, 'SIGTERM');
      expect(await console.exit).toBe(105);
      expect((await one.exit).code).toBe(0);
    },
    40_000,
  );
});

describe('a users file over agents', () => {
  it('larger than an agent frame reaches the agent in chunks, every row intact', async () => {
    // 70 rows of 1 MiB: 70 MiB in all, over the agent's 64 MiB frame limit
    const filler = 'x'.repeat(1024 * 1024);
    const users = file('users.csv', `n,filler\n${Array.from({ length: 70 }, (_, i) => `${i},${filler}`).join('\n')}\n`);
    const seen: string[] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => socket.on('message', (data) => seen.push(String(data))));
    const target = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    const { run, url } = await coordinator(
      `users from ${users}\non open send {"n":"{{row.n}}","size":"{{row.filler}}"}\nvus 3\nawait open 3 timeout 30s\nwait 1s\nexpect open >= 3\n`,
      1,
      ['--target', target],
    );
    const one = agent(url, 'one');
    const { code } = await run.exit;
    wss.close();
    expect(run.stderr()).not.toMatch(/1009|lost/);
    expect(code).toBe(0);
    const rows = seen.map((text) => JSON.parse(text) as { n: string; size: string });
    expect(rows.map((r) => r.n).sort()).toEqual(['0', '1', '2']);
    for (const row of rows) expect(row.size).toBe(filler);
    expect((await one.exit).code).toBe(0);
  }, 60_000);
});

/** A self-signed key and certificate for `host`, valid from yesterday for `days` (negative: expired a day ago). */
async function certificate(name: string, host: string, days: number): Promise<{ key: string; cert: string }> {
  const day = 86_400_000;
  const made = await makeCert(dir, {
    name: `${name}-`,
    host,
    notBefore: new Date(Date.now() - (days < 0 ? 2 : 1) * day),
    notAfter: new Date(Date.now() + days * day),
  });
  return { key: made.keyFile, cert: made.certFile };
}

describe('an agent that cannot trust the coordinator', () => {
  it.each([
    {
      what: 'an unknown CA',
      host: '127.0.0.1',
      days: 1,
      withCa: false,
      says: /signed by a CA this agent does not trust \(DEPTH_ZERO_SELF_SIGNED_CERT\): give --ca/,
    },
    {
      what: 'a name mismatch',
      host: 'elsewhere.example',
      days: 1,
      withCa: true,
      says: /certificate is not for this name \(.*127\.0\.0\.1.*\)/,
    },
    { what: 'an expired certificate', host: '127.0.0.1', days: -1, withCa: true, says: /certificate has expired/ },
  ])(
    'says what failed: $what',
    async ({ what, host, days, withCa, says }) => {
      const { key, cert } = await certificate(what.replace(/\W/g, '-'), host, days);
      const { run, url } = await coordinator('vus 1\n', 1, [
        '--tls-cert',
        cert,
        '--tls-key',
        key,
        '--agents-timeout',
        '30',
      ]);
      const refused = agent(url, 'doubter', ['--retry-for', '1', ...(withCa ? ['--ca', cert] : [])]);
      expect((await refused.exit).code).toBe(1);
      expect(refused.stderr()).toMatch(says);
      expect(refused.stderr()).toMatch(/giving up/);
      run.child.kill('SIGTERM');
      await run.exit;
    },
    30_000,
  );
});
