// Builds sockstorm's programs (the CLI, the bundled server, a shard) from the TypeScript
// sources into plain ES modules: `sockstorm` then runs on plain Node, without tsx's loader
// thread in every process. Dependencies stay in node_modules (not bundled), so a bundle must
// sit where Node resolves them from: dist/ or node_modules/.cache/ of the package. A packed
// package carries its bundles in dist/ (built by `npm pack`'s prepack, `node console/build.mjs
// --dist`), so an install never writes into its own folder, which may be read-only; a checkout
// builds once per change of its sources into its node_modules/.cache/sockstorm/. A build that
// cannot be made (no esbuild, an installed package whose sources changed, a read-only tree)
// returns null, and the caller runs the sources through tsx.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['console', 'target-server', 'tuning'];
/** The programs, by bundle name. */
export const ENTRIES = {
  cli: 'console/cli.ts',
  server: 'target-server/main.ts',
  shard: 'console/engine/parts/shard-main.ts',
};

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|tsx|mjs)$/.test(entry.name) ? [path] : [];
  });
}

// what the bundles depend on: every source file's path, size and mtime (the product's, and
// those beside the entries), and esbuild's version
// (by content, not mtime: a packed package's files all carry npm's fixed 1985 mtime)
function fingerprint(entries) {
  const hash = createHash('sha1').update(`${JSON.stringify(entries)}\n`);
  const dirs = new Set([...SOURCE_DIRS, ...Object.values(entries).map((path) => path.split('/')[0])]);
  for (const file of [...dirs].flatMap((d) => sources(join(ROOT, d))).sort())
    hash.update(`${relative(ROOT, file)}\n`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** Where a checkout's builds go (inside its own node_modules, where the bundles' imports resolve); null for an installed package, which builds nothing. */
export function cacheDir(root = ROOT) {
  return /[\\/]node_modules[\\/]/.test(root) ? null : join(root, 'node_modules', '.cache', 'sockstorm');
}

/** The package's own bundles (dist/, made when it was packed), when they were built from these very sources. */
function packedBundles(entries, print) {
  const dir = join(ROOT, 'dist');
  try {
    const build = JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8'));
    return build.fingerprint === print && Object.keys(entries).every((name) => existsSync(join(dir, `${name}.mjs`)))
      ? dir
      : null;
  } catch {
    return null;
  }
}

/**
 * The bundles' first line: where the package and the bundles are. A checkout's build knows
 * both; a packed package is built in one place and installed in another, so its bundles find
 * themselves (dist/) and the package (dist/..) from their own URL.
 */
function bannerFor(dir) {
  if (dir) return `globalThis.__SOCKSTORM_BUNDLE__ = ${JSON.stringify({ root: ROOT, dir })};`;
  return [
    "import { fileURLToPath as __sockstormPath } from 'node:url';",
    "globalThis.__SOCKSTORM_BUNDLE__ = { dir: __sockstormPath(new URL('.', import.meta.url)).replace(/[\\\\/]$/, ''), root: __sockstormPath(new URL('..', import.meta.url)).replace(/[\\\\/]$/, '') };",
  ].join('\n');
}

/** esbuild's version, from wherever Node resolves it for this package (a global install hoists it beside us). */
function esbuildVersion() {
  for (let dir = ROOT; ; dir = dirname(dir)) {
    try {
      return JSON.parse(readFileSync(join(dir, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
    } catch {
      if (dirname(dir) === dir) return null;
    }
  }
}

/**
 * The directory of bundles built from these sources: the package's own (dist/), or one in the
 * user's cache, built now unless it exists (`options.dir` builds into that directory instead,
 * as `npm pack` does into dist/). Resolves with null when none can be made.
 */
export async function ensureBundles(entries = ENTRIES, options = {}) {
  try {
    const print = fingerprint(entries);
    // an installed package runs what it was packed with: no esbuild there (a dev dependency)
    const packed = options.dir ? null : packedBundles(entries, print);
    if (packed) return packed;
    // esbuild itself is loaded only to build: a start from an existing build reads its version
    const version = esbuildVersion();
    if (version === null) return null;
    const cache = options.dir ? dirname(options.dir) : cacheDir();
    if (cache === null) return null;
    const dir = options.dir ?? join(cache, createHash('sha1').update(`${print} ${version}`).digest('hex').slice(0, 16));
    if (!options.dir && Object.keys(entries).every((name) => existsSync(join(dir, `${name}.mjs`)))) return dir;
    const esbuild = await import('esbuild');
    const temp = `${dir}.tmp-${process.pid}`;
    mkdirSync(cache, { recursive: true });
    // the build's esbuild service process would otherwise live as long as the run (a child
    // that the scale bench counted among the generator's processes)
    await esbuild
      .build({
        entryPoints: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, join(ROOT, path)])),
        outdir: temp,
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        packages: 'external',
        jsx: 'automatic',
        outExtension: { '.js': '.mjs' },
        chunkNames: 'chunk-[hash]',
        banner: { js: bannerFor(options.dir ? null : dir) },
        logLevel: 'silent',
      })
      .finally(() => esbuild.stop());
    writeFileSync(
      join(temp, 'build.json'),
      `${JSON.stringify({ builtAt: new Date().toISOString(), fingerprint: print, entries })}\n`,
    );
    if (options.dir) rmSync(dir, { recursive: true, force: true });
    // another process may have built the same sources meanwhile: either copy will do
    try {
      renameSync(temp, dir);
    } catch {
      rmSync(temp, { recursive: true, force: true });
    }
    if (!options.dir) prune(cache, dir);
    return existsSync(dir) ? dir : null;
  } catch (error) {
    // running from the sources still works; say why it is slower than it should be
    process.stderr.write(
      `sockstorm: could not build the bundles (${error?.message ?? error}); running the sources through tsx\n`,
    );
    return null;
  }
}

// builds of older sources go after a day (a process started from one may still run)
function prune(cache, keep) {
  const dayAgo = Date.now() - 24 * 3_600_000;
  for (const name of readdirSync(cache)) {
    const path = join(cache, name);
    if (path === keep) continue;
    try {
      if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
}

// `node console/build.mjs [--dist]`: build now (into the package's dist/ with --dist) and say where
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = await ensureBundles(ENTRIES, process.argv.includes('--dist') ? { dir: join(ROOT, 'dist') } : {});
  // on stderr: `npm pack --json` runs this first, and its stdout is the pack's JSON
  process.stderr.write(`${dir ?? 'no bundle could be built (is esbuild installed?)'}\n`);
  if (!dir) process.exit(1);
}
