#!/usr/bin/env node
// The moat command: a thin launcher for the compiled CLI in dist/. It only loads main() and
// sets the exit status; everything else (flags, errors, exit codes) lives in src/cli/.
let main;
try {
  ({ main } = await import('../dist/src/cli/main.js'));
} catch (e) {
  process.stderr.write(
    `moat: load the compiled CLI: ${e instanceof Error ? e.message : String(e)} (run \`npm run build\`)\n`,
  );
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
