/**
 * Adding up what several parts or servers counted: records joined key by key, and a figure
 * summed or taken at its largest over all of them. Pure. The exact merge of fleet parts
 * (parts/merge-parts.ts) and the stats of several bundled servers (bundled/admin-group.ts)
 * both fold with these.
 */

const add = (a: number, b: number): number => a + b;

/** Records of numbers joined key by key; a key in several takes `pick` of its values (by default their sum). */
export function joinRecords<T extends object>(records: readonly T[], pick: (a: number, b: number) => number = add): T {
  const out: Record<string, number> = {};
  for (const record of records) {
    for (const [key, value] of Object.entries(record))
      out[key] = key in out ? pick(out[key]!, value as number) : (value as number);
  }
  return out as T;
}

/** The sum of one figure over `items`. */
export function sumOf<T>(items: readonly T[], pick: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += pick(item);
  return total;
}

/**
 * The largest of one figure over `items`; 0 when there are none (every figure merged is a count, a time or a share).
 */
export function maxOf<T>(items: readonly T[], pick: (item: T) => number): number {
  let max = 0;
  for (const item of items) max = Math.max(max, pick(item));
  return max;
}
