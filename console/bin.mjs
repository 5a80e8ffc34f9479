#!/usr/bin/env node
// The `sockstorm` executable: runs the CLI from bundles built from the sources on first start
// (plain Node, no loader thread), or, where no bundle can be made, from the sources via tsx.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { ensureBundles } from './build.mjs';

// React's development build records every render into the performance timeline, which Node
// keeps forever: a console left open grew by megabytes a second. Users get the production build.
process.env.NODE_ENV ??= 'production';
const bundles = process.env.SOCKSTORM_NO_BUNDLE ? null : await ensureBundles();
if (bundles) {
  await import(pathToFileURL(join(bundles, 'cli.mjs')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli.ts');
}
