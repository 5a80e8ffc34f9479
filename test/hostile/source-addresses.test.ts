// Hostile-target catalog: a target that limits connections per client address (nginx
// `limit_conn` on `$binary_remote_addr`) on loopback. Users of a run against your own server
// dial from the host's own address, so the limit fires as it would for one client host; with
// --source-addresses the run says where users dialled from and what the limit saw.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runCli } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A `ws` server that answers 503 to the 11th connection at once from one remote address, and counts who it held. */
async function limitedServer(limit = 10) {
  const held = new Map<string, number>();
  const seen = new Map<string, number>();
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, done) => {
      const address = info.req.socket.remoteAddress!;
      if ((held.get(address) ?? 0) >= limit) return done(false, 503);
      held.set(address, (held.get(address) ?? 0) + 1);
      seen.set(address, (seen.get(address) ?? 0) + 1);
      info.req.socket.once('close', () => held.set(address, held.get(address)! - 1));
      done(true);
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  return { wss, seen, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/` };
}

let server: Awaited<ReturnType<typeof limitedServer>> | null = null;
afterEach(async () => {
  for (const client of server?.wss.clients ?? []) client.terminate();
  await new Promise((resolve) => server?.wss.close(resolve) ?? resolve(null));
  server = null;
});

const SCRIPT = 'reconnect off\nvus 15\nawait open 10 timeout 10s\nwait 1s\n';

describe('a target that limits connections per client address', () => {
  it('meets users from one address, as from one client host: 10 open, 5 refused with 503', async () => {
    server = await limitedServer();
    const script = join(dir, 'limit.storm');
    writeFileSync(script, SCRIPT);
    const json = join(dir, 'limit.json');
    const result = await runCli(['run', script, '--target', server.url, '--json', json]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.fleet.open).toBe(10);
    expect(summary.errors).toEqual({ 'handshake.http_503': 5 });
    expect([...server.seen]).toEqual([['127.0.0.1', 10]]);
    // nothing to say of sources: users dialled from the host's own address
    expect(summary.sources).toBeUndefined();
    expect(result.stderr).not.toContain('users dial from');
    expect(result.stdout).not.toMatch(/^sources/m);
  });

  it(
    'with --source-addresses, says on stderr, in the summary and in JSON where users dialled from ' +
      'and what the limit saw',
    async () => {
      server = await limitedServer();
      const script = join(dir, 'spread.storm');
      writeFileSync(script, SCRIPT);
      const json = join(dir, 'spread.json');
      const result = await runCli([
        'run',
        script,
        '--target',
        server.url,
        '--source-addresses',
        '127.0.0.2,127.0.0.3',
        '--json',
        json,
      ]);
      expect(result.code).toBe(0);
      const summary = JSON.parse(readFileSync(json, 'utf8'));
      expect(summary.fleet.open).toBe(15);
      expect(summary.errors).toEqual({});
      expect(Object.fromEntries(server.seen)).toEqual({ '127.0.0.2': 8, '127.0.0.3': 7 });
      expect(result.stderr).toContain(
        'users dial from 2 addresses (127.0.0.2, 127.0.0.3) (--source-addresses): a per-address limit on ' +
          'the target sees up to 8 users from each',
      );
      expect(summary.sources).toEqual({
        addresses: ['127.0.0.2', '127.0.0.3'],
        chosenBy: 'option',
        peakOpenPerAddress: 8,
      });
      expect(result.stdout).toContain(
        'sources    users dialled from 127.0.0.2, 127.0.0.3 (--source-addresses): at most 8 open at once ' +
          'from one address, which is what a per-address limit on the target saw',
      );
    },
  );
});
