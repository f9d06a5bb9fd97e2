#!/usr/bin/env node
// The moat command: a thin launcher for the compiled CLI in dist/.
import { main } from '../dist/src/cli/main.js';
process.exitCode = await main(process.argv.slice(2));
