import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, waitForOutput } from '../helpers/run-cli.ts';
import { descendantsOf } from '../helpers/process-tree.ts';

function cmdlines(pid: number): string[] {
  return [pid, ...descendantsOf(pid)].map((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      return '';
    }
  });
}

describe('how sockstorm runs', () => {
  it('prints its version on --version, from package.json, and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  const script = join(mkdtempSync(join(tmpdir(), 'sockstorm-rt-')), 'hold.storm');
  writeFileSync(script, 'vus 4\nawait open 4\nwait 30s\n');

  it('runs the CLI, the bundled server and every shard from bundles on plain Node, without tsx', async () => {
    const run = startCli(['run', script, '--workers', '2']);
    await waitForOutput(run.stderr, /open 4\/4/, 20_000);
    const lines = cmdlines(run.child.pid!);
    run.child.kill('SIGKILL');
    await run.exit;
    expect(lines.filter((l) => l.includes('/server.mjs'))).toHaveLength(1);
    // without V8's memory reducer, whose mark-compacts after a ramp stalled the echoes it times
    expect(lines.filter((l) => l.includes('--no-memory-reducer') && l.includes('/server.mjs'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('/shard.mjs'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('tsx'))).toEqual([]);
  }, 30_000);

  it('runs from the sources through tsx where no bundle is wanted', async () => {
    const run = startCli(['run', script], { SOCKSTORM_NO_BUNDLE: '1' });
    await waitForOutput(run.stderr, /open 4\/4/, 20_000);
    const lines = cmdlines(run.child.pid!);
    run.child.kill('SIGKILL');
    await run.exit;
    expect(lines.filter((l) => l.includes('target-server/main.ts') && l.includes('tsx'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('target-server/main.ts') && l.includes('--no-memory-reducer'))).toHaveLength(
      1,
    );
  }, 30_000);
});
