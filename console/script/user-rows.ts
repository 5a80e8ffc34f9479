/**
 * `users from FILE`: per-user data for templates (`{{row.NAME}}`), from a CSV file with a header
 * line or a JSON-lines file (one object a line). Read and checked before any socket: an
 * unreadable or malformed file, or a template naming a field the file lacks, is an error with
 * its place.
 */
import { resolve } from 'node:path';
import { ScriptError, type ScriptStep } from './parse.ts';
import { readInput } from './read-script.ts';

/** Parses one CSV line (quotes with "" escapes). */
function csvFields(line: string): string[] | null {
  // most lines quote nothing: a split, not a character at a time (70 MiB of rows took 30 s)
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) return null;
  out.push(field);
  return out;
}

/** The rows of a users file, or what is wrong with it (and on which line). */
export function parseUserRows(
  text: string,
  file: string,
): { rows: Array<Record<string, string>> } | { error: string; line: number } {
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => [l, i + 1] as const)
    .filter(([l]) => l.trim() !== '');
  if (lines.length === 0) return { error: `${file} is empty`, line: 1 };
  if (lines[0]![0].trimStart().startsWith('{')) {
    const rows: Array<Record<string, string>> = [];
    for (const [line, n] of lines) {
      try {
        const value = JSON.parse(line) as unknown;
        if (value === null || typeof value !== 'object' || Array.isArray(value))
          return { error: `${file}:${n} is not a JSON object`, line: n };
        rows.push(
          Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
        );
      } catch {
        return { error: `${file}:${n} is not JSON`, line: n };
      }
    }
    return { rows };
  }
  const header = csvFields(lines[0]![0]);
  if (!header || header.some((h) => !/^[\w-]+$/.test(h.trim())))
    return { error: `${file}:1 is not a CSV header of names (letters, digits, _ and -)`, line: 1 };
  const rows: Array<Record<string, string>> = [];
  for (const [line, n] of lines.slice(1)) {
    const fields = csvFields(line);
    if (!fields || fields.length !== header.length)
      return {
        error: `${file}:${n} has ${fields?.length ?? 'unbalanced'} fields, the header ${header.length}`,
        line: n,
      };
    rows.push(Object.fromEntries(header.map((h, i) => [h.trim(), fields[i]!])));
  }
  if (rows.length === 0) return { error: `${file} has a header and no rows`, line: 1 };
  return { rows };
}

/** Reads a users file. */
export function loadUserRows(file: string): { rows: Array<Record<string, string>> } | { error: string; line: number } {
  let text: string;
  try {
    text = readInput(file, 'users file');
  } catch (error) {
    return { error: (error as Error).message, line: 0 };
  }
  return parseUserRows(text, file);
}

/** The `{{row.NAME}}` fields a text uses. */
export function rowFieldsIn(text: string): string[] {
  return [...text.matchAll(/\{\{row\.([\w-]+)\}\}/g)].map((m) => m[1]!);
}

/**
 * Fills every `users from FILE` step with the file's rows and checks that every template of
 * the script names only fields the file has; returns the errors with their places.
 */
export function resolveUserFiles(
  steps: ScriptStep[],
  extraTemplates: string[] = [],
  baseDir = process.cwd(),
): ScriptError[] {
  const errors: ScriptError[] = [];
  let fields: Set<string> | null = null;
  for (const step of steps) {
    if (step.kind !== 'engine' || step.command.type !== 'users') continue;
    // a script's file names its neighbours: relative to the script, wherever it is run from
    const loaded = loadUserRows(resolve(baseDir, step.command.file));
    if ('error' in loaded) {
      errors.push(new ScriptError(step.line, step.text.indexOf(step.command.file) + 1, loaded.error));
      continue;
    }
    step.command.rows = loaded.rows;
    fields = new Set(Object.keys(loaded.rows[0]!));
  }
  for (const step of steps) {
    const used = rowFieldsIn(step.text);
    if (used.length === 0) continue;
    for (const name of used) {
      if (fields === null)
        errors.push(
          new ScriptError(
            step.line,
            step.text.indexOf(`{{row.${name}}}`) + 1,
            `{{row.${name}}} needs a users file: add "users from FILE" before it`,
          ),
        );
      else if (!fields.has(name))
        errors.push(
          new ScriptError(
            step.line,
            step.text.indexOf(`{{row.${name}}}`) + 1,
            `the users file has no field "${name}" (it has ${[...fields].join(', ')})`,
          ),
        );
    }
  }
  for (const text of extraTemplates) {
    for (const name of rowFieldsIn(text)) {
      if (fields !== null && !fields.has(name))
        errors.push(new ScriptError(1, 1, `an option names {{row.${name}}} but the users file has no field "${name}"`));
      if (fields === null)
        errors.push(new ScriptError(1, 1, `an option names {{row.${name}}}: the script needs "users from FILE"`));
    }
  }
  return errors;
}
