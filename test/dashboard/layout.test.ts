import { describe, expect, it } from 'vitest';
import { DASHBOARD_KEYS, INITIAL_WALL, keyLine, keysHelp, reduceWall } from '../../console/dashboard/keys.ts';
import { layoutFor, MIN_BOX, type Box, type WidgetName } from '../../console/dashboard/layout.ts';

function overlaps(a: Box, b: Box): boolean {
  return a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;
}

describe('dashboard layout', () => {
  it.each([
    [80, 24],
    [81, 25],
    [100, 30],
    [120, 36],
    [200, 60],
  ])('tiles a %ix%i terminal with every widget at least its readable size', (cols, rows) => {
    const layout = layoutFor(cols, rows);
    if (layout.kind !== 'wall') throw new Error(`${cols}x${rows} must draw the wall`);
    const boxes = Object.entries(layout.boxes) as Array<[WidgetName, Box]>;
    let area = 0;
    for (const [name, box] of boxes) {
      expect(box.width, name).toBeGreaterThanOrEqual(MIN_BOX[name].width);
      expect(box.height, name).toBeGreaterThanOrEqual(MIN_BOX[name].height);
      expect(box.left + box.width, name).toBeLessThanOrEqual(cols);
      expect(box.top + box.height, name).toBeLessThanOrEqual(rows - 1);
      area += box.width * box.height;
    }
    for (const [i, [a, boxA]] of boxes.entries())
      for (const [b, boxB] of boxes.slice(i + 1)) expect(overlaps(boxA, boxB), `${a} and ${b}`).toBe(false);
    // no gaps either: the widgets cover the screen but its last line, which is the key line's
    expect(area).toBe(cols * (rows - 1));
    expect(layout.keyLine).toEqual({ top: rows - 1, left: 0, width: cols, height: 1 });
  });

  it.each([
    [79, 24],
    [80, 23],
    [40, 10],
  ])('says a %ix%i terminal is too small instead of drawing', (cols, rows) => {
    expect(layoutFor(cols, rows)).toEqual({
      kind: 'too-small',
      cols,
      rows,
      message: `terminal too small: ${cols}x${rows}, needs 80x24`,
    });
  });
});

describe('dashboard keys and state', () => {
  it('derives the key line and --help from the one list of keys', () => {
    const help = keysHelp();
    for (const key of DASHBOARD_KEYS) {
      expect(help).toContain(`  ${key.label}  ${key.help}`);
      expect(keyLine(INITIAL_WALL, 80)).toContain(`${key.label} ${key.does}`);
    }
    expect(DASHBOARD_KEYS.find((k) => k.action === 'quit')!.keys).toEqual(['q', 'escape', 'C-c']);
  });

  it('pauses and resumes, says on the key line how the stream ended, and keeps the key line to the width', () => {
    let state = reduceWall(INITIAL_WALL, { type: 'attached', url: 'http://127.0.0.1:9464' });
    expect(keyLine(state, 80)).toBe(' q quit  p pause  │ attached to http://127.0.0.1:9464');
    state = reduceWall(state, { type: 'key', action: 'pause' });
    expect(keyLine(state, 80)).toBe(' q quit  p resume  │ PAUSED · attached to http://127.0.0.1:9464');
    state = reduceWall(state, { type: 'stream-ended', reason: 'the run finished', isOwnRun: true });
    expect(state).toMatchObject({ isPaused: false, isEnded: true });
    expect(keyLine(state, 80)).toBe(' q quit  p pause  │ the run finished; press q for its verdict');
    expect(
      keyLine(reduceWall(state, { type: 'stream-ended', reason: 'the stream broke (aborted)', isOwnRun: false }), 80),
    ).toContain('press q to quit');
    const stopping = reduceWall(state, { type: 'stopping' });
    expect(reduceWall(stopping, { type: 'key', action: 'pause' }).isPaused).toBe(false);
    expect(keyLine(stopping, 30)).toHaveLength(30);
  });
});
