import { describe, expect, it } from 'vitest';
import type { PartView } from '../../console/engine/measure/snapshot.ts';
import { layoutParts, PARTS_GAP, type PartsGrid, partsRowBudget, shortNames } from '../../console/ui/parts-layout.ts';
import { fixtureAgents, fixtureParts } from './fixtures.ts';

/** The grid as the terminal shows it, without colours. */
function text(grid: PartsGrid): string[] {
  return grid.rows.map((row) =>
    row
      .map((cell, index) => {
        const line = cell.map((piece) => piece.text).join(' ');
        return index < row.length - 1 ? line.padEnd(grid.cellWidth + PARTS_GAP) : line;
      })
      .join(''),
  );
}

const MIB = 1024 * 1024;
const shard = (index: number, open: number, extra: Partial<PartView> = {}): PartView => ({
  name: `shard ${index}`,
  open,
  target: open,
  isSaturated: false,
  loopDelayP99Ms: 1.5,
  rssBytes: 80 * MIB,
  isLost: false,
  ...extra,
});

describe('parts-layout', () => {
  it("gives the parts half the log's spare rows, and at least two", () => {
    expect(partsRowBudget(4)).toBe(2);
    expect(partsRowBudget(5)).toBe(2);
    expect(partsRowBudget(20)).toBe(10);
  });

  it('lays parts one a row, columns aligned, when the rows allow', () => {
    expect(text(layoutParts(fixtureParts(), 118, 10))).toEqual([
      'shard 0 334/334 p99  1.2ms 61.4MiB',
      'shard 1 333/333 p99 72.4ms 95.0MiB SAT',
      'shard 2 LOST',
    ]);
  });

  it('puts parts side by side when the rows run out', () => {
    expect(text(layoutParts(fixtureParts(), 78, 2))).toEqual([
      'shard 0 334/334 p99  1.2ms 61.4MiB      shard 1 333/333 p99 72.4ms 95.0MiB SAT',
      'shard 2 LOST',
    ]);
  });

  it("marks SAT, LOST and a saturated part's loop p99 as alarms, and dims a lost part's name", () => {
    const [fine, saturated, lost] = layoutParts(fixtureParts(), 118, 10).rows.map((row) => row[0]!);
    expect(fine!.every((piece) => piece.tone === undefined)).toBe(true);
    expect(saturated!.filter((piece) => piece.tone === 'alarm').map((piece) => piece.text)).toEqual([
      'p99 72.4ms',
      'SAT',
    ]);
    expect(lost).toEqual([
      { text: 'shard 2', tone: 'dim' },
      { text: 'LOST', tone: 'alarm' },
    ]);
  });

  it('drops the p99 label before it leaves a part out', () => {
    const parts = [
      shard(0, 1000),
      shard(1, 1000, { isSaturated: true, loopDelayP99Ms: 80 }),
      shard(2, 1000),
      shard(3, 1000),
    ];
    expect(text(layoutParts(parts, 78, 2))).toEqual([
      'shard 0 1000/1000  1.5ms 80.0MiB      shard 1 1000/1000 80.0ms 80.0MiB SAT',
      'shard 2 1000/1000  1.5ms 80.0MiB      shard 3 1000/1000  1.5ms 80.0MiB',
    ]);
  });

  it('keeps the lost and saturated parts in view, in their order, and counts the rest', () => {
    const grid = layoutParts(fixtureAgents(9, [2, 7], [5]), 78, 2);
    expect(text(grid)).toEqual([
      'loa…eu-3 1250/1250 88.0ms 140MiB SAT  loa…eu-6 LOST',
      'loa…eu-8 1250/1250 88.0ms 140MiB SAT  +6 more',
    ]);
  });

  it('names the lost and saturated parts among those left out', () => {
    expect(text(layoutParts(fixtureAgents(12, [0, 1, 2, 9], [3, 4]), 78, 2))).toEqual([
      'loa…eu-1 1250/1250 88.0ms 140MiB SAT  loa…eu-4 LOST',
      'loa…eu-5 LOST                         +9 more (3 SAT)',
    ]);
    expect(text(layoutParts(fixtureAgents(12, [0, 9], [1, 2, 3, 4]), 78, 2))).toEqual([
      'loa…eu-2 LOST                         loa…eu-3 LOST',
      'loa…eu-4 LOST                         +9 more (1 LOST, 2 SAT)',
    ]);
  });

  it('draws nothing without parts', () => {
    expect(layoutParts([], 78, 2)).toEqual({ rows: [], cellWidth: 0 });
  });

  it('shortens names by their shared domain first, then in the middle, keeping where they differ', () => {
    expect(shortNames(['gen-a.lab.example.com', 'gen-b.lab.example.com'], 12)).toEqual(['gen-a', 'gen-b']);
    expect(shortNames(['gen-a.lab.example.com', 'gen-b.edge.example.com'], 12)).toEqual(['gen-a.lab', 'gen-b.edge']);
    expect(shortNames(['loadgen-eu-west-12', 'loadgen-eu-west-13'], 8)).toEqual(['loa…t-12', 'loa…t-13']);
    // one name, or a name that is all domain, keeps what it has
    expect(shortNames(['worker.internal'], 20)).toEqual(['worker.internal']);
    expect(shortNames(['a.internal', '.internal'], 20)).toEqual(['a.internal', '.internal']);
  });
});
