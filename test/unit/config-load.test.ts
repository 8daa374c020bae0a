import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeConfigDir, loadConfigDir } from '../../src/effects/config/load.js';
import { analyzeConfigTexts, configPaths } from '../../src/models/config/analysis.js';
import { formatDiagnostic, locationOf } from '../../src/models/config/diagnostics.js';
import { HadiagError } from '../../src/core/errors.js';

const fixtureDir = (p: string) => new URL(`../fixtures/config/${p}`, import.meta.url).pathname;

/** A private copy of a fixture directory with authkeys at mode 600 (git does not keep modes). */
function copyDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-config-'));
  for (const f of ['ha.cf', 'authkeys', 'haresources']) copyFileSync(join(fixtureDir(name), f), join(dir, f));
  chmodSync(join(dir, 'authkeys'), 0o600);
  return dir;
}

test("loadConfigDir: the field report's directory loads clean", async () => {
  const dir = copyDir('field-report');
  try {
    const c = await loadConfigDir(dir);
    assert.deepEqual(c.hacf.nodes, ['server1', 'server2']);
    assert.equal(c.authkeys.active.key, 'pass');
    assert.equal(c.haresources[0]!.resources[0]!.kind, 'ip');
    assert.deepEqual(c.diagnostics, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("loadConfigDir: the real daemon's directory loads clean", async () => {
  const dir = copyDir('heartbeat-3.0.6');
  try {
    const c = await loadConfigDir(dir);
    assert.equal(c.hacf.media[0]!.kind === 'bcast' && c.hacf.media[0]!.iface, 'hbA-eth0');
    assert.deepEqual(c.diagnostics, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadConfigDir refuses a readable authkeys and a haresources node that ha.cf does not declare', async () => {
  const dir = copyDir('field-report');
  try {
    chmodSync(join(dir, 'authkeys'), 0o644);
    await assert.rejects(loadConfigDir(dir), (e: unknown) => e instanceof HadiagError && e.render() === `hadiag: authkeys mode 644 lets group or others access it: ${dir}/authkeys — run chmod 600 ${dir}/authkeys (Heartbeat refuses to start too)`);
    assert.equal((await loadConfigDir(dir, { checkMode: false })).authkeys.active.index, 2);
    chmodSync(join(dir, 'authkeys'), 0o600);
    writeFileSync(join(dir, 'haresources'), '# primary\nserver3 IPaddr::10.0.0.20/24\n');
    await assert.rejects(loadConfigDir(dir), (e: unknown) => {
      assert.ok(e instanceof HadiagError);
      assert.equal(locationOf(e), `${dir}/haresources:2`);
      assert.equal(e.render(), `hadiag: node "server3" is not declared in ha.cf: ${dir}/haresources:2 — use one of server1, server2, or add "node server3" to ${dir}/ha.cf`);
      return true;
    });
    rmSync(join(dir, 'haresources'));
    const a = await analyzeConfigDir(dir);
    assert.deepEqual(a.diagnostics.map(formatDiagnostic), [`${dir}/haresources: warning: no haresources file: this cluster manages no resources (no VIP) — create it with the VIP, e.g. server1 IPaddr::10.0.0.20/24`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unreadable directory or files are configuration errors (exit 2)', async () => {
  await assert.rejects(analyzeConfigDir('/nonexistent/ha.d'), (e: unknown) => e instanceof HadiagError && e.exitCode === 2 && e.render() === 'hadiag: configuration directory not found: /nonexistent/ha.d — name the directory that holds ha.cf, authkeys and haresources (default /etc/ha.d)');
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-config-'));
  try {
    await assert.rejects(analyzeConfigDir(dir), (e: unknown) => e instanceof HadiagError && e.render() === `hadiag: file not found: ${dir}/ha.cf — check the directory (Heartbeat keeps its files in /etc/ha.d)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('analyzeConfigTexts lists the findings of all three files, file by file', () => {
  const a = analyzeConfigTexts(
    { hacf: 'deadtime 5s\nbcast eth0\nnode a\nnode b\nauto_failback on\n', authkeys: 'auth 1\n1 sha1 two words\n', haresources: 'c 10.0.0.20\n' },
    configPaths('/etc/ha.d'),
    0o100600,
  );
  assert.deepEqual(a.diagnostics.map(formatDiagnostic), [
    '/etc/ha.d/ha.cf:1: error: deadtime "5s" — write seconds (5) or milliseconds (5000ms)',
    '/etc/ha.d/authkeys:2: warning: key 1 has spaces: only "two" is used, "words" is ignored — write the key as one word (Heartbeat silently uses only the first word, so both nodes must agree on it)',
    '/etc/ha.d/haresources:1: error: node "c" is not declared in ha.cf — use one of a, b, or add "node c" to /etc/ha.d/ha.cf',
  ]);
});
