/**
 * The console's own state (not the engine's): which mode the keyboard is in, the command
 * line being typed, its history, a pending confirmation, and the last message. A pure
 * reducer over an action union; the key hook maps keys to these actions.
 */
import { COMMAND_NAMES } from '../script/parse.ts';

/** What the keyboard is doing. */
export type Mode = 'keys' | 'command' | 'confirm' | 'help';

/** The console's state. */
export interface ConsoleState {
  mode: Mode;
  input: string;
  history: string[];
  /** Position while browsing history; equals history.length when not browsing. */
  historyAt: number;
  /** A command line waiting for y/n. */
  pending: { line: string; question: string } | null;
  message: { text: string; isError: boolean } | null;
}

/** What can happen to it. */
export type ConsoleAction =
  | { type: 'open-command' }
  | { type: 'type'; text: string }
  | { type: 'backspace' }
  | { type: 'complete' }
  | { type: 'history'; step: -1 | 1 }
  | { type: 'submit' }
  | { type: 'cancel' }
  | { type: 'ask'; line: string; question: string }
  | { type: 'answer'; isYes: boolean }
  | { type: 'toggle-help' }
  | { type: 'message'; text: string; isError: boolean };

export const INITIAL_STATE: ConsoleState = {
  mode: 'keys',
  input: '',
  history: [],
  historyAt: 0,
  pending: null,
  message: null,
};

/** Completes the first word to a command name when exactly one fits (or to their common prefix). */
export function completeCommand(input: string): string {
  if (input.includes(' ')) return input;
  const matches = COMMAND_NAMES.filter((name) => name.startsWith(input));
  if (matches.length === 1) return `${matches[0]} `;
  if (matches.length === 0) return input;
  let prefix: string = matches[0]!;
  for (const name of matches) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.length > input.length ? prefix : input;
}

/** The reducer. `submit` only moves the line to history; the hook runs it. */
export function consoleReducer(state: ConsoleState, action: ConsoleAction): ConsoleState {
  switch (action.type) {
    case 'open-command':
      return { ...state, mode: 'command', input: '', historyAt: state.history.length };
    case 'type':
      return { ...state, input: state.input + action.text };
    case 'backspace':
      return { ...state, input: state.input.slice(0, -1) };
    case 'complete':
      return { ...state, input: completeCommand(state.input) };
    case 'history': {
      const at = Math.max(0, Math.min(state.history.length, state.historyAt + action.step));
      return { ...state, historyAt: at, input: state.history[at] ?? '' };
    }
    case 'submit': {
      const line = state.input.trim();
      const history =
        line && state.history[state.history.length - 1] !== line ? [...state.history, line].slice(-100) : state.history;
      return { ...state, mode: 'keys', input: '', history, historyAt: history.length };
    }
    case 'cancel':
      return { ...state, mode: 'keys', input: '', pending: null };
    case 'ask':
      return { ...state, mode: 'confirm', pending: { line: action.line, question: action.question } };
    case 'answer': {
      // a no is said, so a key pressed by mistake is not taken for a kill that did nothing
      const message =
        !action.isYes && state.pending ? { text: `cancelled: ${state.pending.line}`, isError: false } : state.message;
      return { ...state, mode: 'keys', pending: null, message };
    }
    case 'toggle-help':
      return { ...state, mode: state.mode === 'help' ? 'keys' : 'help' };
    case 'message':
      return { ...state, message: { text: action.text, isError: action.isError } };
  }
}
