/**
 * The README as a newcomer reads it: its contents list and every link to a heading resolve,
 * its option tables say what each command's --help says (the flags and their defaults, spawned
 * once per command from the real CLI), its quick-start scripts parse as written, its exit code
 * table names every code a program returns, and it writes one install form.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseScript } from '../../console/script/parse.ts';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import { runCli } from '../helpers/run-cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BENCH_README = readFileSync(join(ROOT, 'bench/README.md'), 'utf8');

/** The lines outside fenced code blocks. */
function prose(markdown: string): string[] {
  let isCode = false;
  return markdown.split('\n').filter((line) => {
    if (line.startsWith('```')) isCode = !isCode;
    return !isCode && !line.startsWith('```');
  });
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6} (.+)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** Every `[text](#anchor)` and `[text](bench/README.md#anchor)` link in the prose. */
function links(markdown: string): string[] {
  return prose(markdown).flatMap((line) => [...line.matchAll(/\]\(([^)\s]*#[^)\s]+)\)/g)].map((m) => m[1]!));
}

/** The cells of a table row, `\|` kept inside a cell. */
function cells(row: string): string[] {
  return row
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** A README option table: the commands it names, and per flag the default it documents (null for none). */
interface OptionTable {
  commands: string[];
  rows: Map<string, string | null>;
}

/** The tables under `<!-- options: CMD … -->`, each `| option | default | what |`. */
function optionTables(markdown: string): OptionTable[] {
  const lines = markdown.split('\n');
  const tables: OptionTable[] = [];
  lines.forEach((line, index) => {
    const named = /^<!-- options: ([\w ]+) -->$/.exec(line);
    if (!named) return;
    expect(lines[index + 1], `the table under ${line}`).toBe('| option | default | what |');
    const rows = new Map<string, string | null>();
    for (const row of lines.slice(index + 3)) {
      if (!row.startsWith('|')) break;
      const [option, byDefault] = cells(row);
      const flag = /^`(--[\w-]+)/.exec(option!)?.[1];
      expect(flag, `a row under ${line}: ${row}`).toBeDefined();
      rows.set(flag!, byDefault === '—' ? null : (/^`([^`]+)`/.exec(byDefault!)?.[1] ?? byDefault!));
    }
    tables.push({ commands: named[1]!.trim().split(/\s+/), rows });
  });
  return tables;
}

/** The options a command's --help lists (not --help itself), each with its `(default: …)`, or null. */
function helpOptions(help: string): Map<string, string | null> {
  const block = help.split('\nOptions:\n')[1]!.split('\n\n')[0]!;
  const options = new Map<string, string | null>();
  let flag: string | null = null;
  let text = '';
  const close = (): void => {
    if (flag === null || flag === '--help') return;
    // commander wraps at 80 columns: read the words, not the lines
    const words = text.replace(/\s+/g, ' ');
    const byDefault = [...words.matchAll(/\(default: ((?:[^()]|\([^()]*\))*)\)/g)].at(-1)?.[1];
    options.set(flag, byDefault === undefined ? null : byDefault.replace(/^"(.*)"$/, '$1'));
  };
  for (const line of block.split('\n')) {
    const start = /^ {2}(?:-\w, )?(--[\w-]+)(.*)$/.exec(line);
    if (start) {
      close();
      flag = start[1]!;
      text = start[2]!;
    } else text += ` ${line}`;
  }
  close();
  return options;
}

describe('README.md', () => {
  const tables = optionTables(README);
  const commands = [...new Set(tables.flatMap((table) => table.commands))].sort();
  const helps = new Map<string, Map<string, string | null>>();

  beforeAll(async () => {
    // one --help a command, all at once: the slowest bound the wait
    const runs = await Promise.all(commands.map((command) => runCli([command, '--help'])));
    runs.forEach((run, i) => {
      expect(run.code, `${commands[i]} --help`).toBe(0);
      helps.set(commands[i]!, helpOptions(run.stdout));
    });
  });

  it('opens with a contents list that links every section, each to a heading', () => {
    const start = README.indexOf('\n## Contents\n');
    expect(start).toBeGreaterThan(0);
    expect(README.slice(0, start).split('\n## ').length, 'only the pitch before the contents').toBe(1);
    const list = README.slice(start).split('\n## ')[1]!;
    const listed = [...list.matchAll(/^- \[[^\]]+\]\(#([^)]+)\)$/gm)].map((m) => m[1]);
    const sections = prose(README)
      .filter((line) => line.startsWith('## ') && line !== '## Contents')
      .map((line) => [...anchors(line)][0]);
    expect(listed).toEqual(sections);
  });

  it('links only to headings that exist, here and in bench/README.md', () => {
    const own = anchors(README);
    const bench = anchors(BENCH_README);
    for (const link of links(README)) {
      const [file, anchor] = link.split('#') as [string, string];
      if (file === '') expect(own.has(anchor), link).toBe(true);
      else {
        expect(file, link).toBe('bench/README.md');
        expect(bench.has(anchor), link).toBe(true);
      }
    }
    for (const link of links(BENCH_README).filter((l) => l.startsWith('#')))
      expect(bench.has(link.slice(1)), `bench/README.md ${link}`).toBe(true);
    expect(links(README).length).toBeGreaterThan(20);
  });

  it("documents every command's options with the defaults its --help shows", () => {
    expect(commands).toEqual(['agent', 'compare', 'console', 'dashboard', 'demo', 'run', 'server', 'tune']);
    for (const command of commands) {
      const documented = new Map<string, string | null>();
      for (const table of tables.filter((t) => t.commands.includes(command)))
        for (const [flag, byDefault] of table.rows) {
          expect(documented.has(flag), `${command} ${flag} is in two tables`).toBe(false);
          documented.set(flag, byDefault);
        }
      const help = helps.get(command)!;
      expect([...documented.keys()].sort(), `${command}: the README's flags and --help's`).toEqual(
        [...help.keys()].sort(),
      );
      for (const [flag, byDefault] of documented)
        expect(byDefault, `${command} ${flag}: the README's default and --help's`).toBe(help.get(flag));
    }
  });

  it('has quick-start scripts that parse as written', () => {
    const quickStart = README.slice(README.indexOf('\n## Quick start\n'), README.indexOf('\n## The console\n'));
    const scripts = [...quickStart.matchAll(/```\n(#[\s\S]*?)```/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const script of scripts) {
      expect(() => parseScript(script), script).not.toThrow();
      expect(script, 'a first result has a threshold').toMatch(/^expect /m);
    }
    expect(quickStart).toMatch(/sockstorm run \S+\.storm/);
    expect(quickStart).toMatch(/--target ws:\/\//);
  });

  it('names every exit code a sockstorm program returns', () => {
    const table = README.slice(README.indexOf('\n### Exit codes\n'));
    for (const code of Object.values(EXIT)) expect(table, `exit ${code}`).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('writes one install form: sockstorm, with npx named once, and so do the examples', () => {
    expect(README).toContain('npm install -g sockstorm');
    expect(README.match(/npx sockstorm/g)).toHaveLength(1);
    const examples = join(ROOT, 'examples');
    const files = readdirSync(examples, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.storm'));
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) expect(readFileSync(join(examples, file), 'utf8'), file).not.toMatch(/\bnpx\b/);
  });
});
