/** Small pure formatters for the console's panels. */

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of the last `width` values, scaled to their maximum. */
export function sparkline(values: readonly number[], width: number): string {
  const tail = values.slice(-width);
  const max = Math.max(0, ...tail);
  if (max === 0) return BARS[0]!.repeat(tail.length);
  return tail.map((v) => BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))]).join('');
}

/** Milliseconds, short: `0.8ms`, `312ms`, `2.4s`; `—` when there is no figure. */
export function ms(value: number | null | undefined, hasData = true): string {
  if (!hasData || value === null || value === undefined) return '—';
  if (value >= 1000) return `${(value / 1000).toFixed(1)}s`;
  return value >= 100 ? `${value.toFixed(0)}ms` : `${value.toFixed(1)}ms`;
}

/** A count with k/M suffixes. */
export function count(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

/** Bytes per second or bytes, binary units. */
export function bytes(value: number): string {
  if (value >= 1048576) return `${(value / 1048576).toFixed(1)}MiB`;
  if (value >= 1024) return `${(value / 1024).toFixed(1)}KiB`;
  return `${Math.round(value)}B`;
}
