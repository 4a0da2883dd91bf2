#!/usr/bin/env node
// The installed package runs the CLI built to JavaScript (dist-cli/, made by `npm run build:cli` before packing).
// A source checkout (src/ beside bin/; the package does not ship it) runs the TypeScript itself through tsx, a
// devDependency, so that tests and development never run a stale build.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
const tsx = existsSync(sources) ? await import('tsx/esm/api').catch(() => null) : null;
let main;
if (tsx) {
  tsx.register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../dist-cli/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
