// `check … matches /re/` runs on V8's linear-time engine: a pattern that backtracks
// exponentially on the usual engine answers at once, patterns the linear engine cannot run are
// named with what to write instead, and subjects past the cap count as a fail. Pure.
import { describe, expect, it } from 'vitest';
import { linearRegexProblem, MAX_CHECK_SUBJECT_CHARS } from '../../../console/engine/users/linear-regex.ts';
import { compileCheck } from '../../../console/engine/users/session.ts';
import { parseScript, type ScriptErrors } from '../../../console/script/parse.ts';

describe('linear-regex', () => {
  it('answers /(a+)+$/ against 26 a and a ! (exponential on the backtracking engine) as no match', () => {
    const check = compileCheck({ name: 'evil', path: '.', op: 'matches', value: '(a+)+$' });
    expect(check(`${'a'.repeat(26)}!`)).toBe(false);
    expect(check(`${'a'.repeat(MAX_CHECK_SUBJECT_CHARS - 1)}!`)).toBe(false);
    expect(check('a'.repeat(26))).toBe(true);
  });

  it(`tests subjects up to ${MAX_CHECK_SUBJECT_CHARS} characters and counts a longer one as a fail`, () => {
    const check = compileCheck({ name: 'all-a', path: 'v', op: 'matches', value: '^a+$' });
    expect(check({ v: 'a'.repeat(MAX_CHECK_SUBJECT_CHARS) })).toBe(true);
    expect(check({ v: 'a'.repeat(MAX_CHECK_SUBJECT_CHARS + 1) })).toBe(false);
  });

  it('names what the linear engine cannot run, and what to write instead', () => {
    expect(linearRegexProblem('^price-[0-9]{1,16}$')).toBeNull();
    expect(linearRegexProblem('(a)\\1')).toMatch(/backreference.*write out the text/);
    expect(linearRegexProblem('(?<n>a)\\k<n>')).toMatch(/backreference/);
    expect(linearRegexProblem('(?=.*a).*b')).toMatch(/lookahead or lookbehind.*a check of its own/);
    expect(linearRegexProblem('(?<!x)y')).toMatch(/lookahead or lookbehind/);
    expect(linearRegexProblem('[0-9a-f]{32}')).toMatch(/more than 16 times.*\[0-9a-f\]\{16\}\[0-9a-f\]\{16\}/);
  });

  it('refuses such a check when the script is read, at its pattern, naming the check', () => {
    let error: ScriptErrors | null = null;
    try {
      parseScript('vus 1\ncheck twice name matches /(a)\\1/\n');
    } catch (e) {
      error = e as ScriptErrors;
    }
    expect(error).toMatchObject({ line: 2, column: 26 });
    expect(error!.reason).toBe(
      "check twice: /(a)\\1/ cannot run in linear time, so a target's message could freeze the run on " +
        'it: it uses a backreference (\\1, \\k<name>); write out the text it stands for',
    );
  });
});
