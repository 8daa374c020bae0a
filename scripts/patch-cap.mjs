#!/usr/bin/env node
/**
 * Make cap (libpcap binding, 0.2.1) survive an interface going down, then rebuild it. Idempotent.
 *
 * When a captured interface goes down, the kernel flags the packet socket with ENETDOWN, libuv reports
 * the poll with an error status, and cap's `assert(status == 0)` aborts the whole process — a node would
 * die exactly when its link fails. The patch replaces the assertion: the poll is stopped and the Cap object
 * emits `pollerror` (libuv status), so hadiag closes that handle and opens a new one when the link is back.
 *
 * Run by `npm ci` (postinstall) and by scripts/setup.sh. `--check` only says whether the built addon has it.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const MARK = 'hadiag-pollerror-patch';
const require = createRequire(import.meta.url);

let capDir;
try {
  capDir = dirname(require.resolve('cap/package.json'));
} catch {
  console.error('patch-cap: cap is not installed (run npm ci)');
  process.exit(1);
}
const src = join(capDir, 'src', 'binding.cc');
const addon = join(capDir, 'build', 'Release', 'cap.node');
const built = () => existsSync(addon) && readFileSync(addon).includes('pollerror');

if (process.argv.includes('--check')) process.exit(built() ? 0 : 1);

const ORIGINAL = `    static void cb_packets(uv_poll_t* handle, int status, int events) {
      assert(status == 0);
      Pcap *obj = (Pcap*)handle->data;
      int packet_count;
`;
const PATCHED = `    static void cb_packets(uv_poll_t* handle, int status, int events) {
      Pcap *obj = (Pcap*)handle->data;
      int packet_count;
      if (status != 0) { // ${MARK}: was assert(status == 0), an abort when the interface goes down
        uv_poll_stop(handle);
        if (obj->closing)
          return obj->cleanup();
        Nan::HandleScope scope;
        Local<Value> argv[2] = {
          Nan::New<String>("pollerror").ToLocalChecked(),
          Nan::New<Number>(status)
        };
        obj->async_res.runInAsyncScope(
          Nan::New<Object>(obj->persistent()), Nan::New<Function>(obj->Emit), 2, argv);
        return;
      }
`;

let text = readFileSync(src, 'utf8');
if (!text.includes(MARK)) {
  if (!text.includes(ORIGINAL)) {
    console.error(`patch-cap: ${src} is not the cap 0.2.1 source hadiag knows; not patched (a link going down will abort capture processes)`);
    process.exit(1);
  }
  text = text.replace(ORIGINAL, PATCHED);
  writeFileSync(src, text);
}
if (built()) process.exit(0);

// npm rebuild runs cap's own install script (node-gyp) with npm's configuration (nodedir, python)
const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
const r = spawnSync(npm[0], [...npm[1], 'rebuild', 'cap', '--no-audit', '--no-fund'], { cwd: join(capDir, '..', '..'), stdio: ['ignore', 'ignore', 'inherit'] });
if (r.status !== 0 || !built()) {
  console.error(`patch-cap: rebuilding cap failed (exit ${r.status}); needs libpcap-dev, g++, make, python3`);
  process.exit(1);
}
console.error('patch-cap: cap rebuilt to survive interfaces going down');
