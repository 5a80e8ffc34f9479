import { describe, expect, it } from 'vitest';
import { MAX_ERROR_CLASSES, Metrics } from '../../../console/engine/measure/metrics.ts';
import { maskCredentials, printable, shownText } from '../../../console/engine/protocols/shown-text.ts';

describe('printable', () => {
  it('shows every C0, DEL and C1 control character as \\xNN and leaves the rest as it is', () => {
    expect(printable('\u001b]0;pwned\u0007')).toBe('\\x1b]0;pwned\\x07');
    expect(printable('a\u0000b\tc\nd\u007fe\u0085f\u009bg')).toBe('a\\x00b\\x09c\\x0ad\\x7fe\\x85f\\x9bg');
    expect(printable('prices · €5 · 株価 · 😀')).toBe('prices · €5 · 株価 · 😀');
  });

  it('returns the very string when there is nothing to change', () => {
    const text = 'all';
    expect(printable(text)).toBe(text);
  });

  it('cuts at the limit with an ellipsis, counting the escapes, and never inside a surrogate pair', () => {
    expect(printable('x'.repeat(10), 5)).toBe('xxxx…');
    expect(printable('\u001b'.repeat(10), 9)).toBe('\\x1b\\x1b…');
    expect(printable('ab😀cd', 4)).toBe('ab…');
    expect(printable('x'.repeat(1_000_000), 120)).toHaveLength(120);
  });
});

describe('maskCredentials', () => {
  it('masks the password of every URL in a text, and a lone user name', () => {
    expect(maskCredentials('ws://load:s3cret@127.0.0.1:8080/feed')).toBe('ws://load:***@127.0.0.1:8080/feed');
    expect(maskCredentials('target wss://TOKEN@host/ws and POST http://a:b@h/x')).toBe(
      'target wss://***@host/ws and POST http://a:***@h/x',
    );
  });

  it('leaves URLs without credentials alone, an @ in a path or query too', () => {
    for (const text of ['ws://127.0.0.1:8080/', 'ws://host/users/@me?to=a@b', 'mail me at a@b.c'])
      expect(maskCredentials(text)).toBe(text);
  });

  it('masks before it shows', () => {
    expect(shownText('target ws://u:p\u001b@h/')).toBe('target ws://u:***@h/');
  });
});

describe('error classes a target chooses', () => {
  it("stay bounded in count: past the limit a new class is counted as its family's .other", () => {
    const metrics = new Metrics();
    for (let code = 3000; code < 3000 + MAX_ERROR_CLASSES + 50; code++) metrics.countError(`close.${code}`);
    metrics.countError('close.3000');
    metrics.countError('handshake.http_503');
    expect(metrics.errors.size).toBe(MAX_ERROR_CLASSES + 2);
    expect(metrics.errors.get('close.3000')).toBe(2);
    expect(metrics.errors.get('close.other')).toBe(50);
    expect(metrics.errors.get('handshake.other')).toBe(1);
  });
});
