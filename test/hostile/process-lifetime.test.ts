// Hostile endings, catalog rows 3 and 10: nothing sockstorm starts outlives it, however it
// ends, and a bundled server that dies on its own is reported as a crash with its last words.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli, waitForOutput } from '../helpers/run-cli.ts';
import { descendantsOf, survivorsAfter } from '../helpers/process-tree.ts';

function script(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sockstorm-life-')), 'run.storm');
  writeFileSync(file, text);
  return file;
}

function serverPidOf(cliPid: number): number {
  const pid = descendantsOf(cliPid).find((p) => {
    try {
      return /target-server\/main\.ts|\/server\.mjs/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error(`no bundled server under pid ${cliPid}`);
  return pid;
}

describe('what sockstorm starts does not outlive it', () => {
  it.each([
    { how: 'one process', args: [] as string[], processes: 1 },
    { how: 'two generator processes', args: ['--workers', '2'], processes: 3 },
  ])(
    'leaves no process behind within 2 s when run is killed with SIGKILL ($how)',
    async ({ args, processes }) => {
      const run = startCli(['run', script('vus 4\nwait 60s\n'), ...args]);
      await waitForOutput(run.stderr, /open 4\/4/, 20_000);
      const started = descendantsOf(run.child.pid!);
      expect(started.length).toBeGreaterThanOrEqual(processes);
      run.child.kill('SIGKILL');
      await run.exit;
      expect(await survivorsAfter(started, 2000)).toEqual([]);
    },
    30_000,
  );

  it('leaves no process behind within 2 s after a double Ctrl+C, which exits 105 at once', async () => {
    const run = startCli(['run', script('vus 4\nwait 60s\n'), '--workers', '2']);
    await waitForOutput(run.stderr, /open 4\/4/, 20_000);
    const started = descendantsOf(run.child.pid!);
    run.child.kill('SIGINT');
    await waitForOutput(run.stderr, 'stopping gracefully');
    run.child.kill('SIGINT');
    expect((await run.exit).code).toBe(105);
    expect(await survivorsAfter(started, 2000)).toEqual([]);
  }, 30_000);

  it('takes the server of `sockstorm server` with it when killed with SIGKILL', async () => {
    const run = startCli(['server', '--engine', 'ws']);
    await waitForOutput(run.stdout, '"listening"');
    const started = descendantsOf(run.child.pid!);
    expect(started.length).toBe(1);
    run.child.kill('SIGKILL');
    await run.exit;
    expect(await survivorsAfter(started, 2000)).toEqual([]);
  });
});

describe('a bundled server that dies on its own', () => {
  it('fails the run (99) and names the crash, with what the server said, in the summary', async () => {
    const run = startCli(['run', script('vus 3\nawait open 3\nwait 8s\n'), '--engine', 'ws']);
    await waitForOutput(run.stderr, /open 3\/3/, 20_000);
    process.kill(serverPidOf(run.child.pid!), 'SIGABRT');
    const { code } = await run.exit;
    expect(code).toBe(99);
    expect(run.stdout()).toContain('server.crashed');
    expect(run.stdout()).toContain('was killed by SIGABRT');
    expect(run.stdout()).toMatch(/tcp\.refused|close\.1006/);
  }, 30_000);

  it('is reported by `sockstorm server` as a crash, exit 70, not as a signal', async () => {
    const run = startCli(['server', '--engine', 'ws']);
    await waitForOutput(run.stdout, '"listening"');
    process.kill(serverPidOf(run.child.pid!), 'SIGABRT');
    expect((await run.exit).code).toBe(70);
    expect(run.stderr()).toContain('crashed (SIGABRT)');
  });
});
