/** The console's own drawing helpers; figures are formatted by console/report/format.ts. */
import type { FanoutMode } from '../../target-server/contract/wire.ts';
import { ms } from '../report/format.ts';

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of the last `width` values, scaled to their maximum. */
export function sparkline(values: readonly number[], width: number): string {
  const tail = values.slice(-width);
  const max = Math.max(0, ...tail);
  if (max === 0) return BARS[0]!.repeat(tail.length);
  return tail.map((v) => BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))]).join('');
}

/**
 * A count in at most four cells, for the console's narrow panels (`950`, `9999`, `123k`,
 * `1.2M`): at 80x24 a figure must shorten, never be cut.
 */
export function short(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(Math.round(value));
  const sign = value < 0 ? '-' : '';
  if (abs < 10_000) return `${sign}${abs}`;
  if (abs < 999_500) return `${sign}${Math.round(abs / 1e3)}k`;
  if (abs < 9_950_000) return `${sign}${(abs / 1e6).toFixed(1)}M`;
  if (abs < 999_500_000) return `${sign}${Math.round(abs / 1e6)}M`;
  return `${sign}${(abs / 1e9).toFixed(abs < 9.95e9 ? 1 : 0)}G`;
}

/** Bytes in at most six cells (`1023B`, `9.2KiB`, `123KiB`, `1.3GiB`), as {@link short} is for counts. */
export function shortBytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = Math.abs(value);
  let unit = 0;
  while (scaled >= 1023.5 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  const digits = unit === 0 || scaled >= 9.95 ? 0 : 1;
  return `${value < 0 ? '-' : ''}${scaled.toFixed(digits)}${units[unit]}`;
}

/** A piece of a one-line readout; the lower `priority`, the sooner it gives way. */
export interface Segment {
  text: string;
  priority: number;
}

/**
 * The segments of a line that fit `width` with `gap` cells between them, in their order:
 * whole segments give way, lowest priority first (the last of equals first), so no figure is
 * ever cut in half.
 */
export function fitSegments<T extends Segment>(segments: readonly T[], width: number, gap = 2): T[] {
  const kept = [...segments];
  const widthOf = (list: readonly T[]): number =>
    list.reduce((sum, s) => sum + s.text.length, 0) + gap * Math.max(0, list.length - 1);
  while (kept.length > 1 && widthOf(kept) > width) {
    let drop = 0;
    for (let i = 1; i < kept.length; i++) if (kept[i]!.priority <= kept[drop]!.priority) drop = i;
    kept.splice(drop, 1);
  }
  return kept;
}

/**
 * A reconnect policy as the engine writes it, with its durations
 * as the formatter writes them (`expo 100ms..5.00s full`).
 */
export function policyLabel(policy: string): string {
  return policy.replace(/(\d+(?:\.\d+)?)ms\b/g, (_, value: string) => ms(Number(value)));
}

/**
 * The fan-out in force on the bundled server: `publish` on an engine without native pub/sub
 * (ws) runs the JS loop, so it says so (`publish=loop`) rather than promise what does not run.
 */
export function fanoutLabel(fanout: FanoutMode, isNative: boolean): string {
  return fanout === 'publish' && !isNative ? 'publish=loop' : fanout;
}
