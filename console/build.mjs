// Builds sockstorm's programs (the CLI, the bundled server, a shard) from the TypeScript
// sources into plain ES modules under node_modules/.cache/sockstorm/<hash>/, once per change
// of the sources: `sockstorm` then runs on plain Node, without tsx's loader thread in every
// process. Dependencies stay in node_modules (not bundled). A build that cannot be made (no
// esbuild, a read-only tree) returns null, and the caller runs the sources through tsx.
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
function fingerprint(esbuildVersion, entries) {
  const hash = createHash('sha1').update(`${esbuildVersion}\n${JSON.stringify(entries)}\n`);
  const dirs = new Set([...SOURCE_DIRS, ...Object.values(entries).map((path) => path.split('/')[0])]);
  for (const file of [...dirs].flatMap((d) => sources(join(ROOT, d))).sort()) {
    const stat = statSync(file);
    hash.update(`${relative(ROOT, file)} ${stat.size} ${stat.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds `entries` (name -> source path, relative to the package) unless a build of the same
 * sources exists; resolves with the directory of the bundles, or null when none can be made.
 */
export async function ensureBundles(entries = ENTRIES) {
  // esbuild itself is loaded only to build: a start from an existing build reads its version
  let version;
  try {
    version = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
  try {
    const cache = join(ROOT, 'node_modules', '.cache', 'sockstorm');
    const dir = join(cache, fingerprint(version, entries));
    if (Object.keys(entries).every((name) => existsSync(join(dir, `${name}.mjs`)))) return dir;
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
        banner: { js: `globalThis.__SOCKSTORM_BUNDLE__ = ${JSON.stringify({ root: ROOT, dir })};` },
        logLevel: 'silent',
      })
      .finally(() => esbuild.stop());
    writeFileSync(join(temp, 'build.json'), `${JSON.stringify({ builtAt: new Date().toISOString(), entries })}\n`);
    // another process may have built the same sources meanwhile: either copy will do
    try {
      renameSync(temp, dir);
    } catch {
      rmSync(temp, { recursive: true, force: true });
    }
    prune(cache, dir);
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

// `node console/build.mjs`: build now and say where
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = await ensureBundles();
  console.log(dir ?? 'no bundle could be built (is esbuild installed?)');
  if (!dir) process.exit(1);
}
