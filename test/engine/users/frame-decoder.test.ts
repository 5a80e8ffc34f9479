import { describe, expect, it } from 'vitest';
import { decodeBuffer, decodeFrame } from '../../../console/engine/users/frame-decoder.ts';
import { encodeBroadcast } from '../../../target-server/contract/wire.ts';

describe('decodeFrame', () => {
  it('reads the bundled protocol and a real target by JSON paths', () => {
    expect(decodeFrame('{"t":"rtt","id":1,"at":5.5}', null)).toEqual({ kind: 'rtt', atMs: 5.5 });
    expect(decodeFrame('{"t":"bcast","topic":"a","seq":2,"ts":9,"data":1}', null)).toEqual({
      kind: 'fanout',
      topic: 'a',
      seq: 2,
      tsMs: 9,
    });
    expect(decodeFrame('{"m":{"at":"12"},"n":4,"ch":"x"}', { tsPath: 'm.at', seqPath: 'n', topicPath: 'ch' })).toEqual({
      kind: 'fanout',
      topic: 'x',
      seq: 4,
      tsMs: 12,
    });
    expect(decodeFrame('not json', null)).toEqual({ kind: 'other' });
  });
  it('reads a bundled broadcast from its head alone, exactly as JSON.parse would, and falls back when unsure', () => {
    const frame = encodeBroadcast('news', 42, 1795816000123.456, JSON.stringify('x'.repeat(5000)));
    expect(decodeBuffer(Buffer.from(frame), null)).toEqual({
      kind: 'fanout',
      topic: 'news',
      seq: 42,
      tsMs: 1795816000123.456,
    });
    expect(decodeBuffer(Buffer.from(frame), null)).toEqual(decodeFrame(frame, null));
    const escaped = encodeBroadcast('a"b', 7, 5, '1');
    expect(decodeBuffer(Buffer.from(escaped), null)).toEqual({ kind: 'fanout', topic: 'a"b', seq: 7, tsMs: 5 });
    expect(decodeBuffer(Buffer.from('{"t":"bcast","topic":"x","seq":"no","ts":1,"data":1}'), null)).toEqual({
      kind: 'other',
    });
    expect(decodeBuffer(Buffer.from('{"t":"rtt","id":1,"at":3}'), null)).toEqual({ kind: 'rtt', atMs: 3 });
  });

  it('decodes a frame from its bytes as it decodes its text: echoes unread, escapes, depth, paths', () => {
    const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
    const texts = [
      '{"t":"msg","n":12}',
      '{"t":"chat","body":"ünï ✓ 😀"}',
      '{"t":"rtt","id":1,"at":5.5}',
      '{"at":5.5,"t":"rtt"}',
      '{"t":"\\u0072tt","at":7}',
      '{"\\u0074":"bcast","topic":"a","seq":3,"ts":1}',
      '{"t":"bcast","topic":"a","seq":2,"ts":9,"data":1}',
      '{"t":"msg","word":"rtt"}',
      deep,
      `{"x":${deep}}`,
      `{"x":${deep},"t":"rtt","at":1}`,
      '[1,2,{"t":"rtt","at":1}]',
      '{"t":"msg"',
      '  {"t":"rtt","at":1}',
      'plain text',
      '',
      '{"m":{"at":"12"},"n":4,"ch":"x"}',
    ];
    const paths = { tsPath: 'm.at', seqPath: 'n', topicPath: 'ch' };
    for (const text of texts)
      for (const given of [null, paths])
        expect(decodeBuffer(Buffer.from(text), given)).toEqual(decodeFrame(text, given));
    expect(decodeBuffer(Buffer.from(`{"x":${deep}}`), null)).toEqual({ kind: 'bad' });
    expect(decodeBuffer(Buffer.from('{"t":"\\u0072tt","at":7}'), null)).toEqual({ kind: 'rtt', atMs: 7 });
  });
});
