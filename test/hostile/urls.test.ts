// Hostile-input catalog: what goes into a target URL and what comes out of it. A `users from`
// value is one path segment or query value whatever it holds (`../../admin` does not climb the
// path), and credentials in the target URL reach the server but no output.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runCli } from '../helpers/run-cli.ts';

let wss: WebSocketServer;
let port: number;
let upgrades: IncomingMessage[] = [];
const dir = mkdtempSync(join(tmpdir(), 'sockstorm-urls-'));

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (_socket, request) => upgrades.push(request));
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  port = (wss.address() as AddressInfo).port;
});
beforeEach(() => {
  upgrades = [];
});
afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('users from FILE values in a target URL', () => {
  it('are percent-encoded, so ../../admin reaches the server as one segment; headers keep the value as it is', async () => {
    writeFileSync(join(dir, 'rows.csv'), 'room\n../../admin\nlobby?x=1&y=2\n');
    const script = join(dir, 'rows.storm');
    writeFileSync(script, `users from ${join(dir, 'rows.csv')}\nvus 2\nawait open 2 timeout 10s\n`);
    const target = `ws://127.0.0.1:${port}/rooms/{{row.room}}?as={{row.room}}`;
    const result = await runCli(['run', script, '--target', target, '--header', 'X-Room: {{row.room}}']);
    expect(result.code).toBe(0);
    const seen = upgrades.map((r) => [r.url, r.headers['x-room']]).sort();
    expect(seen).toEqual([
      ['/rooms/..%2F..%2Fadmin?as=..%2F..%2Fadmin', '../../admin'],
      ['/rooms/lobby%3Fx%3D1%26y%3D2?as=lobby%3Fx%3D1%26y%3D2', 'lobby?x=1&y=2'],
    ]);
  });
});

describe('credentials in the target URL', () => {
  it('reach the server as Basic auth and show masked in the summary, progress, JSON, NDJSON and report', async () => {
    const script = join(dir, 'creds.storm');
    writeFileSync(script, `target ws://load:s3cret@127.0.0.1:${port}/feed\nvus 2\nawait open 2 timeout 10s\nwait 1s\n`);
    const [json, ndjson, report] = ['out.json', 'out.ndjson', 'out.html'].map((f) => join(dir, f));
    const result = await runCli(['run', script, '--json', json!, '--ndjson', ndjson!, '--report', report!]);
    expect(result.code).toBe(0);
    expect(upgrades.map((r) => r.headers.authorization)).toEqual([
      `Basic ${btoa('load:s3cret')}`,
      `Basic ${btoa('load:s3cret')}`,
    ]);
    const shown = `ws://load:***@127.0.0.1:${port}/feed`;
    expect(result.stdout).toContain(`against ${shown}`);
    const outputs = {
      stdout: result.stdout,
      stderr: result.stderr,
      json: readFileSync(json!, 'utf8'),
      ndjson: readFileSync(ndjson!, 'utf8'),
      report: readFileSync(report!, 'utf8'),
    };
    for (const [name, text] of Object.entries(outputs))
      expect({ name, leaks: text.includes('s3cret') }).toEqual({ name, leaks: false });
    const summary = JSON.parse(outputs.json);
    expect(summary.target.url).toBe(shown);
    expect(summary.script.commands[0]).toBe(`target ${shown}`);
    expect(outputs.ndjson).toContain(`"text":"target ${shown}"`);
    expect(outputs.report).toContain(shown);
  });

  it('are masked in the error that refuses a bad target (104)', async () => {
    const script = join(dir, 'bad.storm');
    writeFileSync(script, 'vus 1\n');
    const result = await runCli(['run', script, '--target', 'http://load:s3cret@127.0.0.1:1/']);
    expect(result.code).toBe(104);
    expect(result.stderr).toContain('"http://load:***@127.0.0.1:1/" uses http:');
    expect(result.stderr).not.toContain('s3cret');
  });
});
