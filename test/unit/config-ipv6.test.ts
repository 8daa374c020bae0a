import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeHaresources, ipv6InPrefix } from '../../src/models/config/haresources.js';
import { analyzeHaCf } from '../../src/models/config/hacf.js';
import { checkConfigAgainstHost } from '../../src/models/config/check.js';
import { interfacesFromIpJson, type HostFacts } from '../../src/models/config/host.js';
import { analyzeConfigTexts, configPaths } from '../../src/models/config/analysis.js';
import { formatDiagnostic } from '../../src/models/config/diagnostics.js';

const one = (text: string) => analyzeHaresources(text, 'haresources');
const errs = (text: string) => one(text).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);

test("IPv6addr::ADDR/PREFIX/IFACE (Heartbeat's syntax) and IPaddr2 with an IPv6 address are IP resources", () => {
  const a = one('server1 IPv6addr::2001:DB8:0:0:0:0:0:20/64/eth0 IPaddr2::2001:db8:0:0:0:0:0:21/64 IPv6addr::2001:db8:0:0:0:0:0:22\n');
  assert.deepEqual(a.diagnostics, []);
  assert.deepEqual(a.groups[0]!.resources.map((r) => r.kind === 'ip' && [r.agent, r.ip, r.prefixLen, r.nic]), [
    ['IPv6addr', '2001:db8::20', 64, 'eth0'],
    ['IPaddr2', '2001:db8::21', 64, undefined],
    ['IPv6addr', '2001:db8::22', undefined, undefined],
  ]);
});

test('an address with "::" is read whole, with a warning: the real Heartbeat splits arguments at "::"', () => {
  const a = one('server1 IPv6addr::2001:db8::20/64/eth0\n');
  assert.equal(a.groups[0]!.resources[0]!.kind === 'ip' && a.groups[0]!.resources[0]!.ip, '2001:db8::20');
  assert.deepEqual(a.diagnostics.map(formatDiagnostic), [
    'haresources:1: warning: IPv6addr::2001:db8::20/64/eth0: Heartbeat 3.0.6\'s ResourceManager splits resource arguments at "::", so the real Heartbeat would run IPv6addr with the pieces of 2001:db8::20 (hadiag reads the one address) — write the address in full to keep this haresources usable by Heartbeat: IPv6addr::2001:db8:0:0:0:0:0:20/64/eth0',
  ]);
});

