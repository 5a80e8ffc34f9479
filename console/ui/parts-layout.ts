/**
 * The fleet's parts (shard processes, agents) laid out for the console, pure so that it is
 * tested without a terminal. A part is a cell of aligned columns (name, open/target, loop p99,
 * RSS, SAT); a lost part says LOST instead of figures. Cells go one a row when the rows allow,
 * side by side when they do not, and what still does not fit is counted in a last `+K more`
 * cell, with the lost and saturated parts kept in view first. A narrow cell drops whole
 * columns, never half a figure.
 */
import type { PartView } from '../engine/measure/snapshot.ts';
import { bytes, count, ms } from '../report/format.ts';

/** A piece of a cell, padded to its column. */
export interface PartPiece {
  text: string;
  /** `alarm` is drawn red and bold (SAT, LOST), `dim` is read past (a lost part's name). */
  tone?: 'alarm' | 'dim';
}

/** A cell: its pieces, drawn one space apart. */
export type PartCell = readonly PartPiece[];

/** The parts as rows of cells; every cell but a row's last is padded to `cellWidth`. */
export interface PartsGrid {
  rows: PartCell[][];
  cellWidth: number;
}

/** Cells between two cells of a row. */
export const PARTS_GAP = 2;

/** How much of a part a cell says, from the most to the least. */
interface Detail {
  nameMax: number;
  hasLoopLabel: boolean;
  hasRss: boolean;
  hasLoop: boolean;
}

const DETAILS: readonly Detail[] = [
  { nameMax: 12, hasLoopLabel: true, hasRss: true, hasLoop: true },
  { nameMax: 12, hasLoopLabel: false, hasRss: true, hasLoop: true },
  { nameMax: 8, hasLoopLabel: false, hasRss: true, hasLoop: true },
  { nameMax: 8, hasLoopLabel: false, hasRss: false, hasLoop: true },
  { nameMax: 8, hasLoopLabel: false, hasRss: false, hasLoop: false },
];

/**
 * Rows the parts may take out of the `spareRows` the event log would have: half, and at least
 * two (at 80x24 that leaves the log two).
 */
export function partsRowBudget(spareRows: number): number {
  return Math.max(2, Math.floor(spareRows / 2));
}

const widthOf = (cell: PartCell): number =>
  cell.reduce((n, piece) => n + piece.text.length, 0) + Math.max(0, cell.length - 1);
const widest = (texts: readonly string[]): number => Math.max(0, ...texts.map((text) => text.length));

/**
 * Names as short as `max`: a domain every name shares is dropped (`.internal`), and a name
 * still too long keeps its head and its end, where hosts and shards differ (`load…u-12`).
 */
export function shortNames(names: readonly string[], max: number): string[] {
  const domain = sharedDomain(names);
  return names.map((full) => {
    const name = full.slice(0, full.length - domain.length);
    if (name.length <= max) return name;
    const tail = Math.ceil((max - 1) / 2);
    return `${name.slice(0, max - 1 - tail)}…${name.slice(-tail)}`;
  });
}

/** The longest `.domain` ending that every one of several names has, and is more than. */
function sharedDomain(names: readonly string[]): string {
  if (names.length < 2) return '';
  const first = names[0]!;
  for (let at = first.indexOf('.'); at > 0; at = first.indexOf('.', at + 1)) {
    const suffix = first.slice(at);
    if (names.every((name) => name.length > suffix.length && name.endsWith(suffix))) return suffix;
  }
  return '';
}

