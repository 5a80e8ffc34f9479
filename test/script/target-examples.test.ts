// A protocol preset without a target is refused before any socket: the bundled server speaks
// raw WebSocket only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../console/engine/engine.ts';
import { runCli } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a protocol preset without a target', () => {
  it.each([
    {
      what: 'a script line',
      script: 'protocol socketio\nvus 1\n',
      flags: [],
      message: /\.storm:1: protocol socketio speaks to your own server: give --target/,
    },
    { what: '--protocol', script: 'vus 1\n', flags: ['--protocol', 'mqtt'], message: /--protocol: protocol mqtt speaks to your own server: give --target/ },
  ])('is refused before any socket when it comes from $what (104)', async ({ script, flags, message }) => {
    const file = join(dir, 'preset.storm');
    writeFileSync(file, script);
    const result = await runCli(['run', file, ...flags]);
    expect(result.code).toBe(104);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('is refused by compare, which runs the bundled server (104)', async () => {
    const file = join(dir, 'compare-preset.storm');
    writeFileSync(file, 'protocol mqtt\nvus 1\n');
    const result = await runCli(['compare', file, '--variant', 'a:engine=ws', '--variant', 'b:engine=uws']);
    expect(result.code).toBe(104);
    expect(result.stderr).toContain('compare-preset.storm:1: protocol mqtt speaks to your own server, and compare runs the bundled one');
    expect(result.stdout).toBe('');
  });

  it('is refused by the console against the bundled server, which speaks raw only', async () => {
    const engine = await createEngine({});
    try {
      const result = await engine.dispatch({ type: 'protocol', name: 'graphql-ws' });
      expect(result).toMatchObject({ ok: false, message: expect.stringContaining('give --target') });
      expect((await engine.dispatch({ type: 'protocol', name: 'raw' })).ok).toBe(true);
    } finally {
      await engine.stop();
    }
  });
});
