#!/usr/bin/env node
/**
 * Apply patches/cap-0.2.1-poll-error.patch to the installed cap (the libpcap binding) and rebuild its addon,
 * so that an interface going down makes cap emit `pollerror` instead of aborting the process (the patch file
 * says why). The file is checked by sha256 before (cap 0.2.1 as published) and after (the reviewed result);
 * anything else stops the install with one line saying what to do. Idempotent.
 *
 * Run as hadiag's postinstall (npm ci in a clone, npm install -g of the package) and by scripts/setup.sh.
 * cap is resolved from hadiag's own folder, nested or hoisted. `--check` changes nothing: exit 0 when cap's
 * source carries the patch and its built addon has it, 1 otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPatch } from 'diff';

const CAP_VERSION = '0.2.1';
const PATCHED_FILE = 'src/binding.cc';
const SHA256_PUBLISHED = 'f5912602f66bb33d1381982c85234c3e3e6fccc4e26a77ef25d4169d0112cdbc';
const SHA256_PATCHED = '78859c98626df7ea2880d1ef54c62ea4bc7e9d8d2479111bd3c51c767d8af3d6';

const hadiagDir = fileURLToPath(new URL('..', import.meta.url));
const patchFile = join(hadiagDir, 'patches', `cap-${CAP_VERSION}-poll-error.patch`);

function fail(what, fix) {
  console.error(`patch-cap: ${what} — ${fix}`);
  process.exit(1);
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

let capDir;
try {
  capDir = dirname(createRequire(join(hadiagDir, 'package.json')).resolve('cap/package.json'));
} catch {
  fail(`cap is not installed where ${hadiagDir} can load it`, 'install hadiag with its dependencies (npm ci, or npm install -g as the README says)');
}
const capVersion = JSON.parse(readFileSync(join(capDir, 'package.json'), 'utf8')).version;
if (capVersion !== CAP_VERSION) {
  fail(`cap ${capVersion} at ${capDir} is not ${CAP_VERSION}, the version ${patchFile} is for`, `install cap ${CAP_VERSION} (package-lock.json pins it) or port the patch`);
}
const sourcePath = join(capDir, PATCHED_FILE);
const addon = join(capDir, 'build', 'Release', 'cap.node');
const source = readFileSync(sourcePath, 'utf8');
const sourceSha = sha256(source);
const addonPatched = () => existsSync(addon) && readFileSync(addon).includes('pollerror');

if (process.argv.includes('--check')) {
  const ok = sourceSha === SHA256_PATCHED && addonPatched();
  console.log(`patch-cap: ${capDir}: ${ok ? 'patched and built' : sourceSha === SHA256_PATCHED ? 'source patched, addon not rebuilt' : 'not patched'}`);
  process.exit(ok ? 0 : 1);
}

if (sourceSha === SHA256_PUBLISHED) {
  const patched = applyPatch(source, readFileSync(patchFile, 'utf8'));
  if (patched === false || sha256(patched) !== SHA256_PATCHED) {
    fail(`${patchFile} does not give the reviewed ${PATCHED_FILE} (sha256 differs)`, 'restore the patch file from git');
  }
  writeFileSync(sourcePath, patched);
} else if (sourceSha !== SHA256_PATCHED) {
  fail(`${sourcePath} has sha256 ${sourceSha}, neither cap ${CAP_VERSION} as published nor as patched`, `reinstall cap (rm -rf ${capDir}, then npm ci)`);
}
if (addonPatched()) process.exit(0);

// Inside an npm install npm names its own node-gyp and passes its configuration (nodedir, python) in the
// environment; run by hand, `npm rebuild cap` from the project holding cap gives the same.
const nodeGyp = process.env.npm_config_node_gyp;
const quiet = { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' };
const rebuild = nodeGyp
  ? spawnSync(process.execPath, [nodeGyp, 'rebuild'], { ...quiet, cwd: capDir })
  : spawnSync('npm', ['rebuild', 'cap', '--no-audit', '--no-fund'], { ...quiet, cwd: join(capDir, '..', '..') });
if (rebuild.status !== 0 || !addonPatched()) {
  console.error(String(rebuild.stderr ?? rebuild.error ?? '').split('\n').slice(-25).join('\n'));
  fail(`rebuilding cap in ${capDir} failed (exit ${rebuild.status})`, 'install libpcap-dev, g++, make and python3, then run this script again');
}
console.error('patch-cap: cap patched and rebuilt: an interface going down no longer aborts a capture');
