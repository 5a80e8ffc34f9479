/**
 * Where sockstorm's own programs are, whichever way it runs: from its TypeScript sources
 * through tsx (the tests, a checkout being edited), or from the bundles `console/build.mjs`
 * makes at first start (what `sockstorm` runs: plain Node with no loader thread, about 22 MiB
 * less in every process, which the bundled servers and `--workers` multiply).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare global {
  // set by the bundles' first line: where the package and the bundles are
  var __SOCKSTORM_BUNDLE__: { root: string; dir: string } | undefined;
}

const bundle = globalThis.__SOCKSTORM_BUNDLE__;

/** The package's root directory (examples, bin). */
export const PACKAGE_ROOT = bundle?.root ?? fileURLToPath(new URL('..', import.meta.url));

/** The programs sockstorm starts as processes of their own. */
export type Program = 'server' | 'shard';

const SOURCES: Record<Program, string> = {
  server: 'target-server/main.ts',
  shard: 'console/engine/parts/shard-main.ts',
};

/** How to start one of sockstorm's programs with `process.execPath`: Node flags and the file. */
export function programEntry(name: Program): { execArgv: string[]; file: string } {
  if (bundle) return { execArgv: [], file: join(bundle.dir, `${name}.mjs`) };
  return { execArgv: ['--import', import.meta.resolve('tsx')], file: join(PACKAGE_ROOT, SOURCES[name]) };
}

/** Whether this process runs from the bundles. */
export const isBundled = bundle !== undefined;
