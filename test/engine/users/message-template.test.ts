import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../console/engine/bundled/broadcast-trigger.ts';
import { MessageTemplate } from '../../../console/engine/users/message-template.ts';

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

  it('sends any other placeholder as written, env and row names too', () => {
    const template = new MessageTemplate('{{topic}} {{row.id}} {{env.TOKEN}} {{n}} {{size}}');
    expect(template.render(3, 4, 5)).toBe('{{topic}} {{row.id}} {{env.TOKEN}} 5 {{size}}');
    expect(template.text).toBe('{{topic}} {{row.id}} {{env.TOKEN}} {{n}} {{size}}');
  });
});
