import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(entry.name) ? [path] : [];
  });
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('module boundaries', () => {
  it('keeps the engine and the script runner free of ink, react, the UI and uWebSockets.js', () => {
    const files = [...sources('console/engine'), ...sources('console/script'), ...sources('console/report')];
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const spec of imports(file)) {
        expect(spec, `${file} imports ${spec}`).not.toMatch(/^(ink|react|uWebSockets\.js|blessed|blessed-contrib)(\/|$)|\/(ui|dashboard)\//);
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

  it('keeps uWebSockets.js inside one module', () => {
    const users = [...sources('console'), ...sources('target-server'), ...sources('tuning')].filter((file) =>
      readFileSync(file, 'utf8').includes("'uWebSockets.js"),
    );
    expect(users).toEqual([join('target-server', 'uws-engine.ts')]);
  });
});
