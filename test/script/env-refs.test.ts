import { describe, expect, it } from 'vitest';
import { envRefsIn, resolveEnvRefs } from '../../console/script/env-refs.ts';
import { parseScript } from '../../console/script/parse.ts';

describe('env-refs', () => {
  it('finds each {{env.NAME}} of a text with where it starts', () => {
    expect(envRefsIn('a {{env.TOKEN}} b {{env.user_2}} {{env.9x}} {{row.x}}')).toEqual([
      { name: 'TOKEN', index: 2 },
      { name: 'user_2', index: 18 },
    ]);
  });

  it('collects the values of the names the templates use, and only those', () => {
    const steps = parseScript(
      'connect {"token":"{{env.TOKEN}}"}\non open send {"u":"{{env.USER}}","t":"{{env.TOKEN}}"}\nvus 1\n',
    );
    const result = resolveEnvRefs(steps, [['--header', 'Bearer {{env.BEARER}}', true]], {
      TOKEN: 't0k',
      USER: 'ada',
      BEARER: 'b',
      OTHER: 'not asked for',
    });
    expect(result).toEqual({
      values: { 'env.TOKEN': 't0k', 'env.USER': 'ada', 'env.BEARER': 'b' },
      errors: [],
      flagErrors: [],
    });
    // the steps still hold the names, not the values
    expect(steps[0]).toMatchObject({ command: { template: '{"token":"{{env.TOKEN}}"}' } });
  });

  it('names an unset name at its line and column, and never says a value', () => {
    const steps = parseScript('vus 1\nmessages 1/s {"a":"{{env.SET}}","b":"{{env.UNSET}}"}\n');
    const result = resolveEnvRefs(steps, [['--header', '{{env.GONE}}', true]], { SET: 'hush-hush' });
    expect(result.errors.map((e) => [e.line, e.column, e.reason])).toEqual([
      [2, 38, '{{env.UNSET}} names UNSET, which is not set: export it before the run'],
    ]);
    expect(result.flagErrors).toEqual([
      '--header: {{env.GONE}} names GONE, which is not set: export it before the run',
    ]);
    expect(JSON.stringify(result.errors) + result.flagErrors.join('')).not.toContain('hush-hush');
  });

  it('refuses a name where its text is shown as given (a mark, a target, --broadcast-send)', () => {
    const steps = parseScript('vus 1\nmark deploy {{env.VERSION}}\n');
    const result = resolveEnvRefs(steps, [['--target', 'ws://h/{{env.PATH_PART}}', false]], {
      VERSION: '1',
      PATH_PART: 'p',
    });
    expect(result.errors.map((e) => [e.line, e.column])).toEqual([[2, 13]]);
    expect(result.errors[0]!.reason).toMatch(/^\{\{env\.VERSION\}\} is read only in templates \(messages, probe/);
    expect(result.flagErrors[0]).toMatch(/^--target: \{\{env\.PATH_PART\}\} is read only in templates/);
    expect(result.values).toEqual({});
  });
});
