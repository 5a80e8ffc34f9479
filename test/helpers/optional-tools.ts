/**
 * System tools a few tests need beyond Node: a Chromium-family browser (the HTML reports are
 * checked in one), network namespaces (root and iproute2's `ip`: test "hosts" with their
 * own addresses) and python3's pty module (a terminal for the console and dashboard tests). `npm install && npm test` on a machine without them skips those tests, each
 * file saying so in one line with what to install; `.ci/run` installs them all and sets
 * SOCKSTORM_TEST_ALL=1, under which a missing tool fails the test instead, so CI runs them all.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type OptionalTool = 'browser' | 'netns' | 'pty';

/** Browsers looked for, in order, when SOCKSTORM_BROWSER does not name one. */
export const BROWSER_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

const HOW: Record<OptionalTool, string> = {
  browser:
    'install Chromium (Debian: apt-get install chromium) or set SOCKSTORM_BROWSER to a Chrome or Chromium binary',
  netns: 'run the tests as root on Linux with iproute2 (the ip command)',
  pty: 'install python3 (its pty module gives the program under test a terminal of its own)',
};

const NAMES: Record<OptionalTool, string> = { browser: 'browser', netns: 'network namespaces', pty: 'python3 pty' };

/**
 * The browser to use: SOCKSTORM_BROWSER when set (a path that does not exist hides every
 * browser, which is how the skip itself is tested), else the first of {@link BROWSER_PATHS}.
 */
export function findBrowser(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): string | null {
  const named = env.SOCKSTORM_BROWSER;
  if (named !== undefined && named !== '') return exists(named) ? named : null;
  return BROWSER_PATHS.find((path) => exists(path)) ?? null;
}

/** Whether this process can make network namespaces: root on Linux, with `ip`. */
export function canMakeNamespaces(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether a terminal can be made for a program under test: python3 with its pty module. */
export function canMakePty(): boolean {
  return spawnSync('python3', ['-c', 'import pty, termios, fcntl'], { stdio: 'ignore' }).status === 0;
}

function isPresent(tool: OptionalTool): boolean {
  return tool === 'browser' ? findBrowser() !== null : tool === 'netns' ? canMakeNamespaces() : canMakePty();
}

const said = new Set<string>();

/**
 * Whether `tool` is here for `what` (a test file's subject). When it is not: under
 * SOCKSTORM_TEST_ALL=1 it throws, saying what to install; otherwise it says once, in one line
 * on stderr, what is skipped and how to run it, and returns false for the caller to skip.
 */
export function hasTool(tool: OptionalTool, what: string): boolean {
  if (isPresent(tool)) return true;
  const line = `skipped: ${what} (no ${NAMES[tool]} here; to run it, ${HOW[tool]})`;
  if (process.env.SOCKSTORM_TEST_ALL === '1')
    throw new Error(`${line.replace(/^skipped/, 'missing')}; SOCKSTORM_TEST_ALL=1 requires it`);
  if (!said.has(line)) {
    said.add(line);
    console.warn(line);
  }
  return false;
}