/** Every part's cell at one level of detail, columns aligned over all of them. */
function cellsAt(parts: readonly PartView[], detail: Detail): PartCell[] {
  const live = parts.filter((p) => !p.isLost);
  const names = shortNames(
    parts.map((p) => p.name),
    detail.nameMax,
  );
  const nameWidth = widest(names);
  const counts = live.map((p) => `${count(p.open)}/${count(p.target)}`);
  const loops = live.map((p) => ms(p.loopDelayP99Ms));
  const rsses = live.map((p) => bytes(p.rssBytes));
  const [countWidth, loopWidth, rssWidth] = [widest(counts), widest(loops), widest(rsses)];
  return parts.map((part, index): PartCell => {
    const name = names[index]!.padEnd(nameWidth);
    if (part.isLost)
      return [
        { text: name, tone: 'dim' },
        { text: 'LOST', tone: 'alarm' },
      ];
    const cell: PartPiece[] = [
      { text: name },
      { text: `${count(part.open)}/${count(part.target)}`.padStart(countWidth) },
    ];
    if (detail.hasLoop)
      cell.push({
        text: `${detail.hasLoopLabel ? 'p99 ' : ''}${ms(part.loopDelayP99Ms).padStart(loopWidth)}`,
        ...(part.isSaturated ? { tone: 'alarm' as const } : {}),
      });
    if (detail.hasRss) cell.push({ text: bytes(part.rssBytes).padStart(rssWidth) });
    if (part.isSaturated) cell.push({ text: 'SAT', tone: 'alarm' });
    return cell;
  });
}

/** The parts to keep in view when only `slots` fit: lost ones, then saturated ones, then the first; in their order. */
function keptInView(parts: readonly PartView[], slots: number): number[] {
  const rank = (p: PartView): number => (p.isLost ? 0 : p.isSaturated ? 1 : 2);
  const order = parts.map((_, index) => index).sort((a, b) => rank(parts[a]!) - rank(parts[b]!) || a - b);
  return order.slice(0, slots).sort((a, b) => a - b);
}

/** The `+K more` cell for the parts left out, naming the lost and saturated among them when that fits `width`. */
function moreCell(hidden: readonly PartView[], width: number): PartCell {
  const lost = hidden.filter((p) => p.isLost).length;
  const saturated = hidden.filter((p) => p.isSaturated).length;
  const short = `+${hidden.length} more`;
  const flags = [lost > 0 ? `${lost} LOST` : '', saturated > 0 ? `${saturated} SAT` : ''].filter(Boolean).join(', ');
  if (!flags) return [{ text: short }];
  return short.length + flags.length + 3 <= width
    ? [{ text: short }, { text: `(${flags})`, tone: 'alarm' }]
    : [{ text: short, tone: 'alarm' }];
}

/** The cells at one level of detail and how many of them fit. */
interface Placement {
  detail: Detail;
  cells: PartCell[];
  cellWidth: number;
  perRow: number;
  capacity: number;
}

const roomiest = (list: readonly Placement[]): Placement | undefined =>
  list.reduce<Placement | undefined>((best, p) => (!best || p.capacity > best.capacity ? p : best), undefined);

/**
 * The parts in `width` columns and at most `maxRows` rows, with the most detail with which all
 * of them fit. When none fits them all, as many as fit with every figure (loop p99 and RSS; a
 * part's figures matter more than seeing every healthy one), the lost and saturated first,
 * then a `+K more` cell.
 */
export function layoutParts(parts: readonly PartView[], width: number, maxRows: number): PartsGrid {
  if (parts.length === 0 || maxRows < 1) return { rows: [], cellWidth: 0 };
  const placements = DETAILS.map((detail): Placement => {
    const cells = cellsAt(parts, detail);
    const cellWidth = Math.max(...cells.map(widthOf));
    // one a row reads as a table; side by side only when the rows run out
    const perRow = parts.length <= maxRows ? 1 : Math.max(1, Math.floor((width + PARTS_GAP) / (cellWidth + PARTS_GAP)));
    return { detail, cells, cellWidth, perRow, capacity: perRow * maxRows };
  });
  const fitting = placements.filter((p) => p.cellWidth <= width);
  const { cells, cellWidth, perRow, capacity } =
    fitting.find((p) => p.capacity >= parts.length) ??
    roomiest(fitting.filter((p) => p.detail.hasLoop && p.detail.hasRss)) ??
    roomiest(fitting) ??
    placements[placements.length - 1]!;
  let shown: PartCell[] = cells;
  if (parts.length > capacity) {
    const kept = keptInView(parts, capacity - 1);
    shown = [
      ...kept.map((index) => cells[index]!),
      moreCell(
        parts.filter((_, index) => !kept.includes(index)),
        cellWidth,
      ),
    ];
  }
  const rows: PartCell[][] = [];
  for (let i = 0; i < shown.length; i += perRow) rows.push(shown.slice(i, i + perRow));
  return { rows, cellWidth };
}
