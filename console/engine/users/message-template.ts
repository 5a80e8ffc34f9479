/**
 * The `messages` template, cut once into text and placeholders when the command sets it, so a
 * send joins a few strings instead of running a regular expression over the template (at tens of
 * thousands of sends a second, `renderTemplate` per send was a tenth of the send path's own
 * work). It fills `{{vu}}`, `{{now}}` (the intended send time) and `{{n}}` (messages sent so far)
 * as `renderTemplate` fills them, `{{env.NAME}}` from the run's template values (once, when it
 * is cut: the value never changes during a run) and `{{row.NAME}}` from the user's row of
 * `users from FILE` (at each send, so rows set after `messages` count); a placeholder with no
 * value is sent as written, as the other templates send it.
 */
import { TEMPLATE_PLACEHOLDER } from '../bundled/broadcast-trigger.ts';

/** `vu`, `now`, `n`, or a `row.NAME` key. */
type Slot = string;
const SLOTS: ReadonlySet<string> = new Set(['vu', 'now', 'n']);

/** Where a template's named values come from: the session's, read when the template is cut and at each send. */
export interface TemplateValues {
  /** `env.NAME` → value, the run's template values. */
  readonly values: Readonly<Record<string, string>>;
  /** User `vu`'s row (`row.NAME` → value), or undefined without rows. */
  rowOf(vu: number): Readonly<Record<string, string>> | undefined;
}

const NONE: TemplateValues = { values: {}, rowOf: () => undefined };

/** One compiled `messages` template. */
export class MessageTemplate {
  /** Literal text; slot `i` goes between `pieces[i]` and `pieces[i + 1]`. */
  private readonly pieces: string[] = [];
  private readonly slots: Slot[] = [];

  /** Cuts `text` at its `{{vu}}`, `{{now}}`, `{{n}}` and `{{row.NAME}}`; `{{env.NAME}}` becomes text. */
  constructor(
    readonly text: string,
    private readonly from: TemplateValues = NONE,
  ) {
    let piece = '';
    let at = 0;
    for (const match of text.matchAll(TEMPLATE_PLACEHOLDER)) {
      const key = match[1]!;
      const isRow = key.startsWith('row.');
      const value = from.values[key];
      if (!SLOTS.has(key) && !isRow && value === undefined) continue;
      piece += text.slice(at, match.index);
      at = match.index + match[0].length;
      if (value !== undefined && !isRow) {
        piece += value;
        continue;
      }
      this.pieces.push(piece);
      this.slots.push(key);
      piece = '';
    }
    this.pieces.push(piece + text.slice(at));
  }

  /** The frame user `vu` sends as the `n`th message, intended at `now` (epoch ms). */
  render(vu: number, now: number, n: number): string {
    const { pieces, slots } = this;
    let out = pieces[0]!;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      const value = slot === 'vu' ? vu : slot === 'now' ? now : slot === 'n' ? n : this.rowValue(vu, slot!);
      out += `${value}${pieces[i + 1]!}`;
    }
    return out;
  }

  /** User `vu`'s value of `row.NAME` `key`, or the placeholder as written when its row has none. */
  private rowValue(vu: number, key: string): string {
    return this.from.rowOf(vu)?.[key] ?? `{{${key}}}`;
  }
}
