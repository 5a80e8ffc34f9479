import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../console/cli-program.ts';
import { TUNE_ACTIONS } from '../../console/commands/tune.ts';
import { runCli, waitForOutput } from '../helpers/run-cli.ts';

const COMMANDS = ['run', 'compare', 'console', 'demo', 'server', 'tune', 'agent', 'dashboard'];
const BIN = fileURLToPath(new URL('../../console/bin.mjs', import.meta.url));

/** The lines of a help's `Example:` block. */
function examplesOf(help: string): string[] {
  const block = /\nExample:\n((?: {2}\S.*\n)+)/.exec(help);
  return block ? block[1]!.trimEnd().split('\n') : [];
}

/**
 * An example line as the shell would give its arguments to sockstorm: quotes removed, a
 * comment, a redirection, `sudo` and `NAME=value` assignments left out.
 */
function argvOf(line: string): string[] {
  const words = [...line.replace(/\s+#.*$/, '').matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  const at = words.indexOf('<');
  const args = at === -1 ? words : words.slice(0, at);
  while (args[0] === 'sudo' || /^[A-Z_]+=/.test(args[0] ?? '')) args.shift();
  expect(args[0], line).toBe('sockstorm');
  return args.slice(1);
}

/** The program as the CLI builds it, with every action replaced by one that records what it was given. */
async function parsingProgram(): Promise<{ program: Command; ran: string[] }> {
  const program = await buildProgram();
  const ran: string[] = [];
  for (const command of program.commands) {
    command.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    command.action(() => {
      ran.push(command.name());
    });
  }
  return { program, ran };
}

describe('cli-examples', () => {
  it("ends every command's --help with an Example: block", async () => {
    for (const command of COMMANDS) {
      const help = await runCli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(examplesOf(help.stdout).length, command).toBeGreaterThan(0);
    }
  });

  it("parses every example of every command's --help with the real program (the server's: it starts)", async () => {
    for (const command of COMMANDS) {
      const help = await runCli([command, '--help']);
      for (const line of examplesOf(help.stdout)) {
        const args = argvOf(line);
        if (args[0] === 'server') {
          // the server is its own program: an example parses when the server it describes starts
          const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
          });
          const exit = new Promise((resolve) => child.once('close', resolve));
          await waitForOutput(() => out, '"event":"listening"', 20_000);
          child.kill('SIGTERM');
          await exit;
          continue;
        }
        const { program, ran } = await parsingProgram();
        await program.parseAsync(args, { from: 'user' });
        expect(ran, line).toEqual([args[0]]);
        // tune's action is an argument commander takes as any word: the command checks it
        if (args[0] === 'tune') expect(TUNE_ACTIONS, line).toContain(args[1]);
      }
    }
  });
});
