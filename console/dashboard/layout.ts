/**
 * Where the wall's widgets go, for a terminal of a given size. Pure: a 12×12 grid over the
 * screen less its last line (the key line), each widget placed at (row, col, rowSpan,
 * colSpan) as blessed-contrib's grid does, but turned into whole character boxes here so the
 * cells tile the screen exactly and a test can check that every widget is readable at 80×24.
 * Below the minimum the wall is not drawn at all: the screen says how small it is.
 */

/** The smallest terminal the wall is drawn in (the classic terminal). */
export const MIN_COLS = 80;
export const MIN_ROWS = 24;

/** The wall's widgets. */
export type WidgetName = 'fleet' | 'latency' | 'surge' | 'now' | 'events' | 'recovery' | 'errors' | 'generator';

/** A place on the 12×12 grid: row, col, rowSpan, colSpan. */
export type Cell = readonly [row: number, col: number, rowSpan: number, colSpan: number];

/** A widget's box in characters, border included. */
export interface Box {
  top: number;
  left: number;
  width: number;
  height: number;
}

/**
 * The grid: three charts over the top, the figures and the log in the middle, recovery, errors and the generator below.
 */
export const CELLS: Record<WidgetName, Cell> = {
  fleet: [0, 0, 5, 4],
  latency: [0, 4, 5, 4],
  surge: [0, 8, 5, 4],
  now: [5, 0, 4, 6],
  events: [5, 6, 4, 6],
  recovery: [9, 0, 3, 6],
  errors: [9, 6, 3, 3],
  generator: [9, 9, 3, 3],
};

/**
 * What each widget needs to be read, in characters with its border: a chart its axes and a
 * few points, a table its widest row and some rows. At 80×24 every widget gets at least this.
 */
export const MIN_BOX: Record<WidgetName, { width: number; height: number }> = {
  fleet: { width: 24, height: 9 },
  latency: { width: 24, height: 9 },
  surge: { width: 24, height: 9 },
  now: { width: 40, height: 7 },
  events: { width: 38, height: 7 },
  recovery: { width: 38, height: 6 },
  errors: { width: 18, height: 6 },
  generator: { width: 18, height: 6 },
};

/** The layout for one terminal size. */
export type Layout =
  | { kind: 'wall'; cols: number; rows: number; boxes: Record<WidgetName, Box>; keyLine: Box }
  | { kind: 'too-small'; cols: number; rows: number; message: string };

const GRID = 12;

// a grid line at `index` of `GRID`, in characters over `size`; adjacent cells share it, so
// they neither overlap nor leave a gap
function edge(index: number, size: number): number {
  return Math.round((index * size) / GRID);
}

/** The character box of a grid cell over an area of `cols` × `rows`. */
export function boxOf([row, col, rowSpan, colSpan]: Cell, cols: number, rows: number): Box {
  const top = edge(row, rows);
  const left = edge(col, cols);
  return { top, left, width: edge(col + colSpan, cols) - left, height: edge(row + rowSpan, rows) - top };
}

/** The wall at `cols` × `rows`, or why it cannot be drawn there. */
export function layoutFor(cols: number, rows: number): Layout {
  if (cols < MIN_COLS || rows < MIN_ROWS) {
    return {
      kind: 'too-small',
      cols,
      rows,
      message: `terminal too small: ${cols}x${rows}, needs ${MIN_COLS}x${MIN_ROWS}`,
    };
  }
  const gridRows = rows - 1;
  const boxes = {} as Record<WidgetName, Box>;
  for (const name of Object.keys(CELLS) as WidgetName[]) boxes[name] = boxOf(CELLS[name], cols, gridRows);
  return { kind: 'wall', cols, rows, boxes, keyLine: { top: gridRows, left: 0, width: cols, height: 1 } };
}
