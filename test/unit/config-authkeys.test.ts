import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeAuthkeys, authkeysModeDiagnostic, parseAuthkeys } from '../../src/models/config/authkeys.js';
import { readAuthkeys } from '../../src/effects/config/load.js';
import { formatDiagnostic } from '../../src/models/config/diagnostics.js';
import { HadiagError } from '../../src/core/errors.js';

const fixturePath = (p: string) => new URL(`../fixtures/config/${p}`, import.meta.url).pathname;

function errorOf(text: string): string {
  try {
    parseAuthkeys(text, '/etc/ha.d/authkeys');
  } catch (err) {
    assert.ok(err instanceof HadiagError);
    return err.render();
  }
  assert.fail('no error thrown');
}

test("the field report's and the real daemon's authkeys parse", () => {
  for (const p of ['field-report/authkeys', 'heartbeat-3.0.6/authkeys']) {
    const a = parseAuthkeys(readFileSync(fixturePath(p), 'utf8'));
    assert.deepEqual(a.active, { index: 2, method: 'sha1', key: 'pass', line: 2 });
    assert.equal(a.keys.size, 1);
    assert.deepEqual(a.warnings, []);
  }
});

test('several keys, comments, md5 and crc', () => {
  const a = parseAuthkeys('# keys\nauth 3\n1 crc\n2 sha1 secret # old key\n3 md5 another\n');
  assert.equal(a.active.index, 3);
  assert.equal(a.active.method, 'md5');
  assert.equal(a.keys.get(1)!.key, '');
  assert.equal(a.keys.get(2)!.key, 'secret');
  assert.deepEqual(a.warnings, []);
});

test('a key with spaces: only the first word is used, with a warning', () => {
  const a = parseAuthkeys('auth 5\n5 sha1 m-cast key with spaces\n', 'authkeys');
  assert.equal(a.active.key, 'm-cast');
  assert.deepEqual(a.warnings.map(formatDiagnostic), [
    'authkeys:2: warning: key 5 has spaces: only "m-cast" is used, "key with spaces" is ignored — write the key as one word (Heartbeat silently uses only the first word, so both nodes must agree on it)',
  ]);
});

test('crc as the active key is a warning', () => {
  const { diagnostics } = analyzeAuthkeys('auth 1\n1 crc\n', 'authkeys');
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    'authkeys:2: warning: the active key is crc, which is not authentication: anyone on the LAN can forge heartbeats — use 1 sha1 SECRET',
  ]);
});

test('errors name file:line with the fix', () => {
  assert.equal(errorOf('2 sha1 pass\n'), 'hadiag: no auth line: /etc/ha.d/authkeys — add "auth N" naming the key to send with, e.g. auth 2 above 2 sha1 SECRET');
  assert.equal(errorOf('auth 3\n2 sha1 pass\n'), 'hadiag: auth 3 names a key that is not defined: /etc/ha.d/authkeys:1 — add a line "3 sha1 SECRET" or write auth 2');
  assert.equal(errorOf('auth 2\n2 sha256 pass\n'), 'hadiag: key 2 method "sha256" is not sha1, md5 or crc: /etc/ha.d/authkeys:2 — write 2 sha1 SECRET');
  assert.equal(errorOf('auth 2\n2 sha1\n'), 'hadiag: key 2 (sha1) has no key text: /etc/ha.d/authkeys:2 — write 2 sha1 SECRET');
  assert.equal(errorOf('auth 2\n2 sha1 a\n2 md5 b\n'), 'hadiag: key 2 is defined twice (also on line 2): /etc/ha.d/authkeys:3 — keep one line per index');
  assert.equal(errorOf('auth two\n'), 'hadiag: auth line "auth two" is not "auth N": /etc/ha.d/authkeys:1 — write auth and the index (0–15) of the key to send with, e.g. auth 2');
});

test('readAuthkeys refuses a group/other-readable file with the chmod to run, accepts mode 600', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-authkeys-'));
  try {
    const path = join(dir, 'authkeys');
    copyFileSync(fixturePath('field-report/authkeys'), path);
    chmodSync(path, 0o644);
    await assert.rejects(readAuthkeys(path), (e: unknown) => {
      assert.ok(e instanceof HadiagError);
      assert.equal(e.render(), `hadiag: authkeys mode 644 lets group or others access it: ${path} — run chmod 600 ${path} (Heartbeat refuses to start too)`);
      return true;
    });
    assert.equal((await readAuthkeys(path, { checkMode: false })).active.key, 'pass');
    chmodSync(path, 0o600);
    assert.equal((await readAuthkeys(path)).active.key, 'pass');
    await assert.rejects(readAuthkeys(join(dir, 'missing')), (e: unknown) => e instanceof HadiagError && e.render() === `hadiag: file not found: ${join(dir, 'missing')} — check the directory (Heartbeat keeps its files in /etc/ha.d)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the chmod fix quotes a path with spaces', () => {
  assert.equal(authkeysModeDiagnostic('/tmp/my dir/authkeys', 0o100640)!.fix, "run chmod 600 '/tmp/my dir/authkeys' (Heartbeat refuses to start too)");
  assert.equal(authkeysModeDiagnostic('/etc/ha.d/authkeys', 0o100600), undefined);
  assert.equal(authkeysModeDiagnostic('/etc/ha.d/authkeys', 0o100400), undefined);
});
