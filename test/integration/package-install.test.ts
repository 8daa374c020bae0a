/**
 * hadiag installs like a tool: `npm pack` (prepack builds dist/) and `npm install -g` of the tarball into a
 * temporary prefix with the install scripts allowed as the README says, then the installed `hadiag` runs
 * without the dev tools and its cap carries the poll-error patch. Needs the npm registry for the
 * dependencies. The pack runs in a copy of the work tree, so the tree's own dist/ stays as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const EXAMPLE = 'test/fixtures/heartbeat-3.0.6';
const CAP_PATCHED_SHA256 = /const SHA256_PATCHED = '([0-9a-f]{64})'/.exec(readFileSync(join(ROOT, 'scripts/patch-cap.mjs'), 'utf8'))![1]!;

/** The environment without what an enclosing `npm test` passes down (npm_config_*, npm_lifecycle_*, …). */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('npm pack → npm install -g: the installed hadiag runs, decodes the shipped capture and has the patched cap', { timeout: 240_000 }, (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'hadiag-package-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  const tree = join(tmp, 'tree');
  const skipped = new Set(['.git', 'node_modules', 'dist', 'captures']);
  cpSync(ROOT, tree, { recursive: true, filter: (src) => !skipped.has(relative(ROOT, src).split('/')[0]!) });
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], tree)) as { filename: string; files: { path: string }[] }[];
  const tarball = join(tmp, packed[0]!.filename);
  const shipped = packed[0]!.files.map((f) => f.path);
  assert.ok(shipped.includes('dist/cli/main.js') && shipped.includes('bin/hadiag.js'), 'the package has the built CLI');
  assert.ok(shipped.includes('patches/cap-0.2.1-poll-error.patch') && shipped.includes('scripts/patch-cap.mjs'), 'and what its install runs');
  assert.ok(shipped.includes(`${EXAMPLE}/hb-cycle.pcap`), 'and the example capture');
  const stray = shipped.filter((p) => /^(src|bench|\.ci)\/|^test\/(unit|integration)\/|\.map$/.test(p));
  assert.deepEqual(stray, [], 'no sources, tests, CI files or source maps');

  // As the README says: allow cap's build and hadiag's postinstall (a tarball is named by its absolute path).
  // --strict-allow-scripts makes any script left out of that list an install error; npm needs lib/ to exist.
  const prefix = join(tmp, 'prefix');
  mkdirSync(join(prefix, 'lib'), { recursive: true });
  run('npm', ['install', '-g', '--prefix', prefix, `--allow-scripts=cap,${tarball}`, '--strict-allow-scripts', '--no-audit', '--no-fund', tarball], tmp);
  const installed = join(prefix, 'lib', 'node_modules', 'hadiag');
  const hadiag = join(prefix, 'bin', 'hadiag');

  assert.equal(run(hadiag, ['--version'], tmp).trim(), VERSION);
  assert.match(run(hadiag, ['--help'], tmp), /hb-inspect/);
  // the long-running sidecar's own entry (no yargs): a usage error and an absent sidecar, one line each, exit 2
  const status = spawnSync(hadiag, ['announce', 'status', '--state-dir', join(tmp, 'no-sidecar')], { encoding: 'utf8' });
  assert.deepEqual([status.status, status.stderr.trim().split('\n').length], [2, 1], status.stderr);
  assert.match(status.stderr, /no announce sidecar is running here/);
  const usage = spawnSync(hadiag, ['announce', 'eth0', '--bogus'], { encoding: 'utf8' });
  assert.equal(usage.status, 2, usage.stderr);
  assert.match(usage.stderr, /^hadiag: unknown option --bogus/);
  const devTools = ['tsx', 'typescript', 'fast-check', 'dependency-cruiser'].filter((d) => existsSync(join(installed, 'node_modules', d)));
  assert.deepEqual(devTools, [], 'no dev tool installed');

  const example = join(installed, EXAMPLE);
  const inspectArgs = ['hb-inspect', '--read', join(example, 'hb-cycle.pcap'), '--authkeys', join(example, 'authkeys'), '--hacf', join(example, 'ha.cf')];
  const fromInstall = run(hadiag, inspectArgs, tmp);
  const fromTree = run(process.execPath, [join(tree, 'bin', 'hadiag.js'), ...inspectArgs], tmp);
  assert.match(fromInstall, /server1 .* status/);
  assert.equal(fromInstall, fromTree, 'the installed hadiag decodes the capture as the work tree does');

  const caps = readdirSync(join(installed, 'node_modules')).includes('cap') ? join(installed, 'node_modules', 'cap') : join(prefix, 'lib', 'node_modules', 'cap');
  const binding = createHash('sha256').update(readFileSync(join(caps, 'src', 'binding.cc'))).digest('hex');
  assert.equal(binding, CAP_PATCHED_SHA256, "the installed cap's source is the patched one");
  assert.match(run(process.execPath, [join(installed, 'scripts', 'patch-cap.mjs'), '--check'], tmp), /patched and built/);
});
