// The examples against real targets (examples/targets/*.storm) run as shipped: each script's own
// command, from its header, against the minimal server its header describes (real npm servers),
// with its counts and durations scaled down (below) and every command kept. And a protocol
// preset without a target is refused before any socket: the bundled server speaks raw only.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../console/engine/engine.ts';
import { type ExampleServer, graphqlApp, mqttBroker, socketioApp, tickerStream } from '../helpers/example-servers.ts';
import { runCli } from '../helpers/run-cli.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/targets/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sockstorm-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each shipped example and the server its header describes. */
const SERVERS: Record<string, () => Promise<ExampleServer>> = {
  'socketio.storm': socketioApp,
  'graphql.storm': graphqlApp,
  'mqtt.storm': mqttBroker,
  'subscribe.storm': tickerStream,
};

// Scaled for a test: 20 users instead of hundreds or thousands, and every duration (waits,
// sessions, jitter, broadcast spacing, keepalive) 15 times shorter; timeouts are bounds, kept.
const USERS = 20;
const SPEEDUP = 15;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

function scaled(text: string): string {
  return text
    .split('\n')
    .map((line) =>
      line.startsWith('#')
        ? line
        : line
            .replace(/^(vus|await open|expect open >=) \d+/, `$1 ${USERS}`)
            .replace(
              /\b(wait|session|jitter|every|keepalive) (\d+)(ms|s|m)\b/g,
              (_, word: string, n: string, unit: string) =>
                `${word} ${Math.round((Number(n) * UNIT_MS[unit]!) / SPEEDUP)}ms`,
            ),
    )
    .join('\n');
}

/**
 * The command in a script's header (`#   sockstorm run FILE
 * …` and its `\` continuations), as argv after `run FILE`.
 */
function headerArgs(text: string): string[] {
  const comments = text.split('\n').filter((line) => line.startsWith('#'));
  const start = comments.findIndex((line) => line.includes('sockstorm run '));
  let command = '';
  for (const line of comments.slice(start)) {
    const body = line.replace(/^#\s*/, '');
    command += ` ${body.replace(/\\$/, '')}`;
    if (!body.endsWith('\\')) break;
  }
  // shell words: single quotes keep what they hold
  const words = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  expect(words.slice(0, 2)).toEqual(['sockstorm', 'run']);
  return words.slice(3);
}

describe('examples/targets', () => {
  it('has a minimal server here for every shipped example, and the README shows each as it is', () => {
    expect(readdirSync(EXAMPLES).sort()).toEqual(Object.keys(SERVERS).sort());
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    for (const name of Object.keys(SERVERS))
      expect(readme).toContain(`\`\`\`\n${readFileSync(join(EXAMPLES, name), 'utf8')}\`\`\``);
  });

  it.each(Object.keys(SERVERS))(
    '%s passes as shipped against the server its header describes',
    async (name) => {
      const text = readFileSync(join(EXAMPLES, name), 'utf8');
      const copy = scaled(text);
      // the same commands, line for line: only numbers changed
      const words = (t: string) => t.split('\n').map((line) => line.replace(/[\d.]+(ms|s|m)?/g, 'N'));
      expect(words(copy)).toEqual(words(text));
      const file = join(dir, name);
      writeFileSync(file, copy);
      const server = await SERVERS[name]!();
      try {
        const args = headerArgs(text).map((arg) => arg.replace(/\/\/localhost:\d+/g, `//127.0.0.1:${server.port}`));
        const json = join(dir, `${name}.json`);
        const result = await runCli(['run', file, ...args, '--json', json], {}, 60_000);
        const summary = JSON.parse(readFileSync(json, 'utf8'));
        expect({
          code: result.code,
          failed: summary.thresholds.filter((t: { status: string }) => t.status !== 'passed'),
        }).toEqual({ code: 0, failed: [] });
        expect(summary.thresholds.length).toBeGreaterThan(0);
        expect(summary.errors).toEqual({});
        expect(summary.fleet.open).toBe(USERS);
      } finally {
        await server.close();
      }
    },
    60_000,
  );
});

describe('a protocol preset without a target', () => {
  it.each([
    {
      what: 'a script line',
      script: 'protocol socketio\nvus 1\n',
      flags: [],
      message: /\.storm:1: protocol socketio speaks to your own server: give --target/,
    },
    {
      what: '--protocol',
      script: 'vus 1\n',
      flags: ['--protocol', 'mqtt'],
      message: /--protocol: protocol mqtt speaks to your own server: give --target/,
    },
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
    expect(result.stderr).toContain(
      'compare-preset.storm:1: protocol mqtt speaks to your own server, and compare runs the bundled one',
    );
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
