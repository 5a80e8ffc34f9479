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
});
