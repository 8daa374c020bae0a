import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfigAgainstHost } from '../../src/models/config/check.js';
import { interfacesFromIpJson, type HostFacts } from '../../src/models/config/host.js';
import { analyzeConfigTexts, configPaths } from '../../src/models/config/analysis.js';
import { formatDiagnostic } from '../../src/models/config/diagnostics.js';
import { renderCheckConfig } from '../../src/commands/check-config.js';

const paths = configPaths('/etc/ha.d');
const hacf = 'keepalive 1 # c\ndeadtime 5\nbcast eth0\nudpport 694\nauto_failback on\nnode server1\nnode server2\n';
const authkeys = 'auth 2\n2 sha1 pass\n';
const haresources = 'server1 IPaddr::10.0.0.20/255.255.255.0\n';

// What `ip -json addr` prints (trimmed), for a host with eth0 10.0.0.11/24 brd 10.0.0.255.
const ipJson = [
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifindex: 2, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], addr_info: [{ family: 'inet', local: '10.0.0.11', prefixlen: 24, broadcast: '10.0.0.255' }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
];

function facts(over: Partial<HostFacts> = {}): HostFacts {
  return { hostname: 'server1', interfaces: interfacesFromIpJson(ipJson), ports: { 694: 'free' }, ...over };
}

function run(f: HostFacts, node = 'server1', texts = { hacf, authkeys, haresources }, mode = 0o100600) {
  return checkConfigAgainstHost('/etc/ha.d', analyzeConfigTexts(texts, paths, mode), f, node);
}

test('ip -json addr is read into interfaces with their IPv4 addresses and broadcast', () => {
  assert.deepEqual(interfacesFromIpJson(ipJson)[1], { name: 'eth0', up: true, ipv4: [{ address: '10.0.0.11', prefixLen: 24, broadcast: '10.0.0.255' }], ipv6: [{ address: 'fe80::1', prefixLen: 64 }] });
  assert.deepEqual(interfacesFromIpJson('junk'), []);
});

test("the field report's files on a matching host are healthy", () => {
  const r = run(facts());
  assert.equal(r.ok, true);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.checks.map((c) => [c.name, c.ok]), [['files', true], ['authkeys-mode', true], ['authkeys-key', true], ['node-name', true], ['interfaces', true], ['udp-port', true], ['vip-subnet', true]]);
  assert.equal(r.checks.find((c) => c.name === 'interfaces')!.detail, 'bcast eth0 → 10.0.0.255:694');
  assert.match(renderCheckConfig(r), /check-config: \/etc\/ha.d for node server1: 0 errors, 0 warnings — ready to go live\n$/);
});

test('an interface without a broadcast address is an error (Heartbeat would send to 0.0.0.0)', () => {
  const f = facts();
  delete f.interfaces[1]!.ipv4[0]!.broadcast;
  const r = run(f);
  assert.equal(r.ok, false);
  assert.deepEqual(r.errors.map(formatDiagnostic), [
    `/etc/ha.d/ha.cf:3: error: interface "eth0" has no IPv4 broadcast address: Heartbeat would send its heartbeats to 0.0.0.0 and both nodes would take the VIP (split brain) — re-add the address with a broadcast (ip addr replace cannot add one): ip addr del 10.0.0.11/24 dev eth0 && ip addr add 10.0.0.11/24 brd + dev eth0, and make it permanent in the interface's configuration; or use ucast`,
  ]);
  assert.equal(r.checks.find((c) => c.name === 'interfaces')!.detail, 'bcast eth0 → 0.0.0.0 (no broadcast address):694');
});

test('host findings: unknown node, missing interface, port in use, VIP outside every subnet, VIP already up', () => {
  assert.deepEqual(run(facts(), 'vm').errors.map(formatDiagnostic), [
    '/etc/ha.d/ha.cf: error: this node "vm" is not declared in ha.cf (nodes: server1, server2) — add "node vm" or check with --node NAME: Heartbeat names a node by `uname -n`',
  ]);
  const noEth0 = facts({ interfaces: interfacesFromIpJson(ipJson.slice(0, 1)) });
  assert.deepEqual(run(noEth0).errors.map(formatDiagnostic), [
    '/etc/ha.d/ha.cf:3: error: interface "eth0" does not exist on this host — this host has no interface besides lo: create or name the right one',
    "/etc/ha.d/haresources:1: error: no interface has a subnet that contains 10.0.0.20, so IPaddr cannot choose one — name the interface: IPaddr::10.0.0.20/24/eth0, or give this host an address in 10.0.0.20's subnet",
  ]);
  assert.deepEqual(run(facts({ ports: { 694: 'in-use' } })).errors.map(formatDiagnostic), [
    "/etc/ha.d/ha.cf:4: error: UDP port 694 is already in use on this host (is heartbeat running?) — find the owner with ss -ulpn 'sport = :694' and stop it, or choose another udpport on every node",
  ]);
  const vipUp = facts();
  vipUp.interfaces[1]!.ipv4.push({ address: '10.0.0.20', prefixLen: 24, broadcast: '10.0.0.255' });
  assert.deepEqual(run(vipUp).warnings.map(formatDiagnostic), [
    '/etc/ha.d/haresources:1: warning: 10.0.0.20 is already configured on eth0 — the cluster adds it; remove it (ip addr del 10.0.0.20/24 dev eth0) unless the cluster is running here',
  ]);
});

