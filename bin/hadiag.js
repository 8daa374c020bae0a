#!/usr/bin/env node
// Launcher: the compiled CLI lives in dist/ (npm run build in a clone; a package has it from prepack).
// `run-node` and `announce` (long-running daemons) go straight to their own entries (no yargs, ora, cli-table3 or
// the other commands in their memory); their --help still comes from the CLI.
const args = process.argv.slice(2);
const direct = !args.some((a) => a === '--help' || a === '-h' || a === '--version');
const entry =
  direct && args[0] === 'run-node'
    ? import('../dist/effects/node/main.js').then((m) => m.main(args.slice(1)))
    : direct && args[0] === 'announce'
      ? import('../dist/commands/announce.js').then((m) => m.announceMain(args.slice(1)))
      : import('../dist/cli/main.js').then((m) => m.main(args));
entry.catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /dist\/(cli\/main|effects\/node\/main|commands\/announce)\.js/.test(String(err.message))) {
    console.error('hadiag: not built: dist/ is missing — run `npm run setup` (or `npm run build`)');
  } else {
    console.error(`hadiag: ${err && err.message ? err.message : err}`);
  }
  process.exit(2);
});
