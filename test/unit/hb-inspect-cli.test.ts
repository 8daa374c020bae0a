/** hadiag hb-inspect end to end: the real CLI entry (src/cli/main.ts through tsx) on the shipped capture. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES } from './wire-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PCAP = FIXTURES + 'heartbeat-3.0.6/hb-cycle.pcap';

function hadiag(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/cli/main.ts').then((m) => m.main(process.argv.slice(1)))", ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'hadiag-hbinspect-'));
const authkeys = join(dir, 'authkeys');
copyFileSync(FIXTURES + 'heartbeat-3.0.6/authkeys', authkeys);
chmodSync(authkeys, 0o600);
const wrong = join(dir, 'authkeys-wrong');
writeFileSync(wrong, 'auth 2\n2 sha1 not-the-key\n', { mode: 0o600 });
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('hb-inspect --read hb-cycle.pcap --authkeys: 209 lines with both layers OK, the events, exit 0', () => {
  const r = hadiag(['hb-inspect', '--read', PCAP, '--authkeys', authkeys, '--hacf', FIXTURES + 'heartbeat-3.0.6/ha.cf']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3}  198\.18\.0\.1[12]:\d+ /.test(l));
  assert.equal(lines.length, 209);
  assert.ok(lines.every((l) => l.includes('auth trailing OK, field OK')));
  for (const kind of ['stop', 'start', 'takeover', 'failback', 'partition']) assert.match(r.stdout, new RegExp(`^  \\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ${kind} `, 'm'));
  assert.match(r.stdout, /hb-inspect: healthy/);
});

test('hb-inspect with a wrong key: every message BAD, exit 1', () => {
  const r = hadiag(['hb-inspect', '--read', PCAP, '--authkeys', wrong]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal((r.stdout.match(/auth trailing BAD, field BAD/g) ?? []).length, 209);
  assert.match(r.stdout, /209 of 209 messages fail authentication/);
});

test('hb-inspect --json is one document with the report', () => {
  const r = hadiag(['hb-inspect', '--read', PCAP, '--authkeys', authkeys, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.healthy, true);
  assert.equal(doc.messages.length, 209);
  assert.equal(doc.counts.authOk, 209);
  assert.ok(doc.events.some((e: { kind: string }) => e.kind === 'failback'));
});

test('hb-inspect usage and file errors are one line, exit 2', () => {
  for (const args of [
    ['hb-inspect', 'hdnoiface0', '--read', PCAP],
    ['hb-inspect', '--read', join(dir, 'missing.pcap')],
    ['hb-inspect', '--read', PCAP, '--authkeys', FIXTURES + 'heartbeat-3.0.6/authkeys-missing'],
  ]) {
    const r = hadiag(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^hadiag: /);
  }
});

test('hb-inspect reads a world-readable authkeys copy (only a node needs mode 600)', () => {
  const open = join(dir, 'authkeys-644');
  copyFileSync(FIXTURES + 'heartbeat-3.0.6/authkeys', open);
  chmodSync(open, 0o644);
  const r = hadiag(['hb-inspect', '--read', PCAP, '--authkeys', open, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).counts.authOk, 209);
});
