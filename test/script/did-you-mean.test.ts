import { describe, expect, it } from 'vitest';
import { closestWord, didYouMean, editDistance, maxEditsFor } from '../../console/script/did-you-mean.ts';
import { COMMAND_NAMES, parseLine, type ScriptError } from '../../console/script/parse.ts';

describe('did-you-mean', () => {
  it('counts insertions, deletions, substitutions and a swap of neighbours as one edit each', () => {
    expect(editDistance('await', 'await')).toBe(0);
    expect(editDistance('awiat', 'await')).toBe(1);
    expect(editDistance('rnu', 'run')).toBe(1);
    expect(editDistance('sise', 'size')).toBe(1);
    expect(editDistance('wait', 'await')).toBe(1);
    expect(editDistance('broadcst', 'broadcast')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('WorkMS', 'workMs')).toBe(0);
  });

  it('allows 1 edit up to 4 characters, 2 up to 8 and 3 beyond', () => {
    expect([1, 4, 5, 8, 9, 20].map(maxEditsFor)).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('names the closest known word within the cutoff, and nothing for a word that is no typo', () => {
    expect(closestWord('awiat', COMMAND_NAMES)).toBe('await');
    expect(closestWord('brodcast', COMMAND_NAMES)).toBe('broadcast');
    expect(closestWord('wrokMs', ['workMs', 'fanout'])).toBe('workMs');
    expect(closestWord('explode', COMMAND_NAMES)).toBeNull();
    // two edits on three letters is another word, not a typo
    expect(closestWord('xyz', ['run', 'tune'])).toBeNull();
    expect(closestWord('run', ['run'])).toBeNull();
    // a tie goes to the first listed
    expect(closestWord('ab', ['ac', 'ad'])).toBe('ac');
  });

  it('reads as a clause to append to an error', () => {
    expect(didYouMean('rnu', ['run', 'tune'])).toBe(' (did you mean "run"?)');
    expect(didYouMean('zzzzzz', ['run', 'tune'])).toBe('');
  });

  it('is what the command language says for a mistyped command, await word, policy, knob and broadcast word', () => {
    const reasonOf = (line: string): string => {
      try {
        parseLine(line);
      } catch (error) {
        return (error as ScriptError).reason;
      }
      throw new Error(`"${line}" parsed`);
    };
    expect(reasonOf('awiat 5s')).toMatch(/^unknown command "awiat" \(did you mean "await"\?\); commands are target/);
    expect(reasonOf('await opne 5')).toContain('"await opne" (did you mean "open"?)');
    expect(reasonOf('reconnect immediat')).toContain('unknown policy "immediat" (did you mean "immediate"?)');
    expect(reasonOf('server wrokMs 5')).toMatch(/^unknown knob "wrokMs" \(did you mean "workMs"\?\); knobs are workMs/);
    expect(reasonOf('broadcast 2 sise 64')).toBe('unexpected "sise" (did you mean "size"?)');
  });
});
