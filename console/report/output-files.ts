/**
 * The files a run writes (`--json`, `--ndjson`, `--report`, `report FILE`): checked before any
 * socket opens, so a typo in a path costs nothing, and written so that a write that still fails
 * at the end loses nothing: the data goes to a file beside the system's temporary files and
 * the run says where.
 */
import { closeSync, existsSync, openSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/**
 * Why `path` cannot be written, or null when it can (checked by
 * opening it, which root's permission bypass does not fool).
 */
export function unwritableReason(path: string): string | null {
  try {
    if (existsSync(path) && statSync(path).isDirectory()) return 'it is a directory';
    const isNew = !existsSync(path);
    closeSync(openSync(path, 'a'));
    if (isNew) unlinkSync(path);
    return null;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return e.code === 'ENOENT' ? 'its directory does not exist' : `${e.code ?? 'error'}: ${e.message}`;
  }
}

/** The first output path that cannot be written, as a message naming it; null when all can. */
export function checkOutputPaths(paths: Array<[what: string, path: string | null | undefined]>): string | null {
  for (const [what, path] of paths) {
    if (!path) continue;
    const reason = unwritableReason(path);
    if (reason) return `cannot write ${what} ${path}: ${reason}; nothing was run`;
  }
  return null;
}

/** Where a write went: the path asked for, or a fallback when that failed. */
export type WriteOutcome =
  | { ok: true; path: string }
  | { ok: false; path: string; fallback: string | null; reason: string };

/** Writes `text` to `path`; on failure writes it to a fallback file instead. Never throws. */
export function writeOutput(path: string, text: string): WriteOutcome {
  try {
    writeFileSync(path, text);
    return { ok: true, path };
  } catch (error) {
    const reason = (error as Error).message;
    const fallback = join(tmpdir(), `sockstorm-${process.pid}-${Date.now()}-${basename(path) || 'output'}`);
    try {
      writeFileSync(fallback, text);
      return { ok: false, path, fallback, reason };
    } catch {
      return { ok: false, path, fallback: null, reason };
    }
  }
}
