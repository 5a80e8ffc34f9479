/**
 * Tells an echo frame (an RTT probe, an application message: a JSON object whose `"t"` is not
 * a server op) from its bytes, without decoding them to a string or parsing them into objects.
 * The echo is the hot path of the server (every probe takes it), and decoding, `JSON.parse` and
 * re-encoding every frame made garbage on the path of every probe, which the collector then
 * paid for in stalls that showed in the RTT tail. An echo frame is sent back as the bytes that
 * came in.
 *
 * The answer is conservative: `true` only when `parseClientFrame` would say `echo` (the frame is
 * valid JSON, an object, its last top-level `"t"` a string other than `sub`, `unsub`, `pub`);
 * anything it is not sure of (an escape in a top-level key or in `"t"`'s value, nesting deeper
 * than {@link MAX_SCAN_DEPTH}) is `false`, and the caller parses the frame as before.
 */

/** Deepest nesting the scan follows; a deeper frame is left to the parser. */
export const MAX_SCAN_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const T = 0x74;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++;
  return i;
}

/** The end of the string that opens at `i` (its closing quote + 1), or -1 when it is not valid JSON. */
function skipString(b: Uint8Array, i: number): number {
  for (i++; i < b.length; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c !== BACKSLASH) continue;
    const e = b[++i];
    if (e === 0x75) {
      for (let k = 1; k <= 4; k++) if (!isHex(b[i + k])) return -1;
      i += 4;
    } else if (!isEscape(e)) return -1;
  }
  return -1;
}

// the one-letter escapes JSON allows after a backslash: " \\ / b f n r t
function isEscape(c: number | undefined): boolean {
  return (
    c === QUOTE || c === BACKSLASH || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74
  );
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && (isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));
}

function skipDigits(b: Uint8Array, i: number): number {
  while (i < b.length && isDigit(b[i]!)) i++;
  return i;
}

/** The end of the number that starts at `i`, or -1 when it is not a JSON number. */
function skipNumber(b: Uint8Array, i: number): number {
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (b[i] !== undefined && b[i]! >= 0x31 && b[i]! <= 0x39) i = skipDigits(b, i);
  else return -1;
  if (b[i] === 0x2e) {
    const end = skipDigits(b, i + 1);
    if (end === i + 1) return -1;
    i = end;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    const end = skipDigits(b, i);
    if (end === i) return -1;
    i = end;
  }
  return i;
}

function skipWord(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** The end of the value that starts at `i` (after spaces), or -1 when it is not valid JSON or nests too deep. */
function skipValue(b: Uint8Array, i: number, depth: number): number {
  i = skipSpace(b, i);
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === 0x7b || c === 0x5b) return depth >= MAX_SCAN_DEPTH ? -1 : skipContainer(b, i, depth + 1);
  if (c === 0x74) return skipWord(b, i, 'true');
  if (c === 0x66) return skipWord(b, i, 'false');
  if (c === 0x6e) return skipWord(b, i, 'null');
  return skipNumber(b, i);
}

/** The end of the object or array that opens at `i`, or -1. */
function skipContainer(b: Uint8Array, i: number, depth: number): number {
  const isObject = b[i] === 0x7b;
  const close = isObject ? 0x7d : 0x5d;
  i = skipSpace(b, i + 1);
  if (b[i] === close) return i + 1;
  for (;;) {
    if (isObject) {
      if (b[i] !== QUOTE) return -1;
      i = skipSpace(b, skipString(b, i));
      if (i < 0 || b[i] !== 0x3a) return -1;
      i++;
    }
    i = skipValue(b, i, depth);
    if (i < 0) return -1;
    i = skipSpace(b, i);
    if (b[i] === close) return i + 1;
    if (b[i] !== 0x2c) return -1;
    i = skipSpace(b, i + 1);
  }
}

// the ops the server itself handles (wire.ts's SERVER_OPS), as bytes
const SERVER_OPS = ['sub', 'unsub', 'pub'].map((op) => Uint8Array.from(op, (ch) => ch.charCodeAt(0)));

/** Whether the bytes from `from` to `to` (a string's contents) spell one of the server's ops. */
function isServerOp(b: Uint8Array, from: number, to: number): boolean {
  for (const op of SERVER_OPS) {
    if (to - from !== op.length) continue;
    let k = 0;
    while (k < op.length && b[from + k] === op[k]) k++;
    if (k === op.length) return true;
  }
  return false;
}

function hasBackslash(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] === BACKSLASH) return true;
  return false;
}

/** Whether `parseClientFrame` would echo this text frame; see the module's comment. Allocates nothing. */
export function isEchoFrame(b: Uint8Array): boolean {
  let i = skipSpace(b, 0);
  if (b[i] !== 0x7b) return false;
  // where the last top-level "t"'s string value lies; -1: none yet, or not a string
  let tFrom = -1;
  let tTo = -1;
  i = skipSpace(b, i + 1);
  if (b[i] === 0x7d) return false; // {}: no "t"
  for (;;) {
    if (b[i] !== QUOTE) return false;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0 || hasBackslash(b, i + 1, keyEnd - 1)) return false;
    const isT = keyEnd - i === 3 && b[i + 1] === T;
    i = skipSpace(b, keyEnd);
    if (b[i] !== 0x3a) return false;
    i = skipSpace(b, i + 1);
    const valueStart = i;
    i = skipValue(b, i, 1);
    if (i < 0) return false;
    if (isT) {
      const isString = b[valueStart] === QUOTE;
      tFrom = isString ? valueStart + 1 : -1;
      tTo = isString ? i - 1 : -1;
    }
    i = skipSpace(b, i);
    if (b[i] === 0x7d) break;
    if (b[i] !== 0x2c) return false;
    i = skipSpace(b, i + 1);
  }
  if (skipSpace(b, i + 1) !== b.length || tFrom < 0) return false;
  if (hasBackslash(b, tFrom, tTo)) return false;
  return !isServerOp(b, tFrom, tTo);
}
