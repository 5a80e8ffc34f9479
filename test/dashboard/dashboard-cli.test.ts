import http from 'node:http';
import net from 'node:net';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import { startMetricsEndpoint } from '../../console/report/metrics-endpoint.ts';
import { useEngines } from '../helpers/engines.ts';
import { runCli } from '../helpers/run-cli.ts';
import { hasTool } from '../helpers/optional-tools.ts';
import { startOnPty } from './pty.ts';

const engines = useEngines();

/** A port nothing listens on: one the system just gave out and took back. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(read: () => string, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline)
      throw new Error(`${String(pattern)} did not appear; the screen read: ${read().slice(-800)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('sockstorm dashboard --attach, refused before the screen is taken', () => {
  it('exits 104 with a sentence when nothing listens at the address', async () => {
    const port = await deadPort();
    const { code, stderr, stdout } = await runCli(['dashboard', '--attach', `http://127.0.0.1:${port}`], {}, 20_000);
    expect(code).toBe(EXIT.invalid);
    expect(stderr).toBe(
      `sockstorm dashboard: cannot attach to http://127.0.0.1:${port}: nothing is listening there ` +
        `(connection refused); start the run or console with --metrics-port and pass the URL it prints ` +
        `[attach.unreachable]\n`,
    );
    expect(stdout).toBe('');
  });

  it('exits 104 when the address answers but is not a sockstorm endpoint, and when it is not a URL', async () => {
    const server = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hello</h1>'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      const html = await runCli(['dashboard', '--attach', url], {}, 20_000);
      expect(html.code).toBe(EXIT.invalid);
      expect(html.stderr).toContain(
        `${url} is not a sockstorm endpoint: GET /stream answers text/html, not a snapshot stream ` +
          `[attach.not-sockstorm]`,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    const bad = await runCli(['dashboard', '--attach', '127.0.0.1'], {}, 20_000);
    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.stderr).toContain('[attach.url]');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 104 without a terminal even when the endpoint is alive, and documents its keys in --help', async () => {
    const engine = await engines.start({ snapshotIntervalMs: 200 });
    const endpoint = await startMetricsEndpoint(engine);
    try {
      const { code, stderr } = await runCli(['dashboard', '--attach', endpoint.url], {}, 20_000);
      expect(code).toBe(EXIT.invalid);
      expect(stderr).toContain('needs a terminal of its own');
    } finally {
      await endpoint.close();
    }
    const help = await runCli(['dashboard', '--help'], {}, 20_000);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Keys:\n {2}q {2}quit .*\n {2}p {2}freeze the wall/);
    expect(help.stdout).toContain('104  invalid input');
  });
});

describe.skipIf(!hasTool('pty', 'the dashboard on a terminal'))('sockstorm dashboard on a terminal', () => {
  it('prints the verdict of the run it started after q restores the screen, and exits with its code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-dashboard-'));
    const script = join(dir, 'fails.storm');
    writeFileSync(script, 'vus 5\nawait open 5 timeout 10s\nwait 1s\nexpect open >= 6\n');
    const wall = startOnPty(['dashboard', '--run', script]);
    await waitFor(wall.screen, /the run finished; press q for its verdict/, 45_000);
    // the last snapshot is the run's teardown: its users are gone, its figures stay
    expect(wall.screen()).toMatch(/connect p99 +\d[\d.]*ms/);
    expect(wall.screen()).toMatch(/\d:\d\d target 5 VUs/);
    wall.type('q');
    expect(await wall.exit).toBe(EXIT.failed);
    const raw = wall.raw();
    const restored = raw.lastIndexOf('\x1b[?1049l');
    expect(restored).toBeGreaterThan(0);
    expect(raw.indexOf('sockstorm run: FAILED (exit 99)')).toBeGreaterThan(restored);
    expect(raw.slice(restored)).toContain('expect open >= 6');
  }, 60_000);

  it('stops the run it started when q comes first, as Ctrl+C would: its summary says so and the code ' +
    'is 105', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-dashboard-'));
    const script = join(dir, 'long.storm');
    writeFileSync(script, 'vus 3\nawait open 3 timeout 10s\nwait 60s\n');
    const wall = startOnPty(['dashboard', '--run', script]);
    await waitFor(wall.screen, /open +3\/3/, 45_000);
    wall.type('q');
    expect(await wall.exit).toBe(EXIT.signal);
    const raw = wall.raw();
    expect(raw.indexOf('sockstorm run: STOPPED (exit 105)')).toBeGreaterThan(raw.lastIndexOf('\x1b[?1049l'));
  }, 60_000);

  it('says a small terminal is too small, draws the wall once it is resized, and stays up when its ' +
    'endpoint dies', async () => {
    const engine = await engines.start({ snapshotIntervalMs: 200 }, 3);
    const endpoint = await startMetricsEndpoint(engine);
    const wall = startOnPty(['dashboard', '--attach', endpoint.url], 60, 20);
    await waitFor(wall.screen, /terminal too small: 60x20, needs 80x24/);
    wall.resize(80, 24);
    await waitFor(wall.screen, /attached to http:\/\/127\.0\.0\.1:\d+/);
    await waitFor(wall.screen, /open +3\/3/);
    const screen = wall.screen().split('\n');
    expect(screen).toHaveLength(24);
    for (const label of [
      'VUs: open target conn',
      'p99 ms: hs rtt fan',
      'surge: hs/s drops/s',
      'Now',
      'Events',
      'Recovery after chaos',
      'Errors',
      'Generator',
    ]) {
      expect(wall.screen(), label).toContain(`┌─ ${label} `);
    }
    expect(screen[23]).toMatch(/^ q quit {2}p pause {2}│ attached to/);
    wall.type('p');
    await waitFor(wall.screen, /p resume {2}│ PAUSED · attached/);
    wall.type('p');
    await waitFor(wall.screen, /p pause {2}│ attached/);
    await endpoint.close();
    await waitFor(wall.screen, /│ stream ended: the run finished or died; press q to quit$/m);
    wall.type('q');
    expect(await wall.exit).toBe(EXIT.passed);
  }, 60_000);
});
