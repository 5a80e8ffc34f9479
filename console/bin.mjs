#!/usr/bin/env node
// The `sockstorm` executable: registers the TypeScript loader, then hands over to the CLI.
import { register } from 'tsx/esm/api';

// React's development build records every render into the performance timeline, which Node
// keeps forever: a console left open grew by megabytes a second. Users get the production build.
process.env.NODE_ENV ??= 'production';
register();
await import('./cli.ts');
