#!/usr/bin/env node
// The CLI is TypeScript, run through tsx (a dependency), so that it is the same code as the page's.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
