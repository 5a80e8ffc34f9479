import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-outputs-'));

type Figures = { count: number; p50: number | null; p90: number | null; p99: number | null; max: number | null };

function expectOrdered(name: string, f: Figures): void {
  if (f.count === 0) {
    // never 0 for a figure that was not measured
    expect([f.p50, f.p90, f.p99, f.max], name).toEqual([null, null, null, null]);
    return;
  }
  expect(f.p50!, name).toBeLessThanOrEqual(f.p90!);
  expect(f.p90!, name).toBeLessThanOrEqual(f.p99!);
  expect(f.p99!, name).toBeLessThanOrEqual(f.max!);
}

describe('what a run writes', () => {
  it(
    'prints values with their units, orders percentiles, writes null for what it did not measure, ' +
      'and says what a cut-off series never sent',
    async () => {
      const file = join(dir, 'outputs.storm');
      writeFileSync(
        file,
        [
          'vus 30',
          'await open 30 timeout 20s',
          'probe 40/s',
          'wait 1500ms',
          'kill 20% reset',
          'await recovered timeout 20s',
          'broadcast 6 every 1s',
          'wait 1500ms',
          'expect rtt.p99 < 5s',
          'expect recovery.full < 15s',
          'expect reach >= 99%',
          'expect cut == 0',
          'expect errors.rate < 0.5',
        ].join('\n'),
      );
      const json = join(dir, 'outputs.json');
      const ndjson = join(dir, 'outputs.ndjson');
      const result = await runCli(['run', file, '--json', json, '--ndjson', ndjson, '--progress-interval', '1s']);
      const summary = JSON.parse(readFileSync(json, 'utf8'));
      expect(result.code).toBe(summary.exitCode);
      // every actual value carries its unit, in the threshold's form
      expect(result.stdout).toMatch(/✓ expect rtt\.p99 < 5s {2}\(actual \d+(\.\d+)?ms/);
      expect(result.stdout).toMatch(/✓ expect recovery\.full < 15s {2}\(actual \d+(\.\d+)?(ms|s)/);
      expect(result.stdout).toMatch(/✓ expect reach >= 99% {2}\(actual 100%/);
      expect(result.stdout).toMatch(/expect errors\.rate < 0\.5 {2}\(actual 0[,)]/);
      // the kill came before the broadcasts: nothing was in flight to cut, and the line says both counts
      expect(result.stdout).toMatch(/✓ expect cut == 0 {2}\(actual 0/);
      expect(result.stdout).toMatch(/missed seq 0, cut seq 0 \(by the tool's own cuts\)/);
      expect(summary.totals).toMatchObject({ missed: 0, cut: 0, topicsEvicted: 0, userTopicsEvicted: 0 });
      for (const [name, f] of Object.entries(summary.latency)) expectOrdered(name, f as Figures);
      // the series of 6 every 1s was cut off after about 2: the rest is said, not hidden
      expect(summary.broadcasts.unsent).toBeGreaterThanOrEqual(3);
      expect(summary.broadcasts.unsent).toBeLessThanOrEqual(4);
      expect(result.stdout).toContain(`${summary.broadcasts.unsent} never sent`);

      const lines = readFileSync(ndjson, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      // NDJSON starts at the first second: the snapshot taken before anything ran is there
      expect(lines[0].seq).toBe(1);
      expect(lines[0].elapsedMs).toBeLessThan(1000);
      expect(lines[0].minReach).toBeNull();
      for (const s of lines)
        for (const [name, f] of Object.entries(s.interval)) expectOrdered(`${s.seq} ${name}`, f as Figures);

      // one progress line a second, with elapsed time; the teardown second is not one of them
      const progress = result.stderr.split('\n').filter((line) => /^\[\d+:\d\d/.test(line));
      const measured = lines.filter((s) => s.intervals > 0 && !s.isStopped).length;
      expect(progress.length).toBeGreaterThanOrEqual(Math.max(2, measured - 1));
      expect(progress.length).toBeLessThanOrEqual(measured);
      expect(progress[progress.length - 1]).not.toMatch(/open 0\/0/);
    },
  );

  it(
    'writes minReach null and no broadcast line when nothing was broadcast, and shows the total of a ' +
      'script of known length',
    async () => {
      const file = join(dir, 'quiet.storm');
      writeFileSync(file, 'vus 5\nwait 2500ms\nexpect open >= 5\n');
      const json = join(dir, 'quiet.json');
      const result = await runCli(['run', file, '--json', json]);
      const summary = JSON.parse(readFileSync(json, 'utf8'));
      expect(summary.broadcasts).toMatchObject({ settled: 0, minReach: null, unsent: 0 });
      expect(summary.latency.rtt).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null, mean: null });
      expect(result.stdout).not.toContain('broadcast  ');
      expect(result.stderr).toMatch(/^\[0:0\d\/0:02\]/m);
      expect(result.code).toBe(0);
    },
  );
});
