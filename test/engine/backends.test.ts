import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, waitForOutput } from '../helpers/run-cli.ts';

// One script on each backend (this process, two shard processes, two agents on loopback): the
// one engine shell drives them all, so every command must come out the same.
const dir = mkdtempSync(join(tmpdir(), 'sockstorm-backends-'));
const TOKEN = 'backends-test-token-0123456789';
const SCRIPT = [
  'vus 100',
  'await open 100 timeout 20s',
  'reconnect fixed 100ms',
  'kill 20% reset',
  'await recovered timeout 20s',
  'broadcast 3 every 300ms',
  'wait 1500ms',
  'slow 10% for 300ms',
  'kill 10% close',
  'await recovered timeout 20s',
  'remove 30',
  'wait 1s',
  'expect open >= 70',
  'expect reach >= 100%',
  'expect missed == 0',
  'expect recovery.full < 10s',
].join('\n');

type Summary = {
  verdict: string;
  fleet: { open: number; target: number; policy: string };
  totals: Record<string, number>;
  recoveries: Array<{ action: string; dropped: number; attempts: number }>;
  broadcasts: { settled: number; minReach: number | null };
  errors: Record<string, number>;
  thresholds: Array<{ status: string }>;
};

async function runOn(name: string, flags: string[], agents = 0): Promise<{ summary: Summary; events: string[] }> {
  const file = join(dir, 'same.storm');
  writeFileSync(file, SCRIPT);
  const json = join(dir, `${name}.json`);
  const ndjson = join(dir, `${name}.ndjson`);
  const run = startCli(['run', file, '--json', json, '--ndjson', ndjson, ...flags]);
  if (agents > 0) {
    const stderr = await waitForOutput(run.stderr, /waiting for \d+ agents at (ws:\/\/[\d.]+:\d+)/, 30_000);
    const url = /waiting for \d+ agents at (ws:\/\/[\d.]+:\d+)/.exec(stderr)![1]!;
    for (let i = 0; i < agents; i++)
      startCli(['agent', '--coordinator', url, '--token', TOKEN, '--name', `a${i}`, '--retry-for', '5']);
  }
  await run.exit;
  const last = readFileSync(ndjson, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .pop();
  return { summary: JSON.parse(readFileSync(json, 'utf8')), events: last.events.map((e: { text: string }) => e.text) };
}

/** What must not depend on the backend. */
function outcome({ summary: s, events }: { summary: Summary; events: string[] }) {
  const t = s.totals;
  return {
    verdict: s.verdict,
    fleet: s.fleet,
    totals: {
      attempts: t.attempts,
      connects: t.connects,
      killed: t.killed,
      disconnects: t.disconnects,
      failures: t.failures,
      broadcastsReceived: t.broadcastsReceived,
      missed: t.missed,
    },
    recoveries: s.recoveries.map((r) => [r.action, r.dropped, r.attempts]),
    broadcasts: { settled: s.broadcasts.settled, minReach: s.broadcasts.minReach },
    errors: s.errors,
    thresholds: s.thresholds.map((r) => r.status),
    // every message of a `broadcast N every D` series is logged, whatever runs the fleet
    seriesLogged: events.filter((e) => /^broadcast 1 × /.test(e)).length,
  };
}

describe('one script on every backend', () => {
  it('comes out the same on the local fleet, on two shard processes and on two agents', async () => {
    const local = outcome(await runOn('local', []));
    expect(local).toMatchObject({
      verdict: 'passed',
      fleet: { open: 70, target: 70, policy: 'fixed 100ms' },
      totals: { killed: 30, connects: 130, broadcastsReceived: 300, missed: 0 },
      recoveries: [
        ['kill 20% reset', 20, 20],
        ['kill 10% close', 10, 10],
      ],
      broadcasts: { settled: 3, minReach: 1 },
      seriesLogged: 3,
    });
    expect(outcome(await runOn('shards', ['--workers', '2']))).toEqual(local);
    expect(outcome(await runOn('agents', ['--agents', '2', '--listen', '127.0.0.1:0', '--token', TOKEN], 2))).toEqual(
      local,
    );
  }, 120_000);
});
