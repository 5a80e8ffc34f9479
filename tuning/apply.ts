/**
 * Applies and restores the planned changes, journaled: every old value is written (and
 * synced) to the journal before the value is changed, and a journal that already holds a
 * setting keeps its first old value, so an apply interrupted between steps can be run again
 * and `restore` still puts back the originals.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { SYSCTLS, type SysctlName } from './facts.ts';
import type { Finding } from './plan.ts';

/** One journaled change. */
export interface JournalEntry {
  kind: 'sysctl' | 'nofile';
  name: string;
  old: string;
  new: string;
  pid?: number;
}

/** The journal file. */
export interface Journal {
  version: 1;
  entries: JournalEntry[];
  persistFile: string | null;
}

/** What apply or restore did to one setting. */
export interface ChangeOutcome {
  name: string;
  from: string;
  to: string;
  ok: boolean;
  message: string;
}

/** Where the journal lives unless `--journal` says otherwise. */
export function defaultJournalPath(): string {
  return process.env.SOCKSTORM_TUNE_JOURNAL ?? join(process.env.HOME ?? '/root', '.sockstorm', 'tune-journal.json');
}

/** Why a journal entry cannot be trusted, or null when it can: restore writes what it says, so it names only what apply writes. */
function entryProblem(entry: unknown): string | null {
  if (entry === null || typeof entry !== 'object') return 'is not an object';
  const e = entry as Record<string, unknown>;
  if (typeof e.old !== 'string' || typeof e.new !== 'string') return 'lacks its old or new value';
  if (e.kind === 'sysctl')
    return typeof e.name === 'string' && Object.hasOwn(SYSCTLS, e.name)
      ? null
      : `names a sysctl sockstorm does not set (${String(e.name).slice(0, 60)})`;
  if (e.kind === 'nofile')
    return Number.isInteger(e.pid) && (e.pid as number) > 0 ? null : 'is an fd limit without a process id';
  return 'is neither a sysctl nor an fd limit';
}

/** Reads a journal: null when there is none, an Error when it is corrupt (nothing in it is then trusted). */
export function readJournal(path: string): Journal | null | Error {
  if (!existsSync(path)) return null;
  let journal: Journal;
  try {
    journal = JSON.parse(readFileSync(path, 'utf8')) as Journal;
  } catch (error) {
    return new Error(`${path} is corrupt: ${(error as Error).message}`);
  }
  if (journal === null || typeof journal !== 'object' || journal.version !== 1 || !Array.isArray(journal.entries))
    return new Error(`${path} is not a sockstorm tune journal`);
  for (const [index, entry] of journal.entries.entries()) {
    const problem = entryProblem(entry);
    if (problem) return new Error(`${path} is corrupt: entry ${index + 1} ${problem}`);
  }
  if (journal.persistFile !== null && journal.persistFile !== undefined && typeof journal.persistFile !== 'string')
    return new Error(`${path} is corrupt: persistFile is not a path`);
  return journal;
}

function writeJournal(path: string, journal: Journal): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w');
  writeSync(fd, JSON.stringify(journal, null, 2));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, path);
}

function sysctlPath(procRoot: string, name: SysctlName): string {
  return join(procRoot, 'sys', SYSCTLS[name]);
}

function readNofile(pid: number): string {
  const text = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  return match ? `${match[1]}:${match[2]}` : 'unknown';
}