test('authkeys mode and a key with spaces are checks of their own; file errors fail the files check', () => {
  const r = run(facts(), 'server1', { hacf: hacf + 'deadtime 5s\n', authkeys: 'auth 2\n2 sha1 pass word\n', haresources }, 0o100644);
  assert.deepEqual(r.checks.filter((c) => !c.ok).map((c) => c.name), ['files', 'authkeys-mode', 'authkeys-key']);
  assert.deepEqual(r.errors.map(formatDiagnostic), [
    '/etc/ha.d/ha.cf:8: error: deadtime "5s" — write seconds (5) or milliseconds (5000ms)',
    '/etc/ha.d/authkeys: error: authkeys mode 644 lets group or others access it — run chmod 600 /etc/ha.d/authkeys (Heartbeat refuses to start too)',
  ]);
  assert.equal(r.warnings.length, 1);
});

test('--no-host: the files only; the node name only when given', async () => {
  const a = analyzeConfigTexts({ hacf, authkeys, haresources }, paths, 0o100600);
  const r = checkConfigAgainstHost('/etc/ha.d', a, undefined, undefined);
  assert.equal(r.ok, true);
  assert.equal(r.hostChecked, false);
  assert.equal(r.node, null);
  assert.deepEqual(r.checks.map((c) => c.name), ['files', 'authkeys-mode', 'authkeys-key']);
  assert.match(renderCheckConfig(r), /check-config: \/etc\/ha.d: 0 errors, 0 warnings — the files are clean \(this host was not checked\)\n$/);
  const named = checkConfigAgainstHost('/etc/ha.d', a, undefined, 'server3');
  assert.equal(named.ok, false);
  assert.deepEqual(named.checks.map((c) => [c.name, c.ok]).at(-1), ['node-name', false]);
});

test('the field report plus ping and respawn … ipfail: check-config says what hadiag will do, naming the ping hosts', () => {
  const withPing = `${hacf}ping 10.0.0.1\nping_group routers 10.0.0.2 10.0.0.3\nrespawn hacluster /usr/libexec/heartbeat/ipfail\nrespawn nobody /usr/local/bin/watcher -q\n`;
  const r = run(facts(), 'server1', { hacf: withPing, authkeys, haresources });
  assert.equal(r.ok, true, JSON.stringify(r.errors));
  assert.deepEqual(r.warnings.map((d) => d.line), [10], 'one warning: the ipfail line (its program is not run)');
  assert.equal(r.plan.length, 3);
  assert.match(r.plan[0]!, /^ping 10\.0\.0\.1, routers \(ping_group: 10\.0\.0\.2 10\.0\.0\.3\): one ICMP echo per host every 500ms .* dead after deadping 5s/);
  assert.match(r.plan[1]!, /^ipfail \(line 10\): built in, \/usr\/libexec\/heartbeat\/ipfail is not run .* over 750ms later .* takes them back .*auto_failback on/);
  assert.match(r.plan[2]!, /^respawn \(line 11\): run "\/usr\/local\/bin\/watcher -q" as nobody/);
  const text = renderCheckConfig(r);
  assert.match(text, /\nhadiag will:\n  - ping 10\.0\.0\.1/);
  const bad = run(facts(), 'server1', { hacf: `${hacf}frobnicate 1\nwatchdog /dev/watchdog\n`, authkeys, haresources });
  assert.deepEqual(bad.errors.map((d) => [d.line, d.message]), [[8, 'unknown directive "frobnicate"'], [9, 'directive "watchdog" is not supported']]);
});

test('check-config on a host: where each ping node is reached from', () => {
  const texts = (ping: string) => ({ hacf: `${hacf}ping ${ping}\nrespawn hacluster /usr/libexec/heartbeat/ipfail\n`, authkeys, haresources });
  const ok = run(facts(), 'server1', texts('10.0.0.1'));
  assert.equal(ok.checks.find((c) => c.name === 'ping-nodes')!.detail, '10.0.0.1 via eth0');
  const far = run(facts(), 'server1', texts('192.0.2.1'));
  assert.match(far.warnings.map(formatDiagnostic).join('\n'), /ha\.cf:8: warning: ping node 192\.0\.2\.1 is on no subnet of this host's interfaces/);
});
