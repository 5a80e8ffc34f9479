/**
 * Text a target sent, read as JSON under a bound. Everything the engine reads out of a
 * target's messages (checks, probe replies, fan-out fields, the presets' own packets) comes
 * through here or through {@link nestsDeeperThan} before a parser of its own: V8 parses any
 * depth, but serialising the value again (a check's `==`, a preset's payload) recurses, and a
 * few kilobytes of `[[[[…` nested 10,000 deep overflow the stack. The size is bounded before
 * this by the frame limit (`--max-payload`) and, for packets that span frames, by the held
 * bytes budget. Pure.
 */

/** Deepest nesting of arrays and objects read in a target's message; deeper is a bad packet. */
export const MAX_TARGET_JSON_DEPTH = 128;

/** Read result of text that is not JSON (compared as text by checks). */
export const NOT_JSON: unique symbol = Symbol('not JSON');
/** Read result of JSON nested deeper than {@link MAX_TARGET_JSON_DEPTH}: not parsed. */
export const TOO_DEEP: unique symbol = Symbol('nested too deep');

/**
 * Whether `text` nests arrays or objects deeper than `max`, counting `[` and `{` outside
 * strings. Linear and iterative, so no depth overflows it; for valid JSON the count is
 * exact, and for anything else it is no lower than what a parser would reach before failing.
 */
export function nestsDeeperThan(text: string, max: number = MAX_TARGET_JSON_DEPTH): boolean {
  let depth = 0;
  let isInString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isInString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) isInString = false;
    } else if (c === 34) isInString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true;
    } else if ((c === 93 /* ] */ || c === 125) /* } */ && depth > 0) depth--;
  }
  return false;
}

/**
 * {@link nestsDeeperThan} over a text's UTF-8 bytes, without decoding them first: every
 * character it looks at (`"` `\\` `[` `{` `]` `}`) is ASCII, and no byte of another character
 * is (nor is a byte a decoder would replace), so the answer is the same as for the decoded text.
 */
export function bytesNestDeeperThan(bytes: Uint8Array, max: number = MAX_TARGET_JSON_DEPTH): boolean {
  let depth = 0;
  let isInString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (isInString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) isInString = false;
    } else if (c === 34) isInString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true;
    } else if ((c === 93 /* ] */ || c === 125) /* } */ && depth > 0) depth--;
  }
  return false;
}

/** Whether a text's first character can start a JSON value (what cannot is not parsed at all). */
function canStartJson(c: number): boolean {
  // { [ " - 0-9 t(rue) f(alse) n(ull), and leading whitespace
  return (
    c === 123 ||
    c === 91 ||
    c === 34 ||
    c === 45 ||
    (c >= 48 && c <= 57) ||
    c === 116 ||
    c === 102 ||
    c === 110 ||
    c === 32 ||
    c === 9 ||
    c === 10 ||
    c === 13
  );
}

/**
 * A target's text as a JSON value: the value, {@link NOT_JSON}, or {@link TOO_DEEP}. Never
 * throws; a value it returns is at most {@link MAX_TARGET_JSON_DEPTH} deep, so serialising
 * it again cannot overflow the stack.
 */
export function readTargetJson(text: string): unknown {
  if (text.length === 0 || !canStartJson(text.charCodeAt(0))) return NOT_JSON;
  if (nestsDeeperThan(text)) return TOO_DEEP;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}
