import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const PROGRAMS = ['console', 'target-server', 'tuning'];

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(entry.name) ? [path] : [];
  });
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map(
    (m) => m[1]!,
  );
}

/** The files a file imports, as paths from the repository's root: static, type-only and dynamic imports alike. */
function importedFiles(file: string): string[] {
  const dynamic = [...readFileSync(file, 'utf8').matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return [...imports(file), ...dynamic]
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => normalize(join(dirname(file), spec)));
}

/** The first import cycle found among `files`, as the files around it, or null. */
function findCycle(files: string[]): string[] | null {
  const graph = new Map(files.map((file) => [file, importedFiles(file)]));
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): string[] | null => {
    if (onPath.has(file)) return [...path.slice(path.indexOf(file)), file];
    if (done.has(file) || !graph.has(file)) return null;
    path.push(file);
    onPath.add(file);
    for (const next of graph.get(file)!) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(file);
    done.add(file);
    return null;
  };
  for (const file of files) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

/** Every folder under `dir` with how many files it holds directly. */
function folderSizes(dir: string): Array<[string, number]> {
  const entries = readdirSync(dir, { withFileTypes: true });
  return [
    [dir, entries.filter((e) => e.isFile()).length],
    ...entries.filter((e) => e.isDirectory()).flatMap((e) => folderSizes(join(dir, e.name))),
  ];
}

/** Expects no file of `files` to import a file under any of `folders`. */
function expectNoImportOf(files: string[], folders: string[]): void {
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    for (const imported of importedFiles(file)) {
      for (const folder of folders)
        expect(imported.startsWith(`${folder}/`), `${file} imports ${imported}`).toBe(false);
    }
  }
}

describe('module boundaries', () => {
  it('keeps the engine and the script runner free of ink, react, the UI and uWebSockets.js', () => {
    const files = [...sources('console/engine'), ...sources('console/script'), ...sources('console/report')];
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const spec of imports(file)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(
          /^(ink|react|uWebSockets\.js|blessed|blessed-contrib)(\/|$)|\/(ui|dashboard)\//,
        );
      }
    }
  });

  it('never puts Ink and blessed in one process: the console UI and the dashboard import nothing of each other', () => {
    for (const file of sources('console/ui')) {
      for (const spec of imports(file)) expect(spec, file).not.toMatch(/^blessed|\/dashboard\//);
    }
    for (const file of sources('console/dashboard')) {
      for (const spec of imports(file)) expect(spec, file).not.toMatch(/^(ink|react)(\/|$)|\/ui\//);
    }
  });

  it('lets only target-server/contract/ be imported from the console, and target-server import nothing of ours', () => {
    for (const file of sources('console')) {
      for (const spec of imports(file).filter((s) => s.includes('target-server/'))) {
        expect(spec, file).toMatch(/target-server\/contract\/[a-z-]+\.ts$/);
      }
    }
    for (const file of sources('target-server')) {
      for (const spec of imports(file)) expect(spec, file).not.toMatch(/(console|tuning)\//);
    }
  });

  it('keeps the contract belonging to no one program: target-server/contract/ imports nothing but Node itself', () => {
    const contract = sources('target-server/contract');
    expect(contract.length).toBeGreaterThan(2);
    for (const file of contract) {
      for (const spec of imports(file)) expect(spec, `${file} imports ${spec}`).toMatch(/^node:/);
    }
  });

  it('keeps tuning standing alone: it imports nothing of the console, and the engine nothing of tuning', () => {
    const tuning = sources('tuning');
    expect(tuning.length).toBeGreaterThan(3);
    for (const file of tuning) {
      for (const spec of imports(file)) expect(spec, `${file} imports ${spec}`).not.toMatch(/console\//);
    }
    for (const file of sources('console/engine')) {
      for (const spec of imports(file)) expect(spec, `${file} imports ${spec}`).not.toMatch(/tuning\//);
    }
  });

  it(
    'runs imports one way: the engine hands out figures and imports nothing of the report, the ' +
      'verdict, the script runner, the commands or the screens',
    () => {
      expectNoImportOf(sources('console/engine'), [
        'console/report',
        'console/verdict',
        'console/script',
        'console/commands',
        'console/compare',
        'console/ui',
        'console/dashboard',
        'tuning',
      ]);
    },
  );

  it('runs imports one way: the report and the verdict import nothing of the script runner or the commands', () => {
    expectNoImportOf(
      [...sources('console/report'), ...sources('console/verdict')],
      ['console/script', 'console/commands'],
    );
    expectNoImportOf(sources('console/verdict'), ['console/report']);
  });

  it('has no import cycle between files (type-only and dynamic imports count)', () => {
    const files = PROGRAMS.flatMap(sources);
    expect(files.length).toBeGreaterThan(100);
    expect(findCycle(files)).toBeNull();
  });

  it('finds a cycle where there is one, through a type-only and a dynamic import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockstorm-cycle-'));
    const [a, b, c] = ['a.ts', 'b.ts', 'c.ts'].map((name) => join(dir, name)) as [string, string, string];
    writeFileSync(a, "import type { B } from './b.ts';\nexport type A = B;\n");
    writeFileSync(b, "export type B = number;\nexport const load = () => import('./a.ts');\n");
    writeFileSync(c, "import type { B } from './b.ts';\nexport type C = B;\n");
    expect(findCycle([c, a, b])).toEqual([b, a, b]);
    expect(findCycle([c, b])).toBeNull();
  });

  it('holds no more than 25 files flat in any source folder', () => {
    for (const [folder, files] of PROGRAMS.flatMap(folderSizes)) expect(files, folder).toBeLessThanOrEqual(25);
  });

  it('keeps uWebSockets.js inside one module', () => {
    const users = [...sources('console'), ...sources('target-server'), ...sources('tuning')].filter((file) =>
      readFileSync(file, 'utf8').includes("'uWebSockets.js"),
    );
    expect(users).toEqual([join('target-server', 'uws-engine.ts')]);
  });
});
