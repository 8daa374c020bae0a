#!/usr/bin/env node
// Launcher: the compiled CLI lives in dist/ (npm run build in a clone; a package has it from prepack).
// `run-node` goes straight to the daemon's entry (no yargs, ora or cli-table3 in a long-running node's memory);
// its --help still comes from the CLI.
const args = process.argv.slice(2);
const daemon = args[0] === 'run-node' && !args.some((a) => a === '--help' || a === '-h' || a === '--version');
const entry = daemon ? import('../dist/effects/node/main.js').then((m) => m.main(args.slice(1))) : import('../dist/cli/main.js').then((m) => m.main(args));
entry.catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /dist\/(cli|effects\/node)\/main\.js/.test(String(err.message))) {
    console.error('hadiag: not built: dist/ is missing — run `npm run setup` (or `npm run build`)');
  } else {
    console.error(`hadiag: ${err && err.message ? err.message : err}`);
  }
  process.exit(2);
});
