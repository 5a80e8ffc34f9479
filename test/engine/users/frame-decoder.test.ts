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
});