function setNofile(pid: number, value: string): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${value}`], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Options of {@link applyFindings}. */
export interface ApplyOptions {
  procRoot: string;
  journalPath: string;
  /** Process whose fd limit is raised. @default the parent (the shell that ran sockstorm) */
  pid: number;
  persistFile: string | null;
}

// fs.nr_open is the ceiling of any fd limit, so it goes first
function order(findings: Finding[]): Finding[] {
  const rank = (f: Finding): number => (f.id === 'fs.nr_open' ? 0 : f.apply?.kind === 'nofile' ? 1 : 2);
  return findings.filter((f) => f.apply).sort((a, b) => rank(a) - rank(b));
}

/** Applies every finding that has a fix; returns what happened to each. */
export function applyFindings(findings: Finding[], options: ApplyOptions): ChangeOutcome[] {
  const existing = readJournal(options.journalPath);
  if (existing instanceof Error) throw existing;
  const journal: Journal = existing ?? { version: 1, entries: [], persistFile: null };
  const outcomes: ChangeOutcome[] = [];
  const persisted: string[] = [];
  for (const finding of order(findings)) {
    const fix = finding.apply!;
    const name = fix.kind === 'sysctl' ? fix.name : 'nofile';
    const to = fix.kind === 'sysctl' ? fix.value : `${fix.value}:${fix.value}`;
    let from = '';
    try {
      from =
        fix.kind === 'sysctl'
          ? readFileSync(sysctlPath(options.procRoot, fix.name), 'utf8').trim().replace(/\s+/g, ' ')
          : readNofile(options.pid);
      if (!journal.entries.some((e) => e.name === name)) {
        journal.entries.push({
          kind: fix.kind,
          name,
          old: from,
          new: to,
          ...(fix.kind === 'nofile' ? { pid: options.pid } : {}),
        });
        writeJournal(options.journalPath, journal);
      }
      if (fix.kind === 'sysctl') {
        writeFileSync(sysctlPath(options.procRoot, fix.name), to);
        persisted.push(`${fix.name} = ${to}`);
      } else {
        setNofile(options.pid, to);
      }
      outcomes.push({ name, from, to, ok: true, message: 'applied' });
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === 'EPERM' ||
        /Operation not permitted/.test(String((error as { stderr?: Buffer }).stderr ?? ''))
          ? 'refused: not permitted (raising a hard fd limit needs CAP_SYS_RESOURCE)'
          : `failed: ${(error as Error).message.split('\n')[0]}`;
      outcomes.push({ name, from, to, ok: false, message: reason });
    }
  }
  if (options.persistFile && persisted.length > 0)
    outcomes.push(persist(options.persistFile, persisted, journal, options.journalPath));
  return outcomes;
}

/** Writes the drop-in, unless a file that is not ours is there: it is someone's settings, and restore would have deleted it. */
function persist(path: string, lines: string[], journal: Journal, journalPath: string): ChangeOutcome {
  const outcome = { name: path, from: existsSync(path) ? 'present' : 'absent', to: 'written' };
  try {
    if (existsSync(path) && !isOurDropIn(readFileSync(path, 'utf8')))
      return {
        ...outcome,
        ok: false,
        message: 'refused: a file sockstorm did not write is there; left as it was (give --persist another path)',
      };
    writeFileSync(path, `${DROP_IN_HEADER}\n${lines.join('\n')}\n`);
  } catch (error) {
    return { ...outcome, ok: false, message: `failed: ${(error as Error).message.split('\n')[0]}` };
  }
  journal.persistFile = path;
  writeJournal(journalPath, journal);
  return { ...outcome, ok: true, message: 'persisted' };
}

/** The first line of the drop-in `--persist` writes: restore removes a file only if it is ours. */
export const DROP_IN_HEADER = '# written by sockstorm tune apply --persist; sockstorm tune restore removes it';

/** Whether `text` is a drop-in this module wrote: the header, then only `name = value` lines. */
export function isOurDropIn(text: string): boolean {
  const [first, ...rest] = text.split('\n');
  return first === DROP_IN_HEADER && rest.every((line) => line === '' || /^[a-z0-9_.-]+ = [0-9 \t]+$/.test(line));
}

function removeDropIn(path: string): ChangeOutcome {
  const outcome = { name: path, from: 'present', to: 'removed' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...outcome, ok: true, message: 'already gone' };
    return { ...outcome, ok: false, message: `failed: ${(error as Error).message}` };
  }
  // a journal is a file anyone could edit: never delete what this module did not write
  if (!isOurDropIn(text))
    return { ...outcome, ok: false, message: 'refused: it is not a drop-in sockstorm wrote; left in place' };
  rmSync(path, { force: true });
  return { ...outcome, ok: true, message: 'removed' };
}

/** Puts back exactly what the journal holds, removes the drop-in (only ours), then the journal. */
export function restoreJournal(journalPath: string, procRoot: string): ChangeOutcome[] {
  const journal = readJournal(journalPath);
  if (journal === null)
    throw new Error(
      `no journal at ${journalPath}: nothing to restore (nothing was applied, or it was restored already)`,
    );
  if (journal instanceof Error) throw new Error(`${journal.message}; nothing was changed`);
  const outcomes: ChangeOutcome[] = [];
  for (const entry of [...journal.entries].reverse()) {
    try {
      if (entry.kind === 'sysctl') writeFileSync(sysctlPath(procRoot, entry.name as SysctlName), entry.old);
      else setNofile(entry.pid!, entry.old);
      outcomes.push({ name: entry.name, from: entry.new, to: entry.old, ok: true, message: 'restored' });
    } catch (error) {
      outcomes.push({
        name: entry.name,
        from: entry.new,
        to: entry.old,
        ok: false,
        message: `failed: ${(error as Error).message.split('\n')[0]}`,
      });
    }
  }
  if (journal.persistFile) outcomes.push(removeDropIn(journal.persistFile));
  if (outcomes.every((o) => o.ok)) rmSync(journalPath, { force: true });
  return outcomes;
}
