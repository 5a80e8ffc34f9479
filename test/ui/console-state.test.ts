import { describe, expect, it } from 'vitest';
import { completeCommand, consoleReducer, INITIAL_STATE, type ConsoleAction } from '../../console/ui/console-state.ts';

function run(...actions: ConsoleAction[]) {
  return actions.reduce(consoleReducer, INITIAL_STATE);
}

describe('consoleReducer', () => {
  it('types a command line, submits it into history and returns to keys mode', () => {
    const state = run(
      { type: 'open-command' },
      { type: 'type', text: 'vus 1' },
      { type: 'type', text: '0' },
      { type: 'backspace' },
      { type: 'type', text: '00' },
      { type: 'submit' },
    );
    expect(state).toMatchObject({ mode: 'keys', input: '', history: ['vus 100'], historyAt: 1 });
  });

  it('walks history up and down and does not repeat the same line', () => {
    let state = run(
      { type: 'open-command' },
      { type: 'type', text: 'add 5' },
      { type: 'submit' },
      { type: 'open-command' },
      { type: 'type', text: 'add 5' },
      { type: 'submit' },
    );
    expect(state.history).toEqual(['add 5']);
    state = run(
      { type: 'open-command' },
      { type: 'type', text: 'a' },
      { type: 'submit' },
      { type: 'open-command' },
      { type: 'type', text: 'b' },
      { type: 'submit' },
      { type: 'open-command' },
    );
    state = consoleReducer(state, { type: 'history', step: -1 });
    expect(state.input).toBe('b');
    state = consoleReducer(state, { type: 'history', step: -1 });
    expect(state.input).toBe('a');
    state = consoleReducer(state, { type: 'history', step: 1 });
    state = consoleReducer(state, { type: 'history', step: 1 });
    expect(state.input).toBe('');
  });

  it('asks before a kill, says cancelled on a no, and forgets the question on an answer or cancel', () => {
    const asked = run({ type: 'ask', line: 'kill 20% reset', question: 'sure?' });
    expect(asked).toMatchObject({ mode: 'confirm', pending: { line: 'kill 20% reset' } });
    expect(consoleReducer(asked, { type: 'answer', isYes: false })).toMatchObject({
      mode: 'keys',
      pending: null,
      message: { text: 'cancelled: kill 20% reset', isError: false },
    });
    expect(consoleReducer(asked, { type: 'answer', isYes: true })).toMatchObject({
      mode: 'keys',
      pending: null,
      message: null,
    });
  });

  it('completes command names', () => {
    expect(completeCommand('pro')).toBe('pro');
    expect(completeCommand('prob')).toBe('probe ');
    expect(completeCommand('prot')).toBe('protocol ');
    expect(completeCommand('re')).toBe('re');
    expect(completeCommand('rec')).toBe('reconnect ');
    expect(completeCommand('zzz')).toBe('zzz');
    expect(completeCommand('kill 2')).toBe('kill 2');
  });
});