test('bad IPv6 resources are file:line errors with the fix', () => {
  assert.deepEqual(errs('server1 IPv6addr::2001:db8:0:0:0:0:0:20/129/eth0\n'), ['haresources:1: error: IPv6addr prefix length "129" of 2001:db8::20 is not 1–128 — write a prefix length such as /64, e.g. IPv6addr::2001:db8:0:0:0:0:0:20/64/eth0']);
  assert.match(errs('server1 IPv6addr::2001:db8:0:0:0:0:0:20/0\n')[0]!, /prefix length "0" .* is not 1–128/);
  assert.match(errs('server1 IPv6addr::2001:db8:0:0:0:0:0:20/64/eth0:1\n')[0]!, /has a label: labels are IPv4 only/);
  assert.match(errs('server1 IPaddr2::2001:db8:0:0:0:0:0:20/64/eth0/2001:db8:0:0:0:0:0:ff\n')[0]!, /too many parts: an IPv6 address takes ADDR\/PREFIX\/IFACE \(no broadcast\)/);
  assert.match(errs('server1 IPv6addr::10.0.0.20/64\n')[0]!, /IPv6addr address "10.0.0.20" is not an IPv6 address/);
  assert.match(errs('server1 IPv6addr::ff02:0:0:0:0:0:0:1/64\n')[0]!, /cannot float \(multicast/);
  assert.match(errs('server1 IPaddr::2001:db8::20/64\n')[0]!, /IPaddr takes IPv4 addresses only, not "2001:db8::20" — write IPv6addr::2001:db8:0:0:0:0:0:20\/64/);
  assert.match(errs('server1 2001:db8::20/64\n')[0]!, /a bare IPv6 address: Heartbeat takes a bare address as IPaddr \(IPv4 only\) — write IPv6addr::2001:db8:0:0:0:0:0:20\/64/);
  assert.match(errs('server1 IPv6addr\n')[0]!, /IPv6addr needs an address/);
  const script = one('server1 a::/ cafe::x\n').groups[0]!.resources;
  assert.deepEqual(script.map((r) => r.kind === 'script' && [r.name, r.args]), [['a', ['/']], ['cafe', ['x']]], 'NAME::ARG that also reads as an IPv6 address is a script, as Heartbeat reads it');
  assert.match(errs('server1 IPv6addr::2001:db8:0:0:0:0:0:20/64 IPaddr2::2001:db8::20/64\n')[0]!, /the address 2001:db8::20 is already a resource on line 1/);
});

test("a Heartbeat medium given an IPv6 address: Heartbeat's media stay IPv4", () => {
  const { diagnostics } = analyzeHaCf('node a\nnode b\nbcast eth0\nucast eth0 2001:db8::12\nmcast eth0 ff02::1:2 694 1 0\nbcast 2001:db8::ff\n', 'ha.cf');
  const stay = diagnostics.filter((d) => /Heartbeat's media stay IPv4/.test(d.message)).map((d) => d.line);
  assert.deepEqual(stay, [4, 5, 6]);
  assert.ok(diagnostics.filter((d) => d.line === 4)[0]!.fix!.includes('IPv6addr::'), 'the fix says the VIP may be IPv6');
});

const paths = configPaths('/etc/ha.d');
const hacf = 'keepalive 1\ndeadtime 5\nbcast eth0\nnode server1\nnode server2\n';
const authkeys = 'auth 2\n2 sha1 pass\n';
const eth0 = (extra: object[] = []) => ({ ifname: 'eth0', flags: ['UP'], addr_info: [{ family: 'inet', local: '10.0.0.11', prefixlen: 24, broadcast: '10.0.0.255' }, { family: 'inet6', local: '2001:db8::11', prefixlen: 64, scope: 'global' }, { family: 'inet6', local: 'fe80::11', prefixlen: 64, scope: 'link' }, ...extra] });
function check(haresources: string, links: object[]) {
  const f: HostFacts = { hostname: 'server1', interfaces: interfacesFromIpJson(links), ports: { 694: 'free' } };
  return checkConfigAgainstHost('/etc/ha.d', analyzeConfigTexts({ hacf, authkeys, haresources }, paths, 0o100600), f, 'server1');
}

test('check-config: an IPv6 VIP against the host (interface, prefix, a copy elsewhere, dadfailed)', () => {
  assert.deepEqual(check('server1 IPv6addr::2001:db8:0:0:0:0:0:20/64\n', [eth0()]).errors, [], 'eth0 holds 2001:db8::/64');
  assert.deepEqual(check('server1 IPv6addr::2001:db8:0:0:0:0:0:20/64/eth1\n', [eth0()]).errors.map(formatDiagnostic), ['/etc/ha.d/haresources:1: error: interface "eth1" of 2001:db8::20 does not exist on this host — use one of eth0']);
  assert.match(check('server1 IPv6addr::2001:db8:1:0:0:0:0:20/64\n', [eth0()]).errors.map(formatDiagnostic)[0]!, /haresources:1: error: no interface has an IPv6 prefix that contains 2001:db8:1::20, so IPv6addr cannot choose one — name the interface/);
  assert.match(check('server1 IPv6addr::2001:db8:0:0:0:0:0:20/48\n', [eth0()]).warnings.map(formatDiagnostic).join('\n'), /haresources:1: warning: 2001:db8::20\/48 differs from eth0's prefix \/64/);
  const elsewhere = check('server1 IPv6addr::2001:db8:0:0:0:0:0:20/64/eth0\n', [eth0(), { ifname: 'eth1', flags: ['UP'], addr_info: [{ family: 'inet6', local: '2001:db8::20', prefixlen: 64 }] }]);
  assert.deepEqual(elsewhere.errors.map(formatDiagnostic), ['/etc/ha.d/haresources:1: error: 2001:db8::20 is already configured on eth1, not on eth0 where the cluster adds it — remove it: ip -6 addr del 2001:db8::20/64 dev eth1 (one interface answers neighbour discovery for a VIP)']);
  assert.equal(elsewhere.checks.find((c) => c.name === 'vip-subnet')!.ok, false);
  const failed = check('server1 IPv6addr::2001:db8:0:0:0:0:0:20/64/eth0\n', [eth0([{ family: 'inet6', local: '2001:db8::20', prefixlen: 64, dadfailed: true, tentative: true }])]);
  assert.deepEqual(failed.errors, []);
  assert.match(failed.warnings.map(formatDiagnostic).join('\n'), /2001:db8::20 is on eth0 in state dadfailed .* run-node replaces a dadfailed copy/);
  assert.equal(ipv6InPrefix('2001:db8::20', '2001:db8::11', 64), true);
  assert.equal(ipv6InPrefix('2001:db8:1::20', '2001:db8::11', 64), false);
  assert.equal(ipv6InPrefix('2001:db8::20', '2001:db8::21', 127), true);
  assert.equal(ipv6InPrefix('2001:db8::20', '2001:db8::21', 128), false);
});
