/**
 * Did-you-mean: the known word closest to a mistyped one, or null when none is close enough to
 * be a typo rather than another word. Pure. The CLI (commands, options, tune actions, compare
 * variants), the command language (commands, `await` words, policies) and `server KNOB VALUE`
 * all ask this one function, so a suggestion reads and cuts off alike everywhere.
 */

/**
 * Edit distance between `a` and `b` (Damerau's restricted form: an insertion, a deletion, a
 * substitution or a swap of two neighbours each count 1), case-insensitive.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // three rows are enough for the swap: the one before the previous
  let before: number[] = [];
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      row.push(best);
    }
    before = previous;
    previous = row;
  }
  return previous[t.length]!;
}

/**
 * The most edits a word of `length` characters may be from a known one and still be its typo:
 * 1 for short words (a 3-letter word 2 edits away is any other 3-letter word), 2 up to 8
 * characters, 3 beyond.
 */
export const maxEditsFor = (length: number): number => (length <= 4 ? 1 : length <= 8 ? 2 : 3);

/** The known word closest to `word` within {@link maxEditsFor} its length; the first listed wins a tie. */
export function closestWord(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = maxEditsFor(word.length) + 1;
  for (const candidate of known) {
    if (candidate === word) continue;
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "await"?)` for a near word, '' otherwise: ready to append to an error. */
export function didYouMean(word: string, known: readonly string[]): string {
  const near = closestWord(word, known);
  return near === null ? '' : ` (did you mean "${near}"?)`;
}
