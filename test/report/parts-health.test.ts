// Issue 22, item 6: each part of a run over agents in every output. `--json` of a run over agents
// named no agent: which one was saturated, lost or slow was only on the console. Two agents on
// loopback (a test of its own per host is agents-netns.test.ts), one killed mid-run.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, waitForOutput } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-parts-'));
const TOKEN = 'parts-health-token-0123456789';

describe('a run over two agents', () => {
  it('writes each agent in --json, the text summary and the report: address, share, open, connects, health, and when one was lost', async () => {
    const file = join(dir, 'two.storm');
    const [json, report] = [join(dir, 'two.json'), join(dir, 'two.html')];
    writeFileSync(file, 'vus 10\nawait open 10 timeout 20s\nwait 3s\n');
    const run = startCli([
      'run',
      file,
      '--agents',
      '2',
      '--listen',
      '127.0.0.1:0',
      '--token',
      TOKEN,
      '--json',
      json,
      '--report',
      report,
    ]);
    const url = /waiting for 2 agents at (ws:\/\/[\d.]+:\d+)/.exec(
      await waitForOutput(run.stderr, /waiting for 2 agents at ws:\/\/[\d.]+:\d+/),
    )![1]!;
    const [a, b] = ['a', 'b'].map((name) =>
      startCli(['agent', '--coordinator', url, '--token', TOKEN, '--name', name, '--retry-for', '2']),
    );
    await waitForOutput(run.stderr, /open 10\/10/, 20_000);
    const startedAt = Date.now();
    b!.child.kill('SIGKILL');
    await run.exit;
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    const [first, second] = summary.parts;
    expect(first).toMatchObject({
      name: 'a',
      address: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      share: 0.5,
      open: 5,
      connects: 5,
      lost: null,
    });
    expect(first.rssMaxBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(first.loopDelayP99MaxMs).toBeGreaterThan(0);
    expect(first.cpuPercentMax).toBeGreaterThan(0);
    expect(first.saturatedSeconds).toBeGreaterThanOrEqual(0);
    expect(second).toMatchObject({
      name: 'b',
      share: 0.5,
      open: 0,
      connects: 5,
      lost: { reason: expect.stringMatching(/^the connection closed \(1006\)/) },
    });
    expect(second.lost.atMs - startedAt).toBeLessThan(3000);
    expect(second.lost.afterMs).toBeGreaterThan(0);
    expect(second.lost.afterMs).toBeLessThan(summary.durationMs);
    const text = run.stdout();
    expect(text).toMatch(
      /^parts\s+a \(127\.0\.0\.1:\d+\) 50\.0% of users: open 5, connects 5, loop delay p99 max [\d.]+ms, CPU max [\d.]+%, RSS max [\d.]+MiB, saturated \d+ s$/m,
    );
    expect(text).toMatch(
      /^\s+b \(127\.0\.0\.1:\d+\) 50\.0% of users: open 0, connects 5, .* saturated \d+ s; LOST at 0:0\d: the connection closed \(1006\)$/m,
    );
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<h2>Parts</h2>');
    expect(html).toMatch(
      /<td>b<\/td><td>127\.0\.0\.1:\d+<\/td><td class="num">50\.0%<\/td>.*<td class="failed">at 0:0\d: the connection closed \(1006\)<\/td>/,
    );
    expect((await a!.exit).code).toBe(0);
  }, 45_000);
});
