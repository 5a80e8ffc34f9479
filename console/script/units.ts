/**
 * Durations, rates, sizes and percentages as the command language writes them. Pure; each
 * returns null for text it does not accept, and the parser turns that into a located error.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `2s`, `1.5m`, `1h` → ms. A unit is required: a bare `5` is ambiguous. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  return match ? Number(match[1]) * DURATION_MS[match[2]!]! : null;
}

/** `100/s` or `100` → per second. */
export function parseRate(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text);
  return match ? Number(match[1]) : null;
}

/** `20%` or `20` → 20, within 0..100. */
export function parsePercent(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)%?$/.exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  return value <= 100 ? value : null;
}

const SIZE_BYTES: Record<string, number> = { '': 1, b: 1, kb: 1000, kib: 1024, mb: 1_000_000, mib: 1024 * 1024 };

/** `64`, `64B`, `1KiB`, `2kb` → bytes. */
export function parseSize(text: string): number | null {
  const match = /^(\d+)([a-z]*)$/i.exec(text);
  if (!match) return null;
  const factor = SIZE_BYTES[match[2]!.toLowerCase()];
  return factor === undefined ? null : Number(match[1]) * factor;
}

/** A non-negative integer count. */
export function parseCount(text: string): number | null {
  return /^\d+$/.test(text) ? Number(text) : null;
}
