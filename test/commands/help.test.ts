import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';

describe('--help', () => {
  it("shows every command's defaults and exit codes on stdout", async () => {
    const run = await runCli(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Exit codes:');
    for (const code of [0, 99, 100, 104, 105, 106, 107])
      expect(run.stdout).toMatch(new RegExp(`^\\s+${code}  \\S`, 'm'));
    // the defaults come from the engine's own table (commander wraps lines: compare words)
    const words = run.stdout.replace(/\s+/g, ' ');
    expect(words).toContain('connect rate, users per second (default: 1000/s)');
    expect(words).toContain('most handshakes pending at once (default: 500)');
    expect(run.stdout).toContain('--progress-interval');
    for (const [args, codes] of [
      [
        ['console', '--help'],
        [0, 104, 105],
      ],
      [
        ['tune', '--help'],
        [0, 1, 104, 106],
      ],
      [
        ['server', '--help'],
        [0, 2, 3, 70, 104],
      ],
    ] as const) {
      const help = await runCli([...args]);
      expect(help.code, args.join(' ')).toBe(0);
      for (const code of codes) expect(help.stdout, args.join(' ')).toMatch(new RegExp(`^\\s+${code}  \\S`, 'm'));
    }
  });

  it('names the flag and what it takes when a value is wrong (104)', async () => {
    const bad = await runCli(['run', 'x.storm', '--rate', 'fast']);
    expect(bad.code).toBe(104);
    expect(bad.stderr).toContain('--rate must be a positive number, not "fast"');
    const interval = await runCli(['run', 'x.storm', '--progress-interval', '10ms']);
    expect(interval.code).toBe(104);
    expect(interval.stderr).toContain('--progress-interval must be a duration of at least 100ms');
  });
});
