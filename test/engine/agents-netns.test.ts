import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHosts, type Hosts } from '../helpers/netns.ts';
import { hasTool } from '../helpers/optional-tools.ts';
import { startCli, waitForOutput } from '../helpers/run-cli.ts';

// Three agents, each in a network namespace of its own (its own address, its own ports), dial
// the coordinator in the root namespace, where the bundled server runs too.
const TOKEN = 'netns-test-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'sockstorm-agents-'));

function script(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!hasTool('netns', 'the agents-on-three-hosts tests'))('a run over three agents on three hosts', () => {
  let hosts: Hosts;
  beforeAll(() => {
    hosts = makeHosts(3, 'a');
  });
  afterAll(() => hosts?.remove());

  /** Starts the coordinator for `file` and resolves with it and the URL agents dial. */
  async function coordinator(file: string, extra: string[] = []) {
    const run = startCli([
      'run',
      file,
      '--agents',
      '3',
      '--listen',
      `${hosts.root}:0`,
      '--token',
      TOKEN,
      '--agents-timeout',
      '30',
      ...extra,
    ]);
    const stderr = await waitForOutput(run.stderr, /waiting for 3 agents at (ws:\/\/[\d.]+:\d+)/, 30_000);
    return { run, url: /waiting for 3 agents at (ws:\/\/[\d.]+:\d+)/.exec(stderr)![1]! };
  }

  const agent = (index: number, url: string, token = TOKEN) =>
    hosts.sockstorm(index, [
      'agent',
      '--coordinator',
      url,
      '--token',
      token,
      '--plaintext',
      '--name',
      `agent-${index}`,
      '--retry-for',
      '5',
    ]);

  it('holds exact counts the server agrees with, kills exactly 20% across agents, and every broadcast ' +
    'reaches everyone', async () => {
    const json = join(dir, 'three.json');
    const file = script(
      'three.storm',
      [
        'vus 300',
        'await open 300 timeout 30s',
        'wait 1s',
        'kill 20% reset',
        'await recovered timeout 30s',
        'wait 1s',
        'broadcast 5',
        'wait 2s',
        'expect open >= 300',
        'expect reach >= 100%',
        'expect missed == 0',
        'expect agents.lost == 0',
      ].join('\n'),
    );
    const { run, url } = await coordinator(file, ['--json', json]);
    // a wrong token is refused, and said by the coordinator on stderr (it is refused before the
    // agents start: once they have joined, the coordinator says it in the run's log instead)
    const intruder = agent(0, url, 'not-the-token-at-all-000');
    const refused = await new Promise<number | null>((resolve) => intruder.once('exit', (code) => resolve(code)));
    const agents = [0, 1, 2].map((i) => agent(i, url));
    expect(refused).toBe(104);
    expect(intruder.output()).toContain('wrong token');
    const { code } = await run.exit;
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(run.stderr()).toMatch(/refused an agent from 198\.18\.0\.11:\d+: wrong token/);
    expect(summary.verdict, run.stdout()).toBe('passed');
    expect(code).toBe(0);
    expect(summary.fleet).toMatchObject({ open: 300, target: 300 });
    expect(summary.totals).toMatchObject({ killed: 60, connects: 360, broadcastsReceived: 1500, missed: 0 });
    expect(summary.recoveries[0]).toMatchObject({ action: 'kill 20% reset', dropped: 60, target: 300, attempts: 60 });
    expect(summary.latency.fanout.count).toBe(1500);
    expect(summary.broadcasts).toMatchObject({ settled: 5, minReach: 1 });
    for (const b of summary.broadcasts.last) expect(b).toMatchObject({ receivers: 300, openAtSend: 300, reach: 1 });
    // the bundled server counted the same users the agents held
    expect(summary.server.connections).toBe(300);
    const codes = await Promise.all(
      agents.map(
        (a) =>
          new Promise<number | null>((resolve) =>
            a.exitCode !== null ? resolve(a.exitCode) : a.once('exit', (c) => resolve(c)),
          ),
      ),
    );
    expect(codes).toEqual([0, 0, 0]);
  }, 90_000);

  it('reports an agent killed mid-run as lost within 3 s, counts its users as lost, and goes on', async () => {
    const json = join(dir, 'lost.json');
    const ndjson = join(dir, 'lost.ndjson');
    const file = script(
      'lost.storm',
      ['vus 150', 'await open 150 timeout 30s', 'wait 8s', 'expect agents.lost == 1'].join('\n'),
    );
    const { run, url } = await coordinator(file, ['--json', json, '--ndjson', ndjson]);
    const agents = [0, 1, 2].map((i) => agent(i, url));
    await waitForOutput(run.stderr, /open 150\/150/, 30_000);
    const killedAt = Date.now();
    agents[1]!.kill('SIGKILL');
    await waitForOutput(run.stderr, /open 100\/100/, 10_000);
    const { code } = await run.exit;
    const snapshots = readFileSync(ndjson, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const firstLost = snapshots.find((s) => (s.partsLost ?? 0) > 0);
    expect(firstLost, 'a snapshot says the agent is lost').toBeDefined();
    expect(firstLost.atMs - killedAt).toBeLessThanOrEqual(3000);
    expect(firstLost.events.some((e: { text: string }) => /agent-1 lost .*its 50 users are lost/.test(e.text))).toBe(
      true,
    );
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.errors['agent.lost']).toBe(50);
    expect(summary.fleet.open).toBe(100);
    expect(summary.thresholds[0]).toMatchObject({ metric: 'agents.lost', actual: 1, status: 'passed' });
    expect(code).toBe(0);
  }, 90_000);
});
