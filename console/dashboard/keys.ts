/**
 * The wall's keys and its state, in one place: the key line on screen, `--help` and the
 * bindings are all derived from `DASHBOARD_KEYS`. Pure (no terminal here): the reducer over
 * the wall's actions and the key line are tested as functions.
 */
import { clip } from './panels.ts';

/** What a key does. */
export type KeyAction = 'quit' | 'pause';

/** One key of the wall: blessed's names for it, how the key line and `--help` write it, what it does. */
export interface DashboardKey {
  action: KeyAction;
  keys: readonly string[];
  label: string;
  does: string;
  help: string;
}

/** Every key of the wall. */
export const DASHBOARD_KEYS: readonly DashboardKey[] = [
  {
    action: 'quit',
    keys: ['q', 'escape', 'C-c'],
    label: 'q',
    does: 'quit',
    help: 'quit (q, Esc, Ctrl+C); with a run it started, stop it and print its verdict',
  },
  {
    action: 'pause',
    keys: ['p', 'space'],
    label: 'p',
    does: 'pause',
    help: 'freeze the wall to read it, and resume (p, Space); the stream is still read',
  },
];

/** The `Keys:` block of `sockstorm dashboard --help`. */
export function keysHelp(): string {
  return `\nKeys:\n${DASHBOARD_KEYS.map((k) => `  ${k.label}  ${k.help}`).join('\n')}\n`;
}

/** The wall's state. */
export interface WallState {
  isPaused: boolean;
  /** What the stream is doing, said on the key line. */
  status: string;
  /** The stream ended or broke: the figures on screen are the last ones. */
  isEnded: boolean;
  /** `q` was pressed and a run the dashboard started is being stopped. */
  isStopping: boolean;
}

/** What happens to the wall. */
export type WallAction =
  | { type: 'key'; action: KeyAction }
  | { type: 'attached'; url: string }
  | { type: 'stream-ended'; reason: string; isOwnRun: boolean }
  | { type: 'stopping' };

/** The state before anything is known. */
export const INITIAL_WALL: WallState = { isPaused: false, status: 'attaching…', isEnded: false, isStopping: false };

/** The next state. Pure. */
export function reduceWall(state: WallState, action: WallAction): WallState {
  switch (action.type) {
    case 'key':
      return action.action === 'pause' && !state.isStopping ? { ...state, isPaused: !state.isPaused } : state;
    case 'attached':
      return { ...state, status: `attached to ${action.url}` };
    case 'stream-ended':
      // the wall stays up with its last figures: a run that ended is worth reading
      return {
        ...state,
        isEnded: true,
        isPaused: false,
        status: `${action.reason}; press q ${action.isOwnRun ? 'for its verdict' : 'to quit'}`,
      };
    case 'stopping':
      return { ...state, isStopping: true, isPaused: false, status: 'stopping the run…' };
  }
}

/** The key line: the keys, then what the stream is doing, cut to `width`. */
export function keyLine(state: WallState, width: number): string {
  const keys = DASHBOARD_KEYS.map(
    (k) => `${k.label} ${k.action === 'pause' && state.isPaused ? 'resume' : k.does}`,
  ).join('  ');
  return clip(` ${keys}  │ ${state.isPaused ? 'PAUSED · ' : ''}${state.status}`, width);
}
