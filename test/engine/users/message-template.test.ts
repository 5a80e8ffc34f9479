import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../console/engine/bundled/broadcast-trigger.ts';
import { MessageTemplate } from '../../../console/engine/users/message-template.ts';
import { UserSession } from '../../../console/engine/users/session.ts';

describe('MessageTemplate', () => {
  it('fills {{vu}}, {{now}} and {{n}} exactly as renderTemplate does, each time it renders', () => {
    const templates = [
      '{"t":"msg","n":{{n}}}',
      '{{vu}}{{now}}{{n}}',
      'vu {{vu}} sent {{n}} at {{now}}, again {{vu}}/{{n}}',
      '{{{n}}}',
      'no placeholder at all',
      '',
      '{"unicode":"ünï {{vu}} ✓","n":{{ n }}}',
    ];
    for (const text of templates) {
      const template = new MessageTemplate(text);
      for (const [vu, now, n] of [
        [1, 1795816000123.456, 0],
        [9999, 0.5, 123_456_789],
      ] as const)
        expect(template.render(vu, now, n)).toBe(renderTemplate(text, { vu, now, n }));
    }
  });

  it('sends a placeholder with no value as written', () => {
    const template = new MessageTemplate('{{topic}} {{row.id}} {{env.TOKEN}} {{n}} {{size}}');
    expect(template.render(3, 4, 5)).toBe('{{topic}} {{row.id}} {{env.TOKEN}} 5 {{size}}');
    expect(template.text).toBe('{{topic}} {{row.id}} {{env.TOKEN}} {{n}} {{size}}');
  });

  it("fills {{env.NAME}} from the run's values and {{row.NAME}} from each user's row, as the session renders them", () => {
    const session = new UserSession();
    session.setValues({ 'env.TOKEN': 't0k$&en', 'env.EMPTY': '' });
    const text = '{"token":"{{env.TOKEN}}","e":"{{env.EMPTY}}","who":"{{row.name}}","vu":{{vu}},"x":"{{row.gone}}"}';
    const template = new MessageTemplate(text, session);
    // before any rows: a row name is sent as written
    expect(template.render(1, 0, 0)).toBe('{"token":"t0k$&en","e":"","who":"{{row.name}}","vu":1,"x":"{{row.gone}}"}');
    // rows set after the template was cut count at the next send
    session.setRows([{ name: 'ada' }, { name: 'bob' }]);
    for (const vu of [0, 1, 2, 7]) {
      const expected = session.render(text, { id: vu });
      expect(template.render(vu, 0, 0)).toBe(expected);
      expect(expected).toContain(`"who":"${vu % 2 === 0 ? 'ada' : 'bob'}"`);
    }
    // what is shown keeps the names, never the values
    expect(template.text).toBe(text);
  });
});
