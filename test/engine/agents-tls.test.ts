import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, waitForOutput } from '../helpers/run-cli.ts';
import { makeCert } from '../helpers/tls-cert.ts';

// Agents over wss:// with a private CA, and an agent that comes back to a coordinator that
// restarts on the same port: loopback only.
const dir = mkdtempSync(join(tmpdir(), 'sockstorm-agents-tls-'));
const TOKEN = 'tls-test-token-0123456789abcdef';

function script(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const waitingAt = /waiting for \d+ agents at (wss?:\/\/[\d.]+:\d+)/;

describe('agents and their coordinator', () => {
  it('join over wss:// with a CA, and refuse a coordinator certificate they cannot verify', async () => {
    const { keyFile: key, certFile: cert } = await makeCert(dir);
    const json = join(dir, 'tls.json');
    const run = startCli([
      'run',
      script('tls.storm', 'vus 20\nawait open 20 timeout 20s\nwait 1s\nexpect open >= 20\n'),
      '--agents',
      '1',
      '--listen',
      '127.0.0.1:0',
      '--token',
      TOKEN,
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--json',
      json,
      '--agents-timeout',
      '20',
    ]);
    const url = waitingAt.exec(await waitForOutput(run.stderr, waitingAt, 20_000))![1]!;
    expect(url).toMatch(/^wss:/);
    // without the CA the certificate is not trusted: the agent never joins
    const untrusting = startCli([
      'agent',
      '--coordinator',
      url,
      '--token',
      TOKEN,
      '--name',
      'no-ca',
      '--retry-for',
      '1',
    ]);
    expect((await untrusting.exit).code).toBe(1);
    const agent = startCli([
      'agent',
      '--coordinator',
      url,
      '--token',
      TOKEN,
      '--ca',
      cert,
      '--name',
      'with-ca',
      '--retry-for',
      '5',
    ]);
    await run.exit;
    expect(run.stderr()).toContain('agent with-ca joined');
    expect(run.stderr()).not.toContain('agent no-ca joined');
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary).toMatchObject({ verdict: 'passed', fleet: { open: 20 } });
    expect((await agent.exit).code).toBe(0);
  }, 60_000);

  it('keep an agent whose loop stalls for 3 s, and lose one that stops answering for longer than 6 pings', async () => {
    const json = join(dir, 'stalls.json');
    const run = startCli([
      'run',
      script('stalls.storm', 'vus 20\nawait open 20 timeout 20s\nwait 14s\n'),
      '--agents',
      '2',
      '--listen',
      '127.0.0.1:0',
      '--token',
      TOKEN,
      '--json',
      json,
    ]);
    const url = waitingAt.exec(await waitForOutput(run.stderr, waitingAt, 20_000))![1]!;
    const brief = startCli(['agent', '--coordinator', url, '--token', TOKEN, '--name', 'brief', '--retry-for', '1']);
    const long = startCli(['agent', '--coordinator', url, '--token', TOKEN, '--name', 'long', '--retry-for', '1']);
    await waitForOutput(run.stderr, /open 20\/20/, 20_000);
    // SIGSTOP freezes the whole process: its kernel keeps the socket, nothing answers a ping
    brief.child.kill('SIGSTOP');
    long.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    brief.child.kill('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 7000));
    long.child.kill('SIGCONT');
    await run.exit;
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    const lost = (summary.notes as string[] | undefined)?.join('\n') ?? '';
    expect(run.stderr() + lost).not.toMatch(/brief lost/);
    expect(summary.fleet.open).toBe(10);
    expect(summary.errors['agent.lost']).toBe(10);
    await Promise.all([brief.exit, long.exit]);
  }, 60_000);

  it('come back to a coordinator that restarts on the same port, and run its next run', async () => {
    const first = startCli([
      'run',
      script('long.storm', 'vus 10\nwait 60s\n'),
      '--agents',
      '1',
      '--listen',
      '127.0.0.1:0',
      '--token',
      TOKEN,
    ]);
    const url = waitingAt.exec(await waitForOutput(first.stderr, waitingAt, 20_000))![1]!;
    const port = url.split(':').pop()!;
    const agent = startCli(['agent', '--coordinator', url, '--token', TOKEN, '--name', 'stayer', '--retry-for', '30']);
    await waitForOutput(first.stderr, /open 10\/10/, 20_000);
    first.child.kill('SIGKILL');
    await first.exit;
    await waitForOutput(agent.stderr, /lost the coordinator/, 10_000);
    const json = join(dir, 'second.json');
    const second = startCli([
      'run',
      script('short.storm', 'vus 15\nawait open 15 timeout 20s\nexpect open >= 15\n'),
      '--agents',
      '1',
      '--listen',
      `127.0.0.1:${port}`,
      '--token',
      TOKEN,
      '--json',
      json,
      '--agents-timeout',
      '20',
    ]);
    const { code } = await second.exit;
    expect(second.stderr()).toContain('agent stayer joined');
    expect(JSON.parse(readFileSync(json, 'utf8')).fleet.open).toBe(15);
    expect(code).toBe(0);
    expect((await agent.exit).code).toBe(0);
  }, 90_000);
});
