/**
 * The one formatter of durations, bytes, counts, rates and shares: the summary, progress,
 * console, dashboard, report and advice all print figures through it, so one figure reads the
 * same everywhere. Pure. A missing figure is `—`, never 0.
 */

/** What every formatter prints for a figure that was not measured. */
export const NONE = '—';

/**
 * A duration given in ms: `0.42ms`, `8.3ms`, `312ms`, `2.45s`, `42.1s`, `3m05s`. Two or three
 * significant digits: enough to compare, few enough to read.
 */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  const abs = Math.abs(value);
  if (abs < 1) return `${value.toFixed(2)}ms`;
  if (abs < 100) return `${value.toFixed(1)}ms`;
  if (abs < 999.5) return `${value.toFixed(0)}ms`;
  if (abs < 9995) return `${(value / 1000).toFixed(2)}s`;
  if (abs < 59950) return `${(value / 1000).toFixed(1)}s`;
  const minutes = Math.floor(value / 60000);
  const seconds = Math.round((value - minutes * 60000) / 1000);
  return seconds === 60 ? `${minutes + 1}m00s` : `${minutes}m${String(seconds).padStart(2, '0')}s`;
}

/** Elapsed time as a clock: `0:07`, `12:30`, `1:02:03`. */
export function clock(valueMs: number): string {
  const total = Math.max(0, Math.floor(valueMs / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A count, short: `950`, `12.3k`, `1.2M`. */
export function count(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

/** Bytes in binary units: `512B`, `9.2KiB`, `692MiB`, `1.3GiB`. */
export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  const abs = Math.abs(value);
  if (abs >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(1)}GiB`;
  if (abs >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(abs >= 100 * 1024 ** 2 ? 0 : 1)}MiB`;
  if (abs >= 1024) return `${(value / 1024).toFixed(1)}KiB`;
  return `${Math.round(value)}B`;
}

/** A rate per second: `12/s`, `1.5k/s`. */
export function rate(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? NONE : `${count(value)}/s`;
}

/** A share 0..1 as a percentage: `12.5%`, `100%`, `0.02%`. */
export function percent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return NONE;
  const p = share * 100;
  if (p === 0 || p === 100) return `${p}%`;
  return `${p < 0.1 ? p.toFixed(2) : p.toFixed(1)}%`;
}

/** A plain figure, rounded for reading: `3`, `0.25`, `1234`. */
export function plain(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
}
