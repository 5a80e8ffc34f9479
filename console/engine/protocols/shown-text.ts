/**
 * Text the engine shows but did not write: what a target sends (topics, close reasons, a
 * refusal's message) and the URLs a user gives. The shell passes every such string through
 * here once, where it enters a run's events, records and snapshot, so no renderer (the console,
 * the dashboard, the summary, the report, the metrics endpoint) has to remember to. Pure.
 */

/** The longest error class kept; a longer one is cut (classes are names, not messages). */
export const MAX_CLASS_CHARS = 64;

/** The longest topic kept in a broadcast record. */
export const MAX_TOPIC_CHARS = 120;

/** The longest event text kept. */
export const MAX_EVENT_CHARS = 500;

// C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F): what a terminal acts on instead of drawing
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/**
 * `text` fit for a terminal: each control character as `\xNN` (ESC is `\x1b`), cut at
 * `maxChars` with `…`. `\xNN` rather than U+FFFD: it says which byte the target sent, it is
 * ASCII (the same in every font and one column wide, where U+FFFD is ambiguous-width in some
 * terminals and would shift the console's frame). Returns `text` itself when it is already fit.
 */
export function printable(text: string, maxChars: number = MAX_EVENT_CHARS): string {
  let at = 0;
  while (at < text.length && !isControl(text.charCodeAt(at))) at++;
  let out = text;
  if (at < text.length) {
    out = text.slice(0, at);
    for (let i = at; i < text.length; i++) {
      const code = text.charCodeAt(i);
      out += isControl(code) ? `\\x${code.toString(16).padStart(2, '0')}` : text[i];
      if (out.length > maxChars) break;
    }
  }
  if (out.length <= maxChars) return out;
  let cut = maxChars - 1;
  // never leave half of a surrogate pair
  if (cut > 0 && out.charCodeAt(cut - 1) >= 0xd800 && out.charCodeAt(cut - 1) <= 0xdbff) cut--;
  return `${out.slice(0, cut)}…`;
}

// scheme://userinfo@ (userinfo without / ? # @ or whitespace): the credentials of a URL in any text
const CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s]+)@/gi;

/**
 * `text` with the credentials of every URL in it masked: `ws://user:***@host/`, and a lone
 * user name (often a token, as in `https://TOKEN@host/`) as `ws://***@host/`. For URLs a user
 * gave (the target, a broadcast trigger) wherever they are shown; the sockets still send them.
 */
export function maskCredentials(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(CREDENTIALS, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** Text for the event log and command answers: credentials masked, control characters shown, bounded. */
export function shownText(text: string, maxChars: number = MAX_EVENT_CHARS): string {
  return printable(maskCredentials(text), maxChars);
}
