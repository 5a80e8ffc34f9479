import { describe, expect, it } from 'vitest';
import { chooseVictims, shareOf } from '../../../console/engine/users/victims.ts';

describe('chooseVictims', () => {
  const users = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  it('takes the oldest or the newest first', () => {
    expect(chooseVictims(users, 3, 'oldest')).toEqual([1, 2, 3]);
    expect(chooseVictims(users, 3, 'newest')).toEqual([10, 9, 8]);
  });
  it('picks distinct random victims with injected randomness', () => {
    const picked = chooseVictims(users, 4, 'random', () => 0.7);
    expect(new Set(picked).size).toBe(4);
    expect(picked.every((u) => users.includes(u))).toBe(true);
  });
  it('rounds a percentage of open users to whole users and never exceeds the candidates', () => {
    expect(shareOf(100, 20)).toBe(20);
    expect(shareOf(7, 20)).toBe(1);
    expect(chooseVictims(users, 50, 'oldest')).toHaveLength(10);
  });
});
