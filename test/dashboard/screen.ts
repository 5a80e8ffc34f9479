/**
 * A small terminal emulator for tests: replays what a program wrote to a terminal and returns
 * the screen as lines of text, the way a person would read it. It knows what blessed writes
 * (cursor moves, erases, scroll regions, inserted and deleted lines, the alternate screen and
 * the line-drawing charset) and ignores colours.
 */

const ACS: Record<string, string> = {
  q: '─',
  x: '│',
  l: '┌',
  k: '┐',
  m: '└',
  j: '┘',
  t: '├',
  u: '┤',
  w: '┬',
  v: '┴',
  n: '┼',
  '~': '·',
  a: '▒',
  '`': '◆',
};

/** The screen after `raw` was written to a terminal of cols × rows (the alternate screen while it is up). */
export function readScreen(raw: string, cols: number, rows: number): string[] {
  const blank = (): string[] => new Array<string>(cols).fill(' ');
  let grid = Array.from({ length: rows }, blank);
  let main: string[][] | null = null;
  let row = 0;
  let col = 0;
  let saved = [0, 0];
  let top = 0;
  let bottom = rows - 1;
  let isAcs = false;
  const clamp = (): void => {
    row = Math.max(0, Math.min(rows - 1, row));
    col = Math.max(0, Math.min(cols - 1, col));
  };
  const scroll = (at: number, by: number): void => {
    // by > 0: lines from `at` to the region's bottom move up (deleted at `at`); by < 0: down (inserted)
    for (let k = 0; k < Math.abs(by); k++) {
      if (by > 0) {
        grid.splice(bottom + 1, 0, blank());
        grid.splice(at, 1);
      } else {
        grid.splice(at, 0, blank());
        grid.splice(bottom + 1, 1);
      }
    }
  };
  const lineFeed = (): void => {
    if (row === bottom) scroll(top, 1);
    else row = Math.min(rows - 1, row + 1);
  };
  const csi = (params: string, final: string): void => {
    const isPrivate = params.startsWith('?');
    const n = params
      .replace('?', '')
      .split(';')
      .map((p) => (p === '' ? NaN : Number(p)));
    const a = Number.isNaN(n[0]!) ? 1 : n[0]!;
    if (isPrivate) {
      if (n[0] === 1049 && final === 'h') {
        main = grid;
        grid = Array.from({ length: rows }, blank);
      }
      if (n[0] === 1049 && final === 'l' && main) {
        grid = main;
        main = null;
      }
      return;
    }
    switch (final) {
      case 'H':
      case 'f':
        row = a - 1;
        col = (Number.isNaN(n[1] ?? NaN) ? 1 : n[1]!) - 1;
        break;
      case 'A':
        row -= a;
        break;
      case 'B':
        row += a;
        break;
      case 'C':
        col += a;
        break;
      case 'D':
        col -= a;
        break;
      case 'G':
      case '`':
        col = a - 1;
        break;
      case 'd':
        row = a - 1;
        break;
      case 'K': {
        const mode = Number.isNaN(n[0]!) ? 0 : n[0]!;
        for (let c = mode === 0 ? col : 0; c <= (mode === 1 ? col : cols - 1); c++) grid[row]![c] = ' ';
        break;
      }
      case 'J': {
        const mode = Number.isNaN(n[0]!) ? 0 : n[0]!;
        if (mode === 2 || mode === 3) grid = Array.from({ length: rows }, blank);
        else for (let r = row; r < rows; r++) for (let c = r === row ? col : 0; c < cols; c++) grid[r]![c] = ' ';
        break;
      }
      case 'r':
        top = (Number.isNaN(n[0]!) ? 1 : n[0]!) - 1;
        bottom = (Number.isNaN(n[1] ?? NaN) ? rows : n[1]!) - 1;
        row = 0;
        col = 0;
        break;
      case 'L':
        scroll(row, -a);
        break;
      case 'M':
        scroll(row, a);
        break;
      case 'S':
        scroll(top, a);
        break;
      case 'T':
        scroll(top, -a);
        break;
      case 'X':
        for (let c = col; c < Math.min(cols, col + a); c++) grid[row]![c] = ' ';
        break;
      case 'P':
        grid[row]!.splice(col, a);
        while (grid[row]!.length < cols) grid[row]!.push(' ');
        break;
      case '@':
        grid[row]!.splice(col, 0, ...new Array<string>(a).fill(' '));
        grid[row]!.length = cols;
        break;
      default:
        break; // colours, modes: not text
    }
    clamp();
  };
  const chars = [...raw];
  let isWrapPending = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\x1b') {
      const next = chars[i + 1];
      if (next === '[') {
        let j = i + 2;
        let params = '';
        while (j < chars.length && /[0-9;?>=!]/.test(chars[j]!)) params += chars[j++];
        while (j < chars.length && /[ -/]/.test(chars[j]!)) j++;
        csi(params, chars[j] ?? '');
        i = j;
      } else if (next === ']' || next === 'P') {
        let j = i + 2;
        while (j < chars.length && chars[j] !== '\x07' && !(chars[j] === '\x1b' && chars[j + 1] === '\\')) j++;
        i = chars[j] === '\x07' ? j : j + 1;
      } else if (next === '(' || next === ')') {
        if (next === '(') isAcs = chars[i + 2] === '0';
        i += 2;
      } else {
        if (next === '7') saved = [row, col];
        if (next === '8') [row, col] = saved as [number, number];
        if (next === 'D') lineFeed();
        if (next === 'M') {
          if (row === top) scroll(top, -1);
          else row--;
        }
        if (next === 'E') {
          col = 0;
          lineFeed();
        }
        if (next === 'c') {
          grid = Array.from({ length: rows }, blank);
          row = 0;
          col = 0;
        }
        i += 1;
      }
      isWrapPending = false;
      continue;
    }
    if (ch === '\r') {
      col = 0;
      isWrapPending = false;
      continue;
    }
    if (ch === '\n') {
      lineFeed();
      isWrapPending = false;
      continue;
    }
    if (ch === '\b') {
      col = Math.max(0, col - 1);
      isWrapPending = false;
      continue;
    }
    if (ch === '\t') {
      col = Math.min(cols - 1, (Math.floor(col / 8) + 1) * 8);
      continue;
    }
    if (ch === '\x0e') {
      isAcs = true;
      continue;
    }
    if (ch === '\x0f') {
      isAcs = false;
      continue;
    }
    if (ch < ' ') continue;
    if (isWrapPending) {
      col = 0;
      lineFeed();
      isWrapPending = false;
    }
    grid[row]![col] = isAcs ? (ACS[ch] ?? ch) : ch;
    if (col === cols - 1) isWrapPending = true;
    else col++;
  }
  return grid.map((line) => line.join('').trimEnd());
}
