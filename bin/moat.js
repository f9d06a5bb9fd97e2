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
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Once the command has returned, nothing may keep this process alive: a forgotten child
// handle, socket or timer would hang podman and containerd, which wait for us to exit. Such a
// bug is reported (tests look for this line) and the process exits anyway.
setTimeout(() => {
  const held = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
  process.stderr.write(
    `moat: internal error: still holding ${held.join(', ') || 'handles'} after the command returned; exiting\n`,
  );
  process.exit(code);
}, 2000).unref();
