// A `--workers` shard that dies is a fault of the run. A shard that died before it counted
// anything once left a summary reading `open 0/0, errors none, PASSED` (exit 0): its users were
// never counted anywhere. Now any lost shard fails the run (99) and says which and why, in the
// summary and the JSON; the run still ends with both. An agent lost mid-run stays a figure
// (agents.lost, see agents-netns.test.ts), but one lost before it counted anything is a fault too.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { descendantsOf } from '../helpers/process-tree.ts';
import { startCli, waitForOutput, type CliRun } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-lost-shard-'));
let wss: WebSocketServer;
let url: string;

beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

/** Starts a two-shard run of `lines` against the test's server. */
function start(name: string, lines: string[]): { run: CliRun; json: string } {
  const file = join(dir, `${name}.storm`);
  const json = join(dir, `${name}.json`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { run: startCli(['run', file, '--target', url, '--workers', '2', '--json', json, '--no-host-check']), json };
}

/** The shard processes of a run, once both are up. */
async function shardsOf(run: CliRun): Promise<number[]> {
  for (let tries = 0; tries < 400; tries++) {
    const shards = descendantsOf(run.child.pid!).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shard');
      } catch {
        return false;
      }
    });
    if (shards.length === 2) return shards;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the run did not start two shards');
}

describe('a --workers shard that dies', () => {
  it('before it counted anything fails the run (99), naming the shard and why, in the summary and the ' +
    'JSON', async () => {
    const { run, json } = start('early', ['wait 4s', 'vus 4', 'wait 1s']);
    const [shard] = await shardsOf(run);
    await waitForOutput(run.stderr, /\[0:0\d/, 20_000);
    process.kill(shard!, 'SIGKILL');
    const { code } = await run.exit;
    expect(run.stdout()).toMatch(/^sockstorm run: FAILED \(exit 99\)/m);
    expect(run.stdout()).toMatch(
      /✗ fault: shard\.lost: shard \d lost \(the process was killed by SIGKILL\) before it counted anything/,
    );
    expect(code).toBe(99);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.verdict).toBe('failed');
    expect(summary.exitCode).toBe(99);
    expect(summary.thresholds).toContainEqual(
      expect.objectContaining({ metric: 'fault', status: 'failed', source: expect.stringMatching(/^shard\.lost: /) }),
    );
    // the shard left took the whole count
    expect(summary.fleet.open).toBe(4);
  }, 45_000);

  it('mid-run fails the run too, its open users counted as lost', async () => {
    const { run, json } = start('later', ['vus 4', 'await open 4 timeout 20s', 'wait 3s']);
    const [shard] = await shardsOf(run);
    await waitForOutput(run.stderr, /open 4\/4/, 20_000);
    process.kill(shard!, 'SIGKILL');
    const { code } = await run.exit;
    expect(run.stdout()).toMatch(
      /✗ fault: shard\.lost: shard \d lost \(the process was killed by SIGKILL\): its 2 users are lost/,
    );
    expect(code).toBe(99);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.verdict).toBe('failed');
    expect(summary.errors['shard.lost']).toBe(2);
  }, 45_000);

  it('an agent lost before it counted anything fails the run the same way', async () => {
    const file = join(dir, 'agents.storm');
    const json = join(dir, 'agents.json');
    writeFileSync(file, 'wait 4s\nvus 4\nwait 1s\n');
    const token = 'lost-part-token-0123456789';
    const run = startCli([
      'run',
      file,
      '--target',
      url,
      '--agents',
      '2',
      '--listen',
      '127.0.0.1:0',
      '--token',
      token,
      '--json',
      json,
    ]);
    const at = /waiting for \d+ agents at (ws:\/\/[\d.]+:\d+)/.exec(
      await waitForOutput(run.stderr, /waiting for \d+ agents at ws:\/\/[\d.]+:\d+/),
    )![1]!;
    const agents = ['a', 'b'].map((name) =>
      startCli(['agent', '--coordinator', at, '--token', token, '--name', name, '--retry-for', '1']),
    );
    await waitForOutput(run.stderr, /\[0:0\d/, 20_000);
    agents[0]!.child.kill('SIGKILL');
    const { code } = await run.exit;
    expect(run.stdout()).toMatch(/✗ fault: agent\.lost: agent a lost \(.*\) before it counted anything/);
    expect(code).toBe(99);
    expect(JSON.parse(readFileSync(json, 'utf8')).verdict).toBe('failed');
    await agents[1]!.exit;
  }, 45_000);
});
