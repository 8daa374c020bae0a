#!/usr/bin/env node
// Launcher: the compiled CLI lives in dist/ (npm run build).
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('hadiag: not built: dist/cli/main.js is missing — run `npm run setup` (or `npm run build`)');
  } else {
    console.error(`hadiag: ${err && err.message ? err.message : err}`);
  }
  process.exit(2);
});
