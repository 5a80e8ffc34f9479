import { describe, expect, it } from 'vitest';
import { startBundledServer } from '../../console/engine/bundled/bundled-server.ts';
import { TestClient } from '../helpers/test-client.ts';
import { runCli, startCli, waitForOutput } from '../helpers/run-cli.ts';

describe('sockstorm server', () => {
  it('prints exactly one listening line on stdout and exits 0 on SIGTERM, closing clients with 1001', async () => {
    const run = startCli(['server', '--engine', 'ws']);
    const line = await waitForOutput(run.stdout, '\n');
    const info = JSON.parse(line);
    expect(info).toMatchObject({ event: 'listening', engine: 'ws', native: false, host: '127.0.0.1' });
    const clients = await Promise.all(
      Array.from({ length: 20 }, () => TestClient.open(`ws://127.0.0.1:${info.port}/`)),
    );
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(0);
    expect(await Promise.all(clients.map((c) => c.closed))).toEqual(Array(20).fill(1001));
    expect(run.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('exits non-zero naming the port when it is already in use', async () => {
    const taken = await startBundledServer({ engine: 'uws' });
    try {
      for (const engine of ['uws', 'ws']) {
        const result = await runCli(['server', '--engine', engine, '--port', String(taken.info.port)]);
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(`port ${taken.info.port}`);
        expect(result.stdout).toBe('');
      }
    } finally {
      await taken.stop();
    }
  });

  it('refuses to run uws when the native binary does not load, and names --engine ws', async () => {
    const result = await runCli(['server'], { SOCKSTORM_UWS_BINARY: '/nonexistent/uws.node' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('native uWebSockets.js binary did not load');
    expect(result.stderr).toContain('--engine ws');
  });

  it('rejects an unknown engine and a bad --config with exit 104', async () => {
    expect((await runCli(['server', '--engine', 'nginx'])).code).toBe(104);
    const bad = await runCli(['server', '--config', '{"workMs":-5}']);
    expect(bad.code).toBe(104);
    expect(bad.stderr).toContain('workMs');
  });

  it('refuses a bind address that is not an IP with 104, and one this host does not have without calling it in use', async () => {
    const word = await runCli(['server', '--host', 'not-an-ip']);
    expect(word.code).toBe(104);
    expect(word.stderr).toContain('--host must be an IP address to bind');
    // 198.18.0.0/15 is the benchmarking range: no interface here has it (nothing is sent; the bind alone fails)
    const absent = await runCli(['server', '--admin-host', '198.18.77.77']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain('198.18.77.77 is not an address of this host');
    expect(absent.stderr).not.toContain('in use');
  });

  it('warns when the admin API listens beyond loopback', async () => {
    const run = startCli(['server', '--admin-host', '0.0.0.0']);
    await waitForOutput(run.stdout, '\n');
    expect(run.stderr()).toContain('warning: the admin API listens on 0.0.0.0');
    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(0);
  });

  it('takes its token from SOCKSTORM_SERVER_TOKEN, out of the process list, and never repeats a bad one', async () => {
    const run = startCli(['server'], { SOCKSTORM_SERVER_TOKEN: 'from-the-environment' });
    expect(JSON.parse(await waitForOutput(run.stdout, '\n')).token).toBe('from-the-environment');
    run.child.kill('SIGTERM');
    await run.exit;
    const huge = await runCli(['server', '--token', `${'x'.repeat(100_000)} y`]);
    expect(huge.code).toBe(104);
    expect(huge.stderr).toContain('--token must be 1..512 visible ASCII characters');
    expect(huge.stderr.length).toBeLessThan(300);
  });
});
