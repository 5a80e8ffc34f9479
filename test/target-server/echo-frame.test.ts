import { describe, expect, it } from 'vitest';
import { parseClientFrame } from '../../target-server/contract/wire.ts';
import { isEchoFrame, MAX_SCAN_DEPTH } from '../../target-server/echo-frame.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const isEcho = (text: string): boolean => parseClientFrame(text).kind === 'echo';

// a seeded generator, so a failure names a frame that fails again
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ECHO_FRAMES = [
  '{"t":"rtt","id":1,"at":1764921600123.456}',
  '{"t":"rtt","id":0,"at":-0.5e+3}',
  ' {"t" : "msg" , "n" : [1, 2.5, -3E2, true, false, null, {"a": {}}, []] }\n',
  '{"data":{"t":"sub"},"t":"chat","text":"h\\u00e9llo \\"quoted\\" \\\\ \\/ \\b\\f\\n\\r\\t"}',
  '{"t":"sub","t":"not-sub"}',
  '{"t":"","x":"ünïcödé ✓"}',
  '{"t":"subs"}',
  '{"t":"pu"}',
];

const NOT_ECHO_FRAMES = [
  '{"t":"sub","topic":"a"}',
  '{"t":"unsub","topic":"a"}',
  '{"t":"pub","topic":"a","data":1}',
  '{"t":"rtt","t":"pub","topic":"a"}',
  '{"t":1}',
  '{"t":null}',
  '{"x":"rtt"}',
  '{}',
  '[]',
  '"rtt"',
  '{"t":"rtt"',
  '{"t":"rtt"}}',
  '{"t":"rtt",}',
  '{"t":"rtt","n":01}',
  '{"t":"rtt","n":1.}',
  '{"t":"rtt","n":.5}',
  '{"t":"rtt","n":1e}',
  '{"t":"rtt","n":tru}',
  '{"t":"rtt","s":"\\x"}',
  '{"t":"rtt","s":"\\u12G4"}',
  '{"t":"rtt","s":"a\tb"}',
  "{'t':'rtt'}",
  '\ufeff{"t":"rtt"}',
];

const BASES = [...ECHO_FRAMES, ...NOT_ECHO_FRAMES];

describe('echo-frame', () => {
  it('takes probes and application messages as echo frames, as the parser does', () => {
    for (const text of ECHO_FRAMES) {
      expect(isEcho(text), text).toBe(true);
      expect(isEchoFrame(bytes(text)), text).toBe(true);
    }
  });

  it('leaves server ops, frames that are not objects with a string "t", and invalid JSON to the parser', () => {
    for (const text of NOT_ECHO_FRAMES) expect(isEchoFrame(bytes(text)), text).toBe(false);
  });

  it('leaves a "t" spelled with escapes, in its key or its value, to the parser', () => {
    // "\u0073ub" is "sub" once parsed: only the parser can tell
    expect(isEcho('{"t":"\\u0073ub","topic":"a"}')).toBe(false);
    expect(isEchoFrame(bytes('{"t":"\\u0073ub","topic":"a"}'))).toBe(false);
    expect(isEchoFrame(bytes('{"\\u0074":"rtt"}'))).toBe(false);
    expect(isEchoFrame(bytes('{"t":"r\\u0074t"}'))).toBe(false);
  });

  it(`follows nesting to ${MAX_SCAN_DEPTH} levels and leaves deeper frames to the parser`, () => {
    const nested = (depth: number): string => `{"t":"x","d":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    expect(isEchoFrame(bytes(nested(MAX_SCAN_DEPTH)))).toBe(true);
    expect(isEchoFrame(bytes(nested(MAX_SCAN_DEPTH + 1)))).toBe(false);
    expect(isEcho(nested(MAX_SCAN_DEPTH + 1))).toBe(true);
  });

  it('agrees with the parser on 20,000 mutated frames, escapes aside, where it defers', () => {
    const next = random(23);
    const alphabet = '{}[]":,\\ tu0123456789.eE+-abnrflsp\n';
    let echoes = 0;
    for (let n = 0; n < 20_000; n++) {
      const base = BASES[Math.floor(next() * BASES.length)]!;
      const chars = [...base];
      for (let edits = 1 + Math.floor(next() * 3); edits > 0; edits--) {
        const at = Math.floor(next() * (chars.length + 1));
        const ch = alphabet[Math.floor(next() * alphabet.length)]!;
        const kind = next();
        if (kind < 0.4) chars.splice(at, 0, ch);
        else if (kind < 0.7) chars.splice(at, 1);
        else chars.splice(at, 1, ch);
      }
      const text = chars.join('');
      const isFast = isEchoFrame(bytes(text));
      // never an echo the parser would not echo; and every echo without an escape is seen
      if (isFast) expect(isEcho(text), text).toBe(true);
      else if (!text.includes('\\')) expect(isEcho(text), text).toBe(false);
      if (isFast) echoes++;
    }
    // the mutations keep many frames echoes, so both checks above are exercised, not vacuous
    expect(echoes).toBeGreaterThan(1000);
  });
});
