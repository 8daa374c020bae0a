/**
 * contrib/ocf/hadiag-announce without a running sidecar: meta-data valid against resource-agents'
 * ra-api-1.dtd, validate-all's OCF exit codes, and the stopped-resource answers Pacemaker relies on.
 * The full start/monitor/stop cycle under ocf-tester is test/integration/lab-pacemaker-ocf.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/core/module-argv.js';

const AGENT = join(PROJECT_ROOT, 'contrib/ocf/hadiag-announce');
const DTD_DIR = '/usr/share/resource-agents';
const OCF = { success: 0, generic: 1, unimplemented: 3, installed: 5, configured: 6, notRunning: 7 };
const haveOcf = existsSync('/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs');

function agent(action: string, params: Record<string, string>): { code: number; out: string } {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', OCF_ROOT: '/usr/lib/ocf', OCF_RESOURCE_INSTANCE: 'announce-test' };
  for (const [k, v] of Object.entries(params)) env[`OCF_RESKEY_${k}`] = v;
  const r = spawnSync(AGENT, [action], { env, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test('OCF agent: meta-data conforms to ra-api-1.dtd and names every parameter and action', { skip: !haveOcf && 'resource-agents is not installed (npm run setup)' }, () => {
  const md = agent('meta-data', {});
  assert.equal(md.code, OCF.success);
  const lint = spawnSync('xmllint', ['--noout', '--valid', '-'], { input: md.out, cwd: DTD_DIR, encoding: 'utf8' });
  assert.equal(lint.status, 0, lint.stderr);
  for (const p of ['interface', 'vip', 'garp', 'peer', 'authkeys', 'port', 'state_dir', 'binary', 'stop_timeout']) assert.match(md.out, new RegExp(`<parameter name="${p}"`));
  for (const a of ['start', 'stop', 'monitor', 'validate-all', 'meta-data']) assert.match(md.out, new RegExp(`<action name="${a}"`));
  assert.match(md.out, /<parameter name="interface" unique="0" required="1">/);
});

test('OCF agent: validate-all exit codes, stopped-resource answers, unknown action', { skip: !haveOcf && 'resource-agents is not installed (npm run setup)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-ocf-'));
  try {
    const ok = { interface: 'lo', vip: '192.0.2.20 192.0.2.21', binary: join(PROJECT_ROOT, 'bin/hadiag.js'), state_dir: dir };
    assert.equal(agent('validate-all', ok).code, OCF.success, agent('validate-all', ok).out);
    const v = (params: Record<string, string>) => agent('validate-all', params);
    assert.equal(v({ ...ok, interface: '' }).code, OCF.configured);
    assert.equal(v({ ...ok, vip: '' }).code, OCF.configured);
    assert.equal(v({ ...ok, vip: '192.0.2.20 vip.example' }).code, OCF.configured);
    assert.equal(v({ ...ok, port: 'x694' }).code, OCF.configured);
    assert.equal(v({ ...ok, stop_timeout: '1m' }).code, OCF.configured);
    assert.equal(v({ ...ok, authkeys: join(dir, 'missing') }).code, OCF.configured);
    assert.equal(v({ ...ok, interface: 'hdnone0' }).code, OCF.configured);
    assert.equal(v({ ...ok, binary: '/nonexistent/hadiag' }).code, OCF.installed);
    // stopped: monitor (and a probe with the binary missing) is "not running", stop succeeds
    assert.equal(agent('monitor', ok).code, OCF.notRunning);
    assert.equal(agent('monitor', { ...ok, binary: '/nonexistent/hadiag', CRM_meta_interval: '0' }).code, OCF.notRunning);
    assert.equal(agent('stop', ok).code, OCF.success);
    // a pid file left by a dead sidecar is not a running one
    spawnSync('sh', ['-c', `echo 999999999 > ${join(dir, 'announce.pid')}`]);
    assert.equal(agent('monitor', ok).code, OCF.notRunning);
    assert.equal(agent('stop', ok).code, OCF.success);
    assert.equal(existsSync(join(dir, 'announce.pid')), false);
    assert.equal(agent('migrate_to', ok).code, OCF.unimplemented);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
