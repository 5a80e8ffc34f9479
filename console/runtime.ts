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

/**
 * V8 flags each program runs with. The server runs without V8's memory reducer, which runs
 * memory-reducing mark-compacts (`Mark-Compact (reduce)` in --trace-gc) some 8 s after a
 * heap-growing one, once allocation calms down: after a connection ramp, that is while the
 * probes run. Each was a 9-20 ms pause of the loop that echoes them (at 18,000 users the RTT
 * p99 1.2-1.3x and the max 1.5x a bare uWS app's; without it, and with the bare app's users
 * subscribed as the bundled server's are, 0.98x and 0.80x).
 * The server keeps the heap a ramp grew, tens of MB, rather than stall the users it is
 * measured with. A command-line flag: set from inside the process, it held in some runs only.
 */
export const PROGRAM_NODE_FLAGS: Record<Program, readonly string[]> = {
  server: ['--no-memory-reducer'],
  shard: [],
};

/** How to start one of sockstorm's programs with `process.execPath`: Node flags and the file. */
export function programEntry(name: Program): { execArgv: string[]; file: string } {
  const flags = PROGRAM_NODE_FLAGS[name];
  if (bundle) return { execArgv: [...flags], file: join(bundle.dir, `${name}.mjs`) };
  return { execArgv: [...flags, '--import', import.meta.resolve('tsx')], file: join(PACKAGE_ROOT, SOURCES[name]) };
}

/** Whether this process runs from the bundles. */
export const isBundled = bundle !== undefined;
