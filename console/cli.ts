/**
 * `sockstorm`: parses the arguments with the program (cli-program.ts: each command, loaded from
 * console/commands/ when it runs, with its flags from the option table, cli-options.ts), and
 * nothing else. What a command ends with becomes the process's exit status here, in one place
 * (exitStatusOf); an argument commander refuses is said with the word meant and one line of usage.
 *
 *   sockstorm                      the console, or the demo headless when stdout is not a TTY or CI is set
 *   sockstorm run script.storm     a script, headless, with thresholds and an exit code
 *   sockstorm compare SCRIPT --variant NAME:KNOBS …   the same script on several server setups
 *   sockstorm console | server | tune | agent | dashboard
 */
import { CommanderError, type Command } from 'commander';
import { buildProgram } from './cli-program.ts';
import { maskCredentials } from './engine/protocols/shown-text.ts';
import { EXIT, ExitError } from '../target-server/contract/exit-codes.ts';
import { didYouMean } from './script/did-you-mean.ts';

const program = await buildProgram();

// commander's own error output is replaced by ours (exitStatusOf): the error, a near word, and
// one line of usage for the command that refused its arguments, not its whole help
let refusedBy: Command = program;
for (const command of [program, ...program.commands]) {
  command.configureOutput({
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
    outputError: () => {
      refusedBy = command;
    },
  });
}

/**
 * The one place an error becomes the process's exit status. commander has said what was wrong
 * with the arguments (104); an ExitError carries its own code; anything else is an error of
 * ours (1). What is said is masked: a target URL's credentials never reach stderr.
 */
function exitStatusOf(error: unknown): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return EXIT.passed;
    process.stderr.write(`sockstorm: ${maskCredentials(argumentError(error))}\n${usageLine(refusedBy)}\n`);
    return EXIT.invalid;
  }
  const code = (error as { code?: unknown }).code;
  process.stderr.write(
    `sockstorm: ${maskCredentials((error as Error).message)}${typeof code === 'string' ? ` [${code}]` : ''}\n`,
  );
  return error instanceof ExitError ? error.exitCode : EXIT.error;
}

/** commander's message without its `error: ` prefix, with the option meant when it is a typo of one. */
function argumentError(error: CommanderError): string {
  const message = error.message.replace(/^error: /, '');
  const unknown = error.code === 'commander.unknownOption' ? /'(--?[^']+)'/.exec(message)?.[1] : undefined;
  if (unknown === undefined) return message;
  const flags = refusedBy.options.flatMap((o) => (o.long ? [o.long] : []));
  return `${message}${didYouMean(unknown.split('=')[0]!, [...flags, '--help'])}`;
}

/** One line of usage: `usage: sockstorm run [options] <script>  (sockstorm run --help for all options)`. */
function usageLine(command: Command): string {
  const name = command === program ? 'sockstorm' : `sockstorm ${command.name()}`;
  return `usage: ${name} ${command.usage()}  (${name} --help for all options)`;
}

// `sockstorm … | head` closes stdout early: that is the reader's choice, not an error of ours
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
});

// `sockstorm help [COMMAND]` is `sockstorm [COMMAND] --help`, as git and npm read it
if (process.argv[2] === 'help')
  process.argv.splice(2, 2, ...[process.argv[3], '--help'].filter((a) => a !== undefined));

const first = process.argv[2];
const names = program.commands.map((c) => c.name());
if (first !== undefined && !first.startsWith('-') && !names.includes(first)) {
  process.stderr.write(
    `sockstorm: unknown command "${first}"${didYouMean(first, names)}; commands are ${names.join(', ')} ` +
      '(sockstorm --help)\n',
  );
  process.exit(EXIT.invalid);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitStatusOf(error);
}
