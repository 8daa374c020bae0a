import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { analyzeHaCf } from '../../src/models/config/hacf.js';
import { analyzeHaresources } from '../../src/models/config/haresources.js';
import { HACF_DIRECTIVES, HARESOURCES_TYPES } from '../../src/models/config/hacf-directives.js';

/** A valid two-node ha.cf the example line is appended to (line 6). */
const BASE = 'node server1\nnode server2\nbcast eth0\nauto_failback on\nping 10.0.0.254\n';
const LINE = 6;

/**
 * Heartbeat 3.0.6's directive list, written out here independently of the table: config.c's Directives[] and
 * WLdirectives[] (the names `heartbeat -DW` prints and those without a default), its comm plugins, and the
 * sample ha.cf's hbaping and udp. The table must cover exactly these.
 */
const HEARTBEAT_306 = [
  'node', 'hopfudge', 'keepalive', 'deadtime', 'deadping', 'initdead', 'warntime', 'watchdog', 'baud', 'udpport',
  'logfacility', 'logfile', 'debugfile', 'nice_failback', 'auto_failback', 'rtprio', 'hbgenmethod', 'realtime',
  'debug', 'normalpoll', 'msgfmt', 'use_logd', 'conn_logd_time', 'use_apphbd', 'log_badpack', 'syslogmsgfmt',
  'coredumps', 'coreroot', 'crm', 'pacemaker', 'autojoin', 'uuidfrom', 'compression', 'compression_threshold',
  'traditional_compression', 'env', 'max_rexmit_delay', 'record_config_changes', 'record_pengine_inputs',
  'enable_config_writes', 'memreserve', 'quorum_server', 'cluster', 'stonith', 'stonith_host', 'apiauth', 'respawn',
  'bcast', 'mcast', 'mcast6', 'ucast', 'ucast6', 'ping', 'ping6', 'ping_group', 'serial', 'hbaping', 'udp',
];

test('the table covers every Heartbeat 3.0.6 directive and nothing else', () => {
  assert.deepEqual(Object.keys(HACF_DIRECTIVES).sort(), [...HEARTBEAT_306].sort());
});

test('the installed Heartbeat 3.0.6 knows no directive with a default that the table lacks (heartbeat -DW)', (t) => {
  const hb = ['/usr/libexec/heartbeat/heartbeat', '/usr/lib/heartbeat/heartbeat'].find((p) => existsSync(p));
  if (!hb) return t.skip('Heartbeat is not installed');
  let out: string;
  try {
    out = execFileSync(hb, ['-DW'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  const names = [...out.matchAll(/\|\|\[wiki:ha\.cf\/\w+Directive (\w+)\]\|\|/g)].map((m) => m[1]!);
  assert.ok(names.length >= 15, `heartbeat -DW listed ${names.length} directives`);
  for (const n of names) assert.ok(Object.hasOwn(HACF_DIRECTIVES, n), `heartbeat -DW lists ${n}`);
});

test('every directive is implemented, accepted with a warning on its line, or refused with file:line and a fix', () => {
  for (const [name, entry] of Object.entries(HACF_DIRECTIVES)) {
    const { diagnostics } = analyzeHaCf(BASE + entry.example + '\n', '/etc/ha.d/ha.cf');
    const onLine = diagnostics.filter((d) => d.line === LINE);
    const errors = onLine.filter((d) => d.severity === 'error');
    // the base file writes auto_failback already: "set again" is the repeat warning, not the directive's own
    const warnings = onLine.filter((d) => d.severity === 'warning' && !/is set again/.test(d.message));
    assert.ok(!onLine.some((d) => /unknown directive/.test(d.message)), `${name}: taken for an unknown directive`);
    const d = entry.disposition;
    if (d.kind === 'implemented') {
      assert.deepEqual(errors, [], `${name} (implemented): ${JSON.stringify(errors)}`);
      assert.deepEqual(warnings, [], `${name} (implemented) gave a warning: ${JSON.stringify(warnings)}`);
    } else if (d.kind === 'warned') {
      assert.deepEqual(errors, [], `${name} (warned): ${JSON.stringify(errors)}`);
      assert.equal(warnings.length, 1, `${name}: one warning on line ${LINE}`);
      assert.ok(warnings[0]!.message.includes(name) && warnings[0]!.fix, `${name}: the warning names it and has a fix`);
    } else {
      assert.equal(errors.length, 1, `${name} (refused): one error on line ${LINE}, got ${JSON.stringify(diagnostics)}`);
      assert.equal(errors[0]!.file, '/etc/ha.d/ha.cf');
      assert.ok(errors[0]!.fix, `${name}: the error has a fix`);
    }
  }
});

test('a made-up directive is a file:line error; values hadiag cannot honour are refused', () => {
  const errorAt = (line: string) => analyzeHaCf(BASE + line + '\n', 'ha.cf').diagnostics.filter((d) => d.severity === 'error' && d.line === LINE);
  assert.match(errorAt('frobnicate 1')[0]!.message, /unknown directive "frobnicate"/);
  for (const line of ['crm yes', 'pacemaker on', 'msgfmt classic', 'hbgenmethod time', 'autojoin any', 'uuidfrom nodename', 'respawn hacluster /usr/lib/heartbeat/ccm', 'respawn root /usr/lib/heartbeat/dopd -t 5', 'respawn hacluster ipfail', 'ping 10.0.0.300', 'ping_group g1', 'env no-equals', 'deadping 1']) {
    assert.equal(errorAt(line).length, 1, `${line} is refused on its line`);
  }
});

test('haresources: every resource.d type of Heartbeat 3.0.6 is implemented, warned about, or refused', () => {
  const dir = '/etc/ha.d/resource.d';
  const installed = existsSync(dir) ? readdirSync(dir) : [];
  for (const name of installed) assert.ok(Object.hasOwn(HARESOURCES_TYPES, name), `resource.d/${name} is in the table`);
  for (const [name, d] of Object.entries(HARESOURCES_TYPES)) {
    const token = name.startsWith('IPaddr') ? `${name}::10.0.0.20/24` : name === 'IPv6addr' ? 'IPv6addr::2001:db8:0:0:0:0:0:20/64' : `${name}::arg`;
    const { groups, diagnostics } = analyzeHaresources(`server1 ${token}\n`, 'haresources');
    const errors = diagnostics.filter((x) => x.severity === 'error');
    const warnings = diagnostics.filter((x) => x.severity === 'warning');
    if (d.kind === 'refused') assert.equal(errors.length, 1, `${name} is refused`);
    else {
      assert.deepEqual(errors, [], name);
      assert.equal(groups[0]!.resources.length, 1, name);
      assert.equal(warnings.length, d.kind === 'warned' ? 1 : 0, `${name}: ${JSON.stringify(warnings)}`);
    }
  }
});
