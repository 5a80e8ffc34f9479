import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sockstorm-cli-'));

describe('sockstorm (cli.ts)', () => {
  it('answers a bad option value with the error and one line of usage, not the whole help (104)', async () => {
    const bad = await runCli(['run', 'x.storm', '--rate', 'fast']);
    expect(bad.code).toBe(104);
    expect(bad.stderr).toBe(
      `sockstorm: option '--rate <n>' argument 'fast' is invalid. --rate must be a positive number, not "fast"\n` +
        'usage: sockstorm run [options] <script>  (sockstorm run --help for all options)\n',
    );
    expect(bad.stdout).toBe('');
    const tune = await runCli(['tune', 'check', '--scope', 'disk']);
    expect(tune.code).toBe(104);
    expect(tune.stderr.trimEnd().split('\n')).toHaveLength(2);
    expect(tune.stderr).toContain('usage: sockstorm tune [options] <action>  (sockstorm tune --help for all options)');
  });

  it('reads `help` and `help COMMAND` as --help, exit 0', async () => {
    const top = await runCli(['help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: sockstorm');
    const run = await runCli(['help', 'run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: sockstorm run');
    expect(run.stdout).toContain('Example:');
  });

  it('names the command meant by a mistyped one (104)', async () => {
    const run = await runCli(['rnu', 'x.storm']);
    expect(run.code).toBe(104);
    expect(run.stderr).toMatch(/^sockstorm: unknown command "rnu" \(did you mean "run"\?\); commands are run, /);
  });

  it('names the option meant by a mistyped one, with the usage line (104)', async () => {
    const run = await runCli(['run', 'x.storm', '--progres-interval', '2s']);
    expect(run.code).toBe(104);
    expect(run.stderr).toBe(
      `sockstorm: unknown option '--progres-interval' (did you mean "--progress-interval"?)\n` +
        'usage: sockstorm run [options] <script>  (sockstorm run --help for all options)\n',
    );
  });

  it('names the tune action meant by a mistyped one (104)', async () => {
    const run = await runCli(['tune', 'chekc']);
    expect(run.code).toBe(104);
    expect(run.stderr).toContain('unknown action "chekc" (did you mean "check"?)');
  });

  it('names the script word and the server knob meant, at their file:line:col, before any socket (104)', async () => {
    const file = join(dir, 'typos.storm');
    writeFileSync(file, 'vus 2\nawiat open 2\nserver wrokMs 5ms\n');
    const run = await runCli(['run', file]);
    expect(run.code).toBe(104);
    expect(run.stderr).toContain(`${file}:2:1: unknown command "awiat" (did you mean "await"?); commands are`);
    expect(run.stderr).toContain(`${file}:3:8: unknown knob "wrokMs" (did you mean "workMs"?); knobs are`);
    expect(run.stdout).toBe('');
  });

  it("names the knob meant by a compare variant's mistyped one (104)", async () => {
    const file = join(dir, 'compare.storm');
    writeFileSync(file, 'vus 2\nwait 1s\n');
    const run = await runCli(['compare', file, '--variant', 'a:engine=ws', '--variant', 'b:engien=uws']);
    expect(run.code).toBe(104);
    expect(run.stderr).toContain('--variant "b:engien=uws": unknown knob "engien" (did you mean "engine"?)');
  });
});
