// The suite's own skip logic, as a newcomer meets it: with the browser hidden, the report tests
// are skipped with one line saying what to install and the run still passes; with
// SOCKSTORM_TEST_ALL=1 (what .ci/run sets) the same missing browser fails them instead.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BROWSER_PATHS, findBrowser } from '../helpers/optional-tools.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

/** Runs one test file in a vitest of its own, with `env` over a copy of this one's (without vitest's own variables). */
function vitestRun(file: string, env: Record<string, string>) {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'SOCKSTORM_TEST_ALL'),
  );
  const run = spawnSync(process.execPath, [VITEST, 'run', '--config', 'test/vitest.config.ts', file], {
    cwd: ROOT,
    env: { ...base, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('optional tools', () => {
  it('finds the browser SOCKSTORM_BROWSER names, the first known path otherwise, and none when the named one is missing', () => {
    const exists = (path: string) => path === '/opt/chrome' || path === BROWSER_PATHS[1];
    expect(findBrowser({ SOCKSTORM_BROWSER: '/opt/chrome' }, exists)).toBe('/opt/chrome');
    expect(findBrowser({}, exists)).toBe(BROWSER_PATHS[1]);
    expect(findBrowser({ SOCKSTORM_BROWSER: '/nowhere/chrome' }, exists)).toBeNull();
    expect(findBrowser({}, () => false)).toBeNull();
  });

  it('skips the browser tests with one line saying what to install when no browser is here, and the run passes', () => {
    const { code, output } = vitestRun('test/report/html-report.test.ts', { SOCKSTORM_BROWSER: '/nowhere/chromium' });
    expect(code, output).toBe(0);
    const lines = output.split('\n').filter((line) => line.startsWith('skipped: the HTML report tests'));
    expect(lines).toEqual([
      'skipped: the HTML report tests (no browser here; to run it, install Chromium (Debian: apt-get install chromium) or set SOCKSTORM_BROWSER to a Chrome or Chromium binary)',
    ]);
    expect(output).toMatch(/Tests\s+2 skipped \(2\)/);
  }, 90_000);

  it('fails them instead under SOCKSTORM_TEST_ALL=1, as CI runs', () => {
    const { code, output } = vitestRun('test/report/html-report.test.ts', {
      SOCKSTORM_BROWSER: '/nowhere/chromium',
      SOCKSTORM_TEST_ALL: '1',
    });
    expect(code, output).toBe(1);
    expect(output).toContain('missing: the HTML report tests (no browser here');
    expect(output).toMatch(/Tests\s+2 failed \(2\)/);
  }, 90_000);
});
