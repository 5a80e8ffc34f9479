/**
 * Binds keys to the console: in `keys` mode single keys drive the fleet, `:` opens the
 * command line (history on ↑/↓, Tab completes), `k` asks before it kills, `q` quits.
 */
import { useInput, type Key } from 'ink';
import type { ConsoleAction, ConsoleState } from './console-state.ts';

/** The reconnect policies `r` cycles through. */
export const POLICY_CYCLE = ['reconnect off', 'reconnect immediate', 'reconnect fixed 1s', 'reconnect expo 100ms..5s full'];

/** Single-key commands of the `keys` mode. */
export const KEY_COMMANDS: Record<string, string> = {
  '+': 'add 100',
  '-': 'remove 100',
  '*': 'add 1000',
  '/': 'remove 1000',
  b: 'broadcast',
};

/** What the hook needs from its owner. */
export interface ConsoleKeys {
  /** The state now: read on every key, since several keys can arrive between two renders. */
  getState(): ConsoleState;
  dispatch(action: ConsoleAction): void;
  /** Runs a command line against the engine (results come back as messages). */
  runLine(line: string): void;
  /** Open users now, for the kill question. */
  openNow(): number;
  /** The reconnect policy now, as the command language writes it. */
  policyNow(): string;
  quit(): void;
}

const NO_KEY = {} as Key;

/** The key hook. Pasted or fast-typed text arrives as one chunk and is handled a key at a time. */
export function useConsoleKeys(keys: ConsoleKeys): void {
  useInput((input, key) => {
    const isPlainText = input.length > 1 && !key.ctrl && !key.meta;
    if (!isPlainText) return handleKey(keys, input, key);
    for (const char of input) handleKey(keys, char, NO_KEY);
  });
}

function handleKey({ getState, dispatch, runLine, openNow, policyNow, quit }: ConsoleKeys, input: string, key: Key): void {
  const state = getState();
  if (key.ctrl && input === 'c') return quit();
  if (state.mode === 'command') {
    if (key.return || input === '\r') {
      dispatch({ type: 'submit' });
      return runLine(state.input);
    }
    if (key.escape) return dispatch({ type: 'cancel' });
    if (key.tab || input === '\t') return dispatch({ type: 'complete' });
    if (key.upArrow) return dispatch({ type: 'history', step: -1 });
    if (key.downArrow) return dispatch({ type: 'history', step: 1 });
    if (key.backspace || key.delete) return dispatch({ type: 'backspace' });
    if (input && !key.ctrl && !key.meta) dispatch({ type: 'type', text: input });
    return;
  }
  if (state.mode === 'confirm') {
    const isYes = input === 'y' || input === 'Y';
    if (isYes && state.pending) runLine(state.pending.line);
    return dispatch({ type: 'answer', isYes });
  }
  if (state.mode === 'help') return dispatch({ type: 'toggle-help' });
  if (input === 'q') return quit();
  if (input === ':') return dispatch({ type: 'open-command' });
  if (input === '?') return dispatch({ type: 'toggle-help' });
  if (input === 'k') return dispatch({ type: 'ask', line: 'kill 20% reset', question: `Kill 20% of ${openNow()} open VUs (reset, no close frame)? y/n` });
  if (input === 'r') {
    const kind = policyNow().split(' ')[0];
    const current = POLICY_CYCLE.findIndex((line) => line.split(' ')[1] === kind);
    return runLine(POLICY_CYCLE[(current + 1) % POLICY_CYCLE.length]!);
  }
  const command = KEY_COMMANDS[input];
  if (command) runLine(command);
}
