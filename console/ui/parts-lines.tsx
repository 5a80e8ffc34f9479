/**
 * The fleet's parts under the generator line, as {@link layoutParts} placed them: a view only.
 * SAT, LOST and a saturated part's loop p99 are red; a lost part's name is dimmed.
 */
import { Box, Text } from 'ink';
import { PARTS_GAP, type PartCell, type PartsGrid } from './parts-layout.ts';

function Cell({ cell, padTo }: { cell: PartCell; padTo: number }) {
  const used = cell.reduce((n, piece) => n + piece.text.length, 0) + Math.max(0, cell.length - 1);
  return (
    <Text>
      {cell.map((piece, index) => (
        <Text
          // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional
          key={index}
          color={piece.tone === 'alarm' ? 'red' : undefined}
          bold={piece.tone === 'alarm'}
          dimColor={piece.tone === 'dim'}
        >
          {index > 0 ? ' ' : ''}
          {piece.text}
        </Text>
      ))}
      {' '.repeat(Math.max(0, padTo - used))}
    </Text>
  );
}

/** One line per row of `grid`, `width` wide with the same padding as the generator line. */
export function PartsLines({ grid, width }: { grid: PartsGrid; width: number }) {
  return (
    <Box flexDirection="column" width={width} paddingX={1}>
      {grid.rows.map((row, rowIndex) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
        <Text key={rowIndex} wrap="truncate">
          {row.map((cell, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
            <Text key={index}>
              {index > 0 ? ' '.repeat(PARTS_GAP) : ''}
              <Cell cell={cell} padTo={index < row.length - 1 ? grid.cellWidth : 0} />
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
