import { describe, expect, it } from 'vitest';
import { parseLine } from '../../console/script/parse.ts';
import { actionFor, helpRows, hintLine, KEYMAP, nextPolicy, POLICY_CYCLE } from '../../console/ui/keymap.ts';

describe('keymap', () => {
  it('derives the hint line and the help rows from one table', () => {
    expect(hintLine()).toBe('+- 100  */ 1000  b broadcast  k kill 20%  r reconnect  : command  ? help  q quit');
    expect(
      helpRows()
        .filter((row) => row.keys !== '')
        .map((row) => row.keys),
    ).toEqual(['+ / -', '* / /', 'b', 'k', 'r', ':', '?', 'q']);
    for (const row of KEYMAP) for (const { key, action } of row.keys) expect(actionFor(key)).toBe(action);
    expect(actionFor('x')).toBeNull();
  });

  it('sends command lines the language accepts', () => {
    const lines = KEYMAP.flatMap((row) => row.keys.map((entry) => entry.action)).flatMap((action) =>
      'line' in action ? [action.line] : [],
    );
    for (const line of [...lines, ...POLICY_CYCLE]) expect(parseLine(line)?.kind).toBe('engine');
  });

  it('cycles the reconnect policy from the one in force, as the engine hands it out', () => {
    expect(nextPolicy({ kind: 'expo', minMs: 100, maxMs: 5000, jitter: 'full' })).toBe('reconnect off');
    expect(nextPolicy({ kind: 'off' })).toBe('reconnect immediate');
    expect(nextPolicy({ kind: 'immediate' })).toBe('reconnect fixed 1s');
    expect(nextPolicy({ kind: 'fixed', delayMs: 250 })).toBe('reconnect expo 100ms..5s full');
  });
});
