import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planVip, planVip6, type Ipv6HostAddr } from '../../src/effects/node/resources.js';
import { analyzeHaresources } from '../../src/models/config/haresources.js';
import { HadiagError } from '../../src/core/errors.js';

const ADDRS: Ipv6HostAddr[] = [
  { iface: 'lo', local: '::1', prefixlen: 128, scope: 'host' },
  { iface: 'eth0', local: 'fe80::11', prefixlen: 64, scope: 'link' },
  { iface: 'eth0', local: '2001:db8::11', prefixlen: 64, scope: 'global' },
  { iface: 'eth1', local: '2001:db8:1::11', prefixlen: 48, scope: 'global' },
];
const ip = (line: string) => {
  const r = analyzeHaresources(`server1 ${line}\n`).groups[0]!.resources[0]!;
  assert.equal(r.kind, 'ip');
  return r as Extract<typeof r, { kind: 'ip' }>;
};

test('an IPv6 VIP is planned as the IPv6addr agent finds it: the interface whose prefix holds it, that prefix', () => {
  assert.deepEqual(planVip6(ip('IPv6addr::2001:db8:0:0:0:0:0:20'), ADDRS), { ip: '2001:db8::20', prefixLen: 64, iface: 'eth0', ipv6: true });
  assert.deepEqual(planVip6(ip('IPv6addr::2001:db8:1:0:0:0:0:20'), ADDRS), { ip: '2001:db8:1::20', prefixLen: 48, iface: 'eth1', ipv6: true });
  assert.deepEqual(planVip6(ip('IPaddr2::2001:db8:0:0:0:0:0:20/120'), ADDRS), { ip: '2001:db8::20', prefixLen: 120, iface: 'eth0', ipv6: true }, 'the prefix given');
  assert.deepEqual(planVip6(ip('IPv6addr::2001:db8:9:0:0:0:0:20//eth1'), ADDRS), { ip: '2001:db8:9::20', prefixLen: 128, iface: 'eth1', ipv6: true }, 'a named interface without the prefix: /128');
  assert.deepEqual(planVip6(ip('IPv6addr::2001:db8:0:0:0:0:0:20//eth0'), ADDRS), { ip: '2001:db8::20', prefixLen: 64, iface: 'eth0', ipv6: true }, "a named interface with an address of that prefix: the address's");
  assert.throws(() => planVip6(ip('IPv6addr::2001:db8:9:0:0:0:0:20'), ADDRS), (e: unknown) => e instanceof HadiagError && /no interface has an IPv6 prefix that contains 2001:db8:9::20/.test(e.render()));
  assert.throws(() => planVip6(ip('IPv6addr::fe80:0:0:0:0:0:0:20'), ADDRS), /no interface has an IPv6 prefix/, 'a link-local address is no prefix to float in');
  // planVip dispatches on the family (the IPv4 list is not looked at)
  assert.equal(planVip(ip('IPv6addr::2001:db8:0:0:0:0:0:20'), [], ADDRS).iface, 'eth0');
});
