/**
 * Binds keys to the console: in `keys` mode single keys do what the keymap says, `:` opens
 * the command line (history on ↑/↓, Tab completes), `k` asks before it kills, `q` quits.
 */
import { useInput, type Key } from 'ink';
import type { ConsoleAction, ConsoleState } from './console-state.ts';
import type { ReconnectPolicy } from '../engine/commands.ts';
import { actionFor, nextPolicy, type KeyAction } from './keymap.ts';

/** What the hook needs from its owner. */
export interface ConsoleKeys {
  /** The state now: read on every key, since several keys can arrive between two renders. */
  getState(): ConsoleState;
  dispatch(action: ConsoleAction): void;
  /** Runs a command line against the engine (results come back as messages). */
  runLine(line: string): void;
  /** Open users now, for the kill question. */
  openNow(): number;
  /** The reconnect policy in force (not a once-a-second snapshot's). */
  policyNow(): ReconnectPolicy;
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

function handleCommandKey({ getState, dispatch, runLine }: ConsoleKeys, input: string, key: Key): void {
  if (key.return || input === '\r') {
    const line = getState().input;
    dispatch({ type: 'submit' });
    return runLine(line);
  }
  if (key.escape) return dispatch({ type: 'cancel' });
  if (key.tab || input === '\t') return dispatch({ type: 'complete' });
  if (key.upArrow) return dispatch({ type: 'history', step: -1 });
  if (key.downArrow) return dispatch({ type: 'history', step: 1 });
  if (key.backspace || key.delete) return dispatch({ type: 'backspace' });
  if (input && !key.ctrl && !key.meta) dispatch({ type: 'type', text: input });
}

function runAction(keys: ConsoleKeys, action: KeyAction): void {
  switch (action.type) {
    case 'run':
      return keys.runLine(action.line);
    case 'ask':
      return keys.dispatch({ type: 'ask', line: action.line, question: action.question(keys.openNow()) });
    case 'cycle-policy':
      return keys.runLine(nextPolicy(keys.policyNow()));
    case 'open-command':
      return keys.dispatch({ type: 'open-command' });
    case 'toggle-help':
      return keys.dispatch({ type: 'toggle-help' });
    case 'quit':
      return keys.quit();
  }
}

function handleKey(keys: ConsoleKeys, input: string, key: Key): void {
  const state = keys.getState();
  if (key.ctrl && input === 'c') return keys.quit();
  if (state.mode === 'command') return handleCommandKey(keys, input, key);
  if (state.mode === 'confirm') {
    const isYes = input === 'y' || input === 'Y';
    if (isYes && state.pending) keys.runLine(state.pending.line);
    return keys.dispatch({ type: 'answer', isYes });
  }
  if (state.mode === 'help') return keys.dispatch({ type: 'toggle-help' });
  const action = actionFor(input);
  if (action) runAction(keys, action);
}
