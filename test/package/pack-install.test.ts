// A real install, as a user makes one: the package packed as npm publishes it, installed into a
// fresh prefix as `npm install -g` does, and run from another directory. The bundles come with
// the package (built by prepack into dist/), so the run builds nothing and writes nothing into
// the install folder, which may be read-only.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** npm as the test was started with (`npm test` says where its CLI is), else from PATH. */
function npm(args: string[], cwd: string) {
  const [command, prefix] = process.env.npm_execpath?.endsWith('.js')
    ? [process.execPath, [process.env.npm_execpath]]
    : ['npm', []];
  const run = spawnSync(command, [...prefix, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  if (run.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

/** Every file under `dir` with its size and mtime: what a run must not change. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      const stat = statSync(path);
      return `${relative(dir, path)} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

describe('the packed package', () => {
  it('installs into a fresh prefix and runs a script from another directory, writing nothing into its install folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-install-'));
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], ROOT)) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    const files = packed[0]!.files.map((f) => f.path);
    // what a user gets: the programs and their bundles, the examples and the README; no tests, no benchmarks
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/cli.mjs',
        'dist/server.mjs',
        'dist/shard.mjs',
        'dist/build.json',
        'console/bin.mjs',
        'README.md',
      ]),
    );
    expect(files.filter((path) => /^(test|bench|\.ci)\//.test(path))).toEqual([]);

    const prefix = join(dir, 'prefix');
    npm(
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        join(dir, packed[0]!.filename),
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
      ],
      dir,
    );
    const installed = join(prefix, 'lib', 'node_modules', 'sockstorm');
    // without tsx, a start that fell back to the TypeScript sources would fail: the run below is plain Node on the packed bundles
    rmSync(join(installed, 'node_modules', 'tsx'), { recursive: true, force: true });
    const before = listing(installed);

    const work = join(dir, 'elsewhere');
    mkdirSync(work);
    writeFileSync(
      join(work, 'fan-out.storm'),
      'vus 20\nawait open 20 timeout 20s\nbroadcast 2\nwait 2s\nexpect reach >= 99%\n',
    );
    const run = spawnSync(join(prefix, 'bin', 'sockstorm'), ['run', 'fan-out.storm', '--json', 'summary.json'], {
      cwd: work,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CI: 'true', SOCKSTORM_NO_BUNDLE: '' },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('sockstorm run: PASSED');
    expect(JSON.parse(readFileSync(join(work, 'summary.json'), 'utf8')).broadcasts.minReach).toBe(1);
    expect(run.stderr).not.toContain('could not build the bundles');
    expect(listing(installed)).toEqual(before);
  }, 240_000);
});
