/**
 * The console's keys, once: what each does, its label on the hint line, and its line on the
 * help screen. The key hook, the help screen and the hint line are all derived from this table.
 */
import type { ReconnectPolicy } from '../engine/commands.ts';
import { parseLine } from '../script/parse.ts';

/** The reconnect policies `r` cycles through, in order, as command lines. */
export const POLICY_CYCLE = [
  'reconnect off',
  'reconnect immediate',
  'reconnect fixed 1s',
  'reconnect expo 100ms..5s full',
] as const;

/** What a key does in `keys` mode. */
export type KeyAction =
  | { type: 'run'; line: string }
  /** Asks `question` (told the open users now) and runs `line` on y. */
  | { type: 'ask'; line: string; question(openNow: number): string }
  | { type: 'cycle-policy' }
  | { type: 'open-command' }
  | { type: 'toggle-help' }
  | { type: 'quit' };

/** One row of the keymap: one or two keys that share a hint and a help line. */
export interface KeyRow {
  /** The keys of the row and what each does. */
  keys: ReadonlyArray<{ key: string; action: KeyAction }>;
  /** Written after the keys on the hint line (`+- 100`). */
  hint: string;
  /** The help screen's text for the row; more than one entry continues on further lines. */
  help: readonly string[];
}

const policyNames = POLICY_CYCLE.map((line) => line.replace(/^reconnect /, '')).join(', ');

/** The keymap. */
export const KEYMAP: readonly KeyRow[] = [
  {
    keys: [
      { key: '+', action: { type: 'run', line: 'add 100' } },
      { key: '-', action: { type: 'run', line: 'remove 100' } },
    ],
    hint: '100',
    help: ['add / remove 100 VUs'],
  },
  {
    keys: [
      { key: '*', action: { type: 'run', line: 'add 1000' } },
      { key: '/', action: { type: 'run', line: 'remove 1000' } },
    ],
    hint: '1000',
    help: ['add / remove 1000 VUs'],
  },
  {
    keys: [{ key: 'b', action: { type: 'run', line: 'broadcast' } }],
    hint: 'broadcast',
    help: ['broadcast one message through the fleet'],
  },
  {
    keys: [
      {
        key: 'k',
        action: {
          type: 'ask',
          line: 'kill 20% reset',
          question: (open) => `Kill 20% of ${open} open VUs (reset, no close frame)? y/n`,
        },
      },
    ],
    hint: 'kill 20%',
    help: ['kill 20% of open VUs (asks first; anything but y cancels)'],
  },
  {
    keys: [{ key: 'r', action: { type: 'cycle-policy' } }],
    hint: 'reconnect',
    help: [`cycle reconnect: ${policyNames}`],
  },
  {
    keys: [{ key: ':', action: { type: 'open-command' } }],
    hint: 'command',
    help: [
      'command line: every fleet command, e.g. "ramp 5000 over 30s",',
      '"kill 10% close", "server workMs 20", "probe 100/s";',
      '"ramp 5000 over 60s until connect.p99 > 200ms" holds at the knee;',
      '↑/↓ history, Tab completes, Esc leaves;',
      '"save FILE" writes the session as a script for sockstorm run',
    ],
  },
  { keys: [{ key: '?', action: { type: 'toggle-help' } }], hint: 'help', help: ['this help (any key closes it)'] },
  {
    keys: [{ key: 'q', action: { type: 'quit' } }],
    hint: 'quit',
    help: ['quit: stops the fleet gracefully and restores the terminal'],
  },
];

/** What `key` does in `keys` mode, or null. */
export function actionFor(key: string): KeyAction | null {
  for (const row of KEYMAP) for (const entry of row.keys) if (entry.key === key) return entry.action;
  return null;
}

/** The hint line: each row's keys run together, then its hint (`+- 100`, `b broadcast`). */
export function hintLine(): string {
  return KEYMAP.map((row) => `${row.keys.map((entry) => entry.key).join('')} ${row.hint}`).join('  ');
}

/** The help screen's rows: the keys (`+ / -`) beside each line of text. */
export function helpRows(): Array<{ keys: string; text: string }> {
  return KEYMAP.flatMap((row) =>
    row.help.map((text, index) => ({ keys: index === 0 ? row.keys.map((entry) => entry.key).join(' / ') : '', text })),
  );
}

// the kind of policy each line of the cycle sets, read as the command language reads it
const CYCLE_KINDS = POLICY_CYCLE.map((line) => {
  const step = parseLine(line);
  return step?.kind === 'engine' && step.command.type === 'reconnect' ? step.command.policy.kind : null;
});

/** The command line `r` sends next, after the policy in force: the next kind in the cycle. */
export function nextPolicy(policyInForce: ReconnectPolicy): string {
  const current = CYCLE_KINDS.indexOf(policyInForce.kind);
  return POLICY_CYCLE[(current + 1) % POLICY_CYCLE.length]!;
}
