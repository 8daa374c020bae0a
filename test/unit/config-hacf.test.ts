import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeHaCf, defaultInitdeadMs, parseHaCf } from '../../src/models/config/hacf.js';
import { formatDiagnostic } from '../../src/models/config/diagnostics.js';
import { HadiagError } from '../../src/core/errors.js';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/config/${p}`, import.meta.url), 'utf8');

/** The one-line error parseHaCf throws for `text`. */
function errorOf(text: string, file = '/etc/ha.d/ha.cf'): string {
  try {
    parseHaCf(text, file);
  } catch (err) {
    assert.ok(err instanceof HadiagError, `not a HadiagError: ${String(err)}`);
    assert.equal(err.kind, 'config');
    return err.render();
  }
  assert.fail('no error thrown');
}

const base = 'bcast eth0\nauto_failback on\nnode server1\nnode server2\n';

test("the field report's ha.cf parses, trailing comments and all", () => {
  const cf = parseHaCf(fixture('field-report/ha.cf'), '/etc/ha.d/ha.cf');
  assert.equal(cf.keepaliveMs, 1000);
  assert.equal(cf.deadtimeMs, 5000);
  assert.equal(cf.warntimeMs, 2500, 'warntime defaults to deadtime/2');
  assert.equal(cf.initdeadMs, 12_000, 'initdead defaults to 12 s when deadtime < 6 s');
  assert.equal(cf.udpport, 694);
  assert.equal(cf.autoFailback, 'on');
  assert.deepEqual(cf.nodes, ['server1', 'server2']);
  assert.deepEqual(cf.media, [{ kind: 'bcast', iface: 'eth0', port: 694, line: 5 }]);
  assert.equal(cf.logfile, '/var/log/ha-log');
  assert.equal(cf.logfacility, 'local0');
  assert.deepEqual(cf.warnings, []);
});

test("the real daemon's ha.cf parses", () => {
  const cf = parseHaCf(fixture('heartbeat-3.0.6/ha.cf'));
  assert.equal(cf.keepaliveMs, 1000);
  assert.equal(cf.deadtimeMs, 5000);
  assert.equal(cf.warntimeMs, 3000);
  assert.equal(cf.initdeadMs, 10_000);
  assert.equal(cf.useLogd, false);
  assert.equal(cf.logfacility, 'none');
  assert.equal(cf.debugfile, '/run/hbnode/ha-debug');
  assert.deepEqual(cf.media, [{ kind: 'bcast', iface: 'hbA-eth0', port: 694, line: 12 }]);
  assert.deepEqual(cf.warnings, []);
});

test("Heartbeat's defaults", () => {
  const cf = parseHaCf(base);
  assert.equal(cf.keepaliveMs, 1000);
  assert.equal(cf.deadtimeMs, 30_000);
  assert.equal(cf.warntimeMs, 15_000);
  assert.equal(cf.initdeadMs, 30_000, 'initdead = deadtime when deadtime > 10 s');
  assert.equal(cf.udpport, 694);
  assert.equal(defaultInitdeadMs(5000), 12_000);
  assert.equal(defaultInitdeadMs(8000), 16_000);
  assert.equal(defaultInitdeadMs(10_000), 20_000);
  assert.equal(defaultInitdeadMs(60_000), 60_000);
  assert.equal(parseHaCf('bcast eth0\nnode a\nnode b\n').autoFailback, 'legacy');
});

test('durations: bare seconds, fractions, ms suffix', () => {
  const cf = parseHaCf(`keepalive 200ms\ndeadtime 1.5\nwarntime 800ms\ninitdead 10\n${base}`);
  assert.equal(cf.keepaliveMs, 200);
  assert.equal(cf.deadtimeMs, 1500);
  assert.equal(cf.warntimeMs, 800);
  assert.equal(cf.initdeadMs, 10_000);
  // Heartbeat's get_msec also reads msec, us/usec and any case.
  const other = parseHaCf(`keepalive 250MS\ndeadtime 2000msec\nwarntime 1500000us\n${base}`);
  assert.deepEqual([other.keepaliveMs, other.deadtimeMs, other.warntimeMs], [250, 2000, 1500]);
});

test('udpport applies to bcast/ucast lines after it; mcast carries its own port', () => {
  const text = 'bcast eth0\nudpport 1001\nbcast eth1 eth2\nucast eth0 10.0.0.12\nmcast eth0 239.0.0.1 5405 1 0\nnode a\nnode b\nauto_failback off\n';
  const { hacf, diagnostics } = analyzeHaCf(text, 'ha.cf');
  assert.deepEqual(
    hacf.media.map((m) => [m.kind, m.iface, m.port]),
    [['bcast', 'eth0', 694], ['bcast', 'eth1', 1001], ['bcast', 'eth2', 1001], ['ucast', 'eth0', 1001], ['mcast', 'eth0', 5405]],
  );
  assert.equal(hacf.udpport, 1001);
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    'ha.cf:1: warning: bcast eth0 uses port 694, not udpport 1001 (line 2 comes after it) — move the udpport line above the media lines: Heartbeat applies it only to bcast/ucast lines after it',
  ]);
  assert.deepEqual(hacf.media[4], { kind: 'mcast', iface: 'eth0', group: '239.0.0.1', port: 5405, ttl: 1, loop: false, line: 5 });
  assert.deepEqual(hacf.media[3], { kind: 'ucast', iface: 'eth0', peer: '10.0.0.12', port: 1001, line: 4 });
});

test('node names are lower-cased like Heartbeat; ping and respawn are parsed; logging directives are warned about', () => {
  const cf = parseHaCf('node Server1 server2\nbcast eth0\nping 10.0.0.1\nrespawn hacluster /usr/lib/heartbeat/ipfail -p 1\ndebug 1\ncoredumps true\nuse_logd yes\ncrm off\nauto_failback on\n');
  assert.deepEqual(cf.nodes, ['server1', 'server2']);
  assert.deepEqual(cf.ping, ['10.0.0.1']);
  assert.deepEqual(cf.pingNodes, [{ name: '10.0.0.1', hosts: ['10.0.0.1'], group: false, line: 3 }]);
  assert.deepEqual(cf.respawn, [{ user: 'hacluster', command: '/usr/lib/heartbeat/ipfail -p 1', argv: ['/usr/lib/heartbeat/ipfail', '-p', '1'], line: 4, builtin: 'ipfail' }]);
  assert.equal(cf.ipfail, true);
  assert.equal(cf.deadpingMs, 30_000, 'deadping defaults to deadtime');
  assert.equal(cf.useLogd, true);
  assert.deepEqual(cf.warnings.map((d) => d.line), [4, 5, 6, 7]);
  assert.match(formatDiagnostic(cf.warnings[0]!), /^ha\.cf:4: warning: \/usr\/lib\/heartbeat\/ipfail is not run: hadiag's built-in ipfail policy takes its place/);
});

test('ipfail refuses auto_failback legacy, as the real ipfail exits at start', () => {
  assert.equal(
    errorOf('node a\nnode b\nbcast eth0\nping 10.0.0.1\nrespawn hacluster /usr/libexec/heartbeat/ipfail\n'),
    'hadiag: ipfail does not work with auto_failback legacy (the real ipfail exits at start): /etc/ha.d/ha.cf:5 — write auto_failback on or auto_failback off',
  );
});

test('errors name file:line with the fix', () => {
  assert.equal(errorOf(`deadtime 5s\n${base}`), 'hadiag: deadtime "5s": /etc/ha.d/ha.cf:1 — write seconds (5) or milliseconds (5000ms)');
  assert.equal(errorOf(`${base}kepalive 2 # typo\n`), 'hadiag: unknown directive "kepalive": /etc/ha.d/ha.cf:5 — did you mean keepalive? (docs/config.md lists the directives hadiag reads)');
  assert.equal(errorOf(`${base}crm respawn\n`), 'hadiag: crm "respawn" is not supported: /etc/ha.d/ha.cf:5 — hadiag runs haresources (v1) clusters: write crm no, or remove the line');
  assert.equal(errorOf(`${base}stonith_host * baytech 10.0.0.3 mylogin mysecretpassword\n`), 'hadiag: directive "stonith_host" is not supported: /etc/ha.d/ha.cf:5 — remove it: hadiag does not fence nodes (STONITH)');
  assert.equal(errorOf(`keepalive 2\ndeadtime 4\n${base}`), 'hadiag: deadtime (4000ms) must be more than twice keepalive (2000ms): /etc/ha.d/ha.cf:2 — raise deadtime above 4000ms or lower keepalive (Heartbeat refuses this too)');
  assert.equal(errorOf('auto_failback on\nnode a\nnode b\n'), 'hadiag: no heartbeat medium is declared: /etc/ha.d/ha.cf — add a bcast, mcast or ucast line, e.g. bcast eth0');
  assert.equal(errorOf('bcast eth0\nauto_failback on\n'), 'hadiag: no node is declared: /etc/ha.d/ha.cf — add a node line for each cluster member, named as `uname -n` prints it (node server1 / node server2)');
  assert.equal(errorOf(`keepalive\n${base}`), 'hadiag: keepalive needs a value: /etc/ha.d/ha.cf:1 — write keepalive 1');
});

test('a comment can follow any directive and a line can be only a comment', () => {
  const cf = parseHaCf('# whole line\n  keepalive 2 #c\ndeadtime 10# no space\nbcast eth0 # c\nnode a #c\nnode b\nauto_failback off #\n');
  assert.equal(cf.keepaliveMs, 2000);
  assert.equal(cf.deadtimeMs, 10_000);
});

test('analyzeHaCf reports every error, not only the first', () => {
  const { diagnostics } = analyzeHaCf('keepalive x\nudpport 0\nbcast\nnode a\nnode a\n', 'ha.cf');
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === 'error').map((d) => d.line),
    [1, 2, 3, 5, undefined],
  );
});
