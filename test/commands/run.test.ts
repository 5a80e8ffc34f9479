import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, waitForOutput } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-run-'));

function script(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('sockstorm run', () => {
  it('exits 0 when every threshold passes and 99 when one fails, and writes the JSON summary', async () => {
    const file = script(
      'thresholds.storm',
      'vus 20\nawait open 20 timeout 20s\nprobe 20/s\nwait 1500ms\nexpect open >= 20\nexpect rtt.p99 < 5s\n',
    );
    const json = join(dir, 'pass.json');
    const passed = await runCli(['run', file, '--json', json]);
    expect(passed.stdout).toContain('PASSED');
    expect(passed.code).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary).toMatchObject({ verdict: 'passed', exitCode: 0, fleet: { open: 20, peakOpen: 20 } });
    expect(summary.thresholds.map((t: { passed: boolean }) => t.passed)).toEqual([true, true]);

    const failing = script('fail.storm', 'vus 5\nawait open 5 timeout 20s\nexpect open >= 6\n');
    const failed = await runCli(['run', failing]);
    expect(failed.code).toBe(99);
    expect(failed.stdout).toContain('✗ expect open >= 6');
  });

  it('runs a script over two generator processes with the same verdicts and exact counts', async () => {
    const file = script(
      'workers.storm',
      'vus 100\nawait open 100 timeout 20s\nbroadcast 2\nwait 1s\nkill 20% reset\nawait recovered ' +
        'timeout 20s\nexpect missed == 0\nexpect open >= 100\nexpect recovery.full < 20s\n',
    );
    const json = join(dir, 'workers.json');
    const result = await runCli(['run', file, '--workers', '2', '--json', json]);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.totals).toMatchObject({ killed: 20, connects: 120, broadcastsReceived: 200, missed: 0 });
    expect(summary.recoveries[0]).toMatchObject({ dropped: 20, attempts: 20 });
    expect(result.code).toBe(summary.exitCode);
    expect(summary.thresholds.every((t: { passed: boolean }) => t.passed)).toBe(true);
  });

  it('fails a run in which no connection ever opened, even without thresholds', async () => {
    const file = script('refused.storm', 'vus 5\nwait 1s\n');
    const result = await runCli(['run', file, '--target', 'ws://127.0.0.1:1/']);
    expect(result.code).toBe(99);
    expect(result.stdout).toContain('tcp.refused');
    expect(result.stdout).toContain('no connection ever opened');
  });

  it('exits 104 before any socket opens for an invalid URL or script', async () => {
    const file = script('ok.storm', 'vus 1\n');
    const badUrl = await runCli(['run', file, '--target', 'http://127.0.0.1:1/']);
    expect(badUrl.code).toBe(104);
    expect(badUrl.stderr).toContain('must be ws:// or wss://');
    const badScript = await runCli(['run', script('bad.storm', 'vus 1\nkill lots\n')]);
    expect(badScript.code).toBe(104);
    expect(badScript.stderr).toContain('bad.storm:2:6');
    expect((await runCli(['run', join(dir, 'missing.storm')])).code).toBe(104);
    const unknown = await runCli(['explode']);
    expect(unknown.code).toBe(104);
    expect(unknown.stderr).toContain('unknown command "explode"');
  });

  it('reads the script from stdin for "-", its users file from the current directory, its errors at <stdin>', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sockstorm-stdin-'));
    writeFileSync(join(cwd, 'rows.csv'), 'name\nada\nbob\n');
    const text = 'users from rows.csv\non open send {"hello":"{{row.name}}"}\nvus 2\nawait open 2 timeout 20s\n';
    const passed = await runCli(['run', '-'], {}, 60_000, { input: `${text}expect open >= 2\n`, cwd });
    expect(passed.stderr).not.toContain('cannot read');
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain('PASSED');
    const bad = await runCli(['run', '-'], {}, 60_000, { input: 'vus 1\nkill lots\n', cwd });
    expect(bad.code).toBe(104);
    expect(bad.stderr).toContain('<stdin>:2:6: "lots" is not a percentage');
    // the script is read beside nothing: a users file named by it is the current directory's
    const missing = await runCli(['run', '-'], {}, 60_000, { input: 'users from rows.csv\nvus 1\n', cwd: dir });
    expect(missing.code).toBe(104);
    expect(missing.stderr).toContain(`<stdin>:1:12: cannot read users file ${join(dir, 'rows.csv')}`);
  });

  it('sends {{env.NAME}} values in frames, messages and headers, never shows them, and refuses an unset NAME (104)', async () => {
    const secret = 's3cr3t-value-4711';
    const seen: string[] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (socket, request) => {
      seen.push(`header ${request.headers['x-token']}`);
      socket.on('message', (data) => seen.push(`frame ${data.toString()}`));
    });
    await new Promise((resolve) => wss.once('listening', resolve));
    try {
      const target = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
      const text = `target ${target}\non open send {"token":"{{env.SOCKSTORM_T_SECRET}}"}\nvus 2\n`;
      const messages = 'messages 20/s {"msg":"{{env.SOCKSTORM_T_SECRET}}","n":{{n}}}\nwait 500ms\nmessages off\n';
      const file = script('env.storm', `${text}await open 2 timeout 20s\n${messages}wait 300ms\nexpect open >= 2\n`);
      const json = join(dir, 'env.json');
      const ndjson = join(dir, 'env.ndjson');
      const report = join(dir, 'env.html');
      const header = ['--header', 'X-Token: {{env.SOCKSTORM_T_SECRET}}'];
      const run = await runCli(['run', file, ...header, '--json', json, '--ndjson', ndjson, '--report', report], {
        SOCKSTORM_T_SECRET: secret,
      });
      expect(run.code).toBe(0);
      expect(seen.filter((s) => s === `frame {"token":"${secret}"}`)).toHaveLength(2);
      expect(seen.filter((s) => s === `header ${secret}`)).toHaveLength(2);
      expect(seen.filter((s) => s.startsWith(`frame {"msg":"${secret}","n":`)).length).toBeGreaterThan(0);
      expect(seen.filter((s) => s.includes('{{'))).toEqual([]);
      // shown nowhere: not on stdout or stderr, the summary, the snapshots (their event log) or the report
      const shown = [run.stdout, run.stderr, ...[json, ndjson, report].map((f) => readFileSync(f, 'utf8'))];
      for (const output of shown) expect(output).not.toContain(secret);
      expect(readFileSync(ndjson, 'utf8')).toContain('template values: env.SOCKSTORM_T_SECRET');

      seen.length = 0;
      const unset = await runCli(['run', file], { SOCKSTORM_T_SECRET: '' }, 60_000);
      expect(unset.code).toBe(0);
      const missing = await runCli(['run', script('unset.storm', text.replace('SECRET', 'UNSET'))]);
      expect(missing.code).toBe(104);
      expect(missing.stderr).toContain(
        'unset.storm:2:24: {{env.SOCKSTORM_T_UNSET}} names SOCKSTORM_T_UNSET, which is not set',
      );
      const flag = await runCli(['run', file, '--header', 'X-Token: {{env.SOCKSTORM_T_UNSET}}'], {
        SOCKSTORM_T_SECRET: secret,
      });
      expect(flag.code).toBe(104);
      expect(flag.stderr).toContain('--header: {{env.SOCKSTORM_T_UNSET}} names SOCKSTORM_T_UNSET, which is not set');
      expect(flag.stderr).not.toContain(secret);
      // no socket opened for either refused run: only the run with the empty value connected
      expect(seen.filter((s) => s.startsWith('header'))).toHaveLength(2);
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('stops gracefully on SIGINT with exit 105 and still writes every output', async () => {
    const file = script('long.storm', 'vus 10\nprobe 10/s\nexpect errors.count == 0\nwait 60s\nexpect open >= 10\n');
    const out = { json: join(dir, 'sig.json'), ndjson: join(dir, 'sig.ndjson'), report: join(dir, 'sig.html') };
    const run = startCli(['run', file, '--json', out.json, '--ndjson', out.ndjson, '--report', out.report]);
    await waitForOutput(run.stderr, /open 10\/10/, 30_000);
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(105);
    const summary = JSON.parse(readFileSync(out.json, 'utf8'));
    expect(summary.verdict).toBe('stopped');
    // not judged, the one reached and the one after the stop alike, each with its figure
    expect(summary.thresholds.map((t: { source: string; status: string }) => [t.source, t.status])).toEqual([
      ['errors.count == 0', 'stopped'],
      ['open >= 10', 'stopped'],
    ]);
    expect(run.stdout()).toContain('- expect open >= 10  (actual 10');
    expect(run.stdout()).toContain('not judged, the run was stopped');
    const lines = readFileSync(out.ndjson, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.some((s) => s.fleet.open === 10)).toBe(true);
    expect(lines[lines.length - 1].isStopped).toBe(true);
    const report = readFileSync(out.report, 'utf8');
    expect(report).toContain('uPlot');
    expect(report).toContain('not judged: stopped');
    expect(report).not.toContain('nothing was expected of this run');
  });

  it('serves Prometheus metrics and a snapshot stream on loopback while it runs', async () => {
    const file = script('metrics.storm', 'vus 10\nawait open 10 timeout 20s\nwait 30s\n');
    const run = startCli(['run', file, '--metrics-port', '0']);
    const stderr = await waitForOutput(run.stderr, /metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics/, 30_000);
    const base = /metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)![1]!;
    await waitForOutput(run.stderr, /open 10\/10/, 30_000);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('# TYPE sockstorm_vus gauge');
    expect(metrics).toMatch(/^sockstorm_vus\{state="open"\} 10$/m);
    expect(metrics).toMatch(/^sockstorm_connects_total 10$/m);
    const stream = await fetch(`${base}/stream`);
    const reader = stream.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(first.split('\n')[0]!).fleet.open).toBe(10);
    await reader.cancel();
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(105);
  });

  it(
    'judges each threshold on its own samples: one taken in saturated seconds is inconclusive (100), ' +
      'one met anyway is not',
    async () => {
      const file = script(
        'stall.storm',
        'vus 5\nawait open 5 timeout 20s\nprobe 50/s\nwait 1s\nstall 3s\nwait 1s\nexpect rtt.p99 < ' +
          '0.01ms\nexpect open >= 5\nexpect errors.count == 0\n',
      );
      const json = join(dir, 'stall.json');
      const result = await runCli(['run', file, '--json', json]);
      const summary = JSON.parse(readFileSync(json, 'utf8'));
      expect(summary.saturated.intervals).toBeGreaterThanOrEqual(2);
      const [rtt, open, errors] = summary.thresholds;
      // the probes' RTT was measured in the stalled seconds: the generator's figure, not the target's
      expect(rtt).toMatchObject({ metric: 'rtt.p99', passed: false, status: 'inconclusive' });
      expect(rtt.saturatedShare).toBeGreaterThan(0.1);
      // fewer open users could be the generator's fault, but not more: a met `>=` stands
      expect(open).toMatchObject({ passed: true, status: 'passed' });
      expect(errors.status).not.toBe('inconclusive');
      expect(summary.verdict).toBe('inconclusive');
      expect(result.code).toBe(100);
      expect(result.stdout).toMatch(
        /\? expect rtt\.p99 < 0\.01ms {2}\(actual [\d.]+(ms|s), [\d.]+% of its samples saturated\): INCONCLUSIVE/,
      );
    },
  );

  it('runs the shipped demo headless when CI is set and no command is given', async () => {
    const result = await runCli([], {}, 120_000);
    expect(result.stdout).toMatch(/^sockstorm run: (PASSED|FAILED|INCONCLUSIVE)/);
    expect(result.stdout).toContain('broadcast  20 settled');
    // how many the ramp opened depends on the machine's speed (a knee can stop it early): 20% of whatever was open
    expect(result.stdout).toMatch(/recovery {3}kill 20% reset: dropped [1-9]\d*/);
    const verdict = /sockstorm run: \w+ \(exit (\d+)\)/.exec(result.stdout)!;
    expect(result.code).toBe(Number(verdict[1]));
    expect(existsSync(join(dir, 'nothing'))).toBe(false);
  }, 150_000);
});
