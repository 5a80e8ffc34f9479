import type { VictimChoice } from '../commands.ts';

/**
 * Picks `count` victims from `candidates`, which are ordered oldest first. Pure: randomness
 * is injected. `random` is a partial Fisher-Yates shuffle, so each is picked at most once.
 */
export function chooseVictims<T>(
  candidates: readonly T[],
  count: number,
  choice: VictimChoice,
  random: () => number = Math.random,
): T[] {
  const n = Math.max(0, Math.min(count, candidates.length));
  if (choice === 'oldest') return candidates.slice(0, n);
  if (choice === 'newest') return candidates.slice(candidates.length - n).reverse();
  const pool = candidates.slice();
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

/** How many of `open` users a P% action affects: rounded to the nearest whole user. */
export function shareOf(open: number, percent: number): number {
  return Math.round((open * percent) / 100);
}
