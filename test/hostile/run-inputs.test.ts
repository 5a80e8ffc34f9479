// Hostile input to `sockstorm run`, catalog rows 3, 9 and 11: what can be known before a
// socket opens is refused then (104, located), what fails at runtime fails the run (99), and
// a finished run is never lost to an output path.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runCli, startCli, waitForOutput } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-inputs-'));
let n = 0;
function script(text: string): string {
  const file = join(dir, `s${++n}.storm`);
  writeFileSync(file, text);
  return file;
}

describe('run refuses before any socket what it can know is wrong (104)', () => {
  it.each([
    {
      what: 'an unknown server knob, naming the knobs',
      text: 'vus 1\nserver nope 1\n',
      message: /s\d+\.storm:2:8: unknown knob "nope"; knobs are workMs, fanout/,
    },
    {
      what: 'an idle timeout uWS would abort on',
      text: 'server idleTimeout 5\nvus 1\n',
      message: /:1:20: idleTimeout must be 0 \(off\) or between 8 and 960/,
    },
    {
      what: 'a broadcast over the size limit',
      text: 'vus 1\nbroadcast 1 size 32MiB\n',
      message: /:2:18: "32MiB" is more than/,
    },
    {
      what: 'a burst over count × size',
      text: 'vus 1\nbroadcast 100 size 1MiB\n',
      message: /:2:11: 100 × 1048576 bytes is more than/,
    },
    { what: 'a wait whose timer would overflow', text: 'vus 1\nwait 600h\n', message: /:2:6: "600h" is more than/ },
    {
      what: 'a probe rate that would exhaust the heap',
      text: 'vus 1\nprobe 99999999999/s\n',
      message: /:2:7: "99999999999\/s" is more than/,
    },
    {
      what: 'a 400-digit user count',
      text: `vus ${'9'.repeat(400)}\n`,
      message: /:1:5: "9+" is more than the 10,000,000/,
    },
    {
      what: 'a reach over 100%',
      text: 'vus 1\nexpect reach > 150%\n',
      message: /:2:16: reach is a share between 0 and 1/,
    },
    {
      what: 'a duration threshold without a unit',
      text: 'vus 1\nexpect fanout.p99 < 250\n',
      message: /:2:21: fanout.p99 is a duration: give a unit, as in 250ms or 250s/,
    },
    {
      what: 'a bad target line, with its place',
      text: 'target http://nope\nvus 1\n',
      message: /:1:8: "http:\/\/nope" uses http:/,
    },
    { what: 'an empty script', text: '', message: /:1:1: the script has no command that drives the fleet/ },
    {
      what: 'a script of comments only',
      text: '# nothing\n\n   # still nothing\n',
      message: /no command that drives the fleet/,
    },
  ])('$what', async ({ text, message }) => {
    const result = await runCli(['run', script(text), '--no-host-check']);
    expect(result.code).toBe(104);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('reports every bad line of a script at once', async () => {
    const result = await runCli(['run', script('vus 1\nexplode\nwait 5\nkill 150%\n')]);
    expect(result.code).toBe(104);
    expect(result.stderr).toMatch(/:2:1: unknown command "explode"/);
    expect(result.stderr).toMatch(/:3:6: "5" is not a duration/);
    expect(result.stderr).toMatch(/:4:6: "150%" is not a percentage/);
  });

  it.each([
    { flags: ['--targets', ','], message: '--targets lists no URL' },
    { flags: ['--source-addresses', '999.1.1.1'], message: '"999.1.1.1" is not an IP address' },
    { flags: ['--header', 'no-colon-here'], message: '--header "no-colon-here" has no name' },
  ])('refuses $flags', async ({ flags, message }) => {
    const result = await runCli(['run', script('vus 1\nwait 1s\n'), ...flags]);
    expect(result.code).toBe(104);
    expect(result.stderr).toContain(message);
  });

  it.each([
    { flag: '--json', path: '/nonexistent-dir/out.json' },
    { flag: '--report', path: tmpdir() },
    { flag: '--ndjson', path: '/nonexistent-dir/series.ndjson' },
  ])('refuses an unwritable $flag path, naming it', async ({ flag, path }) => {
    const result = await runCli(['run', script('vus 1\nwait 1s\n'), flag, path]);
    expect(result.code).toBe(104);
    expect(result.stderr).toContain(`cannot write ${flag} ${path}`);
    expect(result.stderr).toContain('nothing was run');
  });

  it('refuses an unwritable report FILE line of the script', async () => {
    const result = await runCli(['run', script('report /nonexistent-dir/r.html\nvus 1\n')]);
    expect(result.code).toBe(104);
    expect(result.stderr).toContain('cannot write the report of line 1 /nonexistent-dir/r.html');
  });

  it('refuses bad server options of `sockstorm server` with 104', async () => {
    for (const args of [
      ['--port', '99999'],
      ['--admin-port', '-1'],
      ['--token', ''],
      ['--config', '{"idleTimeout":5}'],
    ]) {
      const result = await runCli(['server', '--engine', 'ws', ...args]);
      expect(result.code, args.join(' ')).toBe(104);
      expect(result.stdout).toBe('');
    }
  });
});

describe('a script names its files from where it is', () => {
  it('reads users from FILE beside the script, wherever sockstorm runs from', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sockstorm-script-home-'));
    writeFileSync(join(home, 'rows.csv'), 'name\nada\nlin\n');
    const file = join(home, 'rows.storm');
    writeFileSync(file, 'users from rows.csv\nvus 2\nawait open 2 timeout 10s\nexpect open >= 2\n');
    // this process's directory is the repository's, where no rows.csv is
    const result = await runCli(['run', file, '--header', 'X-User: {{row.name}}']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('sockstorm run: PASSED');
  });
});

describe('a finished run is not lost to its outputs', () => {
  it('prints the summary, keeps the JSON elsewhere and says where, when the path is gone at the end ' +
    '(107)', async () => {
    const outDir = join(dir, 'vanishing');
    mkdirSync(outDir);
    const run = startCli([
      'run',
      script('vus 2\nawait open 2\nwait 6s\n'),
      '--json',
      join(outDir, 'out.json'),
      '--engine',
      'ws',
    ]);
    await waitForOutput(run.stderr, /open 2\/2/, 20_000);
    rmSync(outDir, { recursive: true });
    const { code } = await run.exit;
    expect(code).toBe(107);
    // the headline says the code the shell got
    expect(run.stdout()).toContain('sockstorm run: PASSED (no thresholds) (exit 107)');
    const fallback = /the data is in (\S+) \[output\]/.exec(run.stderr())?.[1];
    expect(fallback, run.stderr()).toBeDefined();
    expect(JSON.parse(readFileSync(fallback!, 'utf8'))).toMatchObject({ verdict: 'passed', fleet: { open: 2 } });
    rmSync(fallback!);
  }, 30_000);
});

describe('what fails at runtime fails the run (99), with its reason', () => {
  let wss: WebSocketServer;
  let url: string;
  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  );

  it('fails a run whose commands the target cannot carry out', async () => {
    const result = await runCli([
      'run',
      script(`target ${url}\nvus 2\nawait open 2\nkill 50% server\nbroadcast\nserver workMs 5\nwait 500ms\n`),
    ]);
    expect(result.code).toBe(99);
    expect(result.stdout).toContain('failed: line 4 "kill 50% server": "kill server" needs the bundled server');
    expect(result.stdout).toContain('failed: line 5 "broadcast": no broadcast trigger');
    expect(result.stdout).toContain('failed: line 6 "server workMs 5"');
  }, 30_000);

  it('leaves nothing behind when the checks refuse: no file was created', async () => {
    const path = join(dir, 'never.json');
    const result = await runCli(['run', script('vus 1\nserver nope 1\n'), '--json', path]);
    expect(result.code).toBe(104);
    expect(existsSync(path)).toBe(false);
  });
});
