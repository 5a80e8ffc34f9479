import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

/** The terminal's size, in cells. */
export interface TerminalSize {
  columns: number;
  /** Null when stdout does not say (not a terminal): the layout then assumes it fits. */
  rows: number | null;
}

/**
 * The terminal's size, re-read on every `resize`: Ink lays out again on a resize but does not
 * re-render the tree, so a view that sizes itself would keep the old size.
 */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => read(stdout));
  useEffect(() => {
    const onResize = (): void =>
      setSize((previous) => {
        const next = read(stdout);
        return next.columns === previous.columns && next.rows === previous.rows ? previous : next;
      });
    stdout.on('resize', onResize);
    onResize();
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

function read(stdout: NodeJS.WriteStream): TerminalSize {
  return { columns: stdout.columns || 80, rows: stdout.rows || null };
}
