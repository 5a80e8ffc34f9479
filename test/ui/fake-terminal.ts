/**
 * A fake terminal of a chosen size for Ink, like ink-testing-library's (whose stdout is always
 * 100 columns and has no rows): the real renderer draws into it, keys are written to its stdin,
 * and it can be resized. Frames are kept without their colour codes, as a person reads them.
 */
import { EventEmitter } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink';
import type { ReactElement } from 'react';

class FakeStdout extends EventEmitter {
  readonly frames: string[] = [];
  /** The last frame as Ink wrote it, colour codes and all. */
  raw = '';
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.raw = frame;
    this.frames.push(stripVTControlCharacters(frame));
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const { data } = this;
    this.data = null;
    return data;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

/** A rendered tree in a terminal of `columns` × `rows`. */
export interface FakeTerminal {
  lastFrame(): string;
  /**
   * The last frame as written to the terminal, before colour codes are taken out: what a terminal would have acted on.
   */
  rawFrame(): string;
  /** The last frame's lines. */
  lines(): string[];
  write(keys: string): void;
  resize(columns: number, rows: number): void;
  unmount(): void;
}

/** Renders `tree` with Ink into a terminal of `columns` × `rows`. */
export function renderInTerminal(tree: ReactElement, columns = 80, rows = 24): FakeTerminal {
  const stdout = new FakeStdout(columns, rows);
  const stdin = new FakeStdin();
  const instance = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new FakeStdout(columns, rows) as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const lastFrame = (): string => stdout.frames[stdout.frames.length - 1] ?? '';
  return {
    lastFrame,
    rawFrame: () => stdout.raw,
    lines: () => lastFrame().split('\n'),
    write: (keys) => stdin.write(keys),
    resize(newColumns, newRows) {
      stdout.columns = newColumns;
      stdout.rows = newRows;
      stdout.emit('resize');
    },
    unmount: () => {
      instance.unmount();
      instance.cleanup();
    },
  };
}
