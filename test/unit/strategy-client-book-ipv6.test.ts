/**
 * The client book with `ipv6: true`: who a per-client IPv6 strategy (directed, unicast-reply) addresses — the
 * asker of an NS for the VIP, the address/MAC pair of any NA/NS, IPv6 traffic to the VIP, IPv6 neighbour
 * entries — and never the VIP, our own addresses, DAD probes or multicast. Off by default: an IPv4 book is
 * unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientBook, encodeClientList, parseClientList } from '../../src/models/strategy/client-book.js';
import { buildNa, buildNs } from '../../src/codecs/nd.js';
import { encodeEthernet, ETHERTYPE_IPV6 } from '../../src/codecs/ethernet.js';
import { encodeIpv6 } from '../../src/codecs/ipv6.js';
import { parseStrategy, planAnnouncements } from '../../src/models/strategy/language.js';
import { decodeFrame } from '../../src/codecs/decode.js';

const VIP = '2001:db8::20';
const OWN = '02:48:44:00:00:12';
const C5 = { ip: '2001:db8::5', mac: '02:48:44:00:00:05' };
const C6 = { ip: 'fe80::48:44ff:fe00:6', mac: '02:48:44:00:00:06' };

test('an IPv6 book learns the asker of an NS for the VIP, NA/NS pairs, IPv6 traffic to the VIP and neighbour entries; not the VIP, DAD, multicast, us', () => {
  const book = new ClientBook({ vips: [VIP, '198.18.0.20'], ownMacs: [OWN], ipv6: true });
  // a client resolving the VIP (NS to its solicited-node group) and one probing the dead MAC from its link-local address
  assert.equal(book.learnFrame(buildNs({ src: C5.ip, target: VIP, mac: C5.mac }), 1)?.source, 'ns-request');
  assert.equal(book.learnFrame(buildNs({ src: C6.ip, target: VIP, mac: C6.mac, dst: VIP, ethDst: '02:00:00:00:00:11' }), 2)?.ip, C6.ip);
  // someone's NA for the VIP is an announcement, a DAD probe teaches nothing, our own frames neither
  assert.equal(book.learnFrame(buildNa({ vip: VIP, mac: '02:00:00:00:00:11' }), 3), undefined);
  assert.equal(book.learnFrame(buildNs({ src: '::', target: '2001:db8::9', mac: '02:48:44:00:00:09' }), 3), undefined);
  assert.equal(book.learnFrame(buildNs({ src: '2001:db8::12', target: C5.ip, mac: OWN }), 3), undefined);
  // an NA for another host tells its pair; traffic to the VIP tells its source
  assert.equal(book.learnFrame(buildNa({ vip: '2001:db8::7', mac: '02:48:44:00:00:07', dst: C5.ip, ethDst: C5.mac, solicited: true }), 4)?.source, 'nd');
  const ping = encodeEthernet({ dst: OWN, src: '02:48:44:00:00:08', ethertype: ETHERTYPE_IPV6 }, encodeIpv6({ src: '2001:db8::8', dst: VIP, nextHeader: 58, hopLimit: 64 }, Buffer.from('80000000', 'hex')));
  assert.equal(book.learnFrame(ping, 5)?.source, 'ip-to-vip');
  assert.equal(book.learnNeigh([{ dst: '2001:db8::9', dev: 'eth0', lladdr: '02:48:44:00:00:09', state: ['STALE'] }, { dst: '2001:db8::a', lladdr: '02:48:44:00:00:0a', state: ['FAILED'] }, { dst: '198.18.0.5', lladdr: '02:48:44:00:00:05', state: ['REACHABLE'] }], 6), 2);
  assert.deepEqual(book.list, [
    { ip: '198.18.0.5', mac: '02:48:44:00:00:05' },
    { ip: '2001:db8::5', mac: C5.mac },
    { ip: '2001:db8::7', mac: '02:48:44:00:00:07' },
    { ip: '2001:db8::8', mac: '02:48:44:00:00:08' },
    { ip: '2001:db8::9', mac: '02:48:44:00:00:09' },
    { ip: C6.ip, mac: C6.mac },
  ]);
  // the book feeds a directed plan for the IPv6 VIP: one NS per IPv6 client, the IPv4 one left out
  const plan = planAnnouncements(parseStrategy('directed:count=1'), { vip: VIP, mac: OWN, clients: book.list });
  assert.equal(plan.length, 5);
  assert.ok(plan.every((p) => decodeFrame(p.frame).nd?.kind === 'ns'));
  // peers may carry IPv6 clients
  assert.deepEqual(parseClientList(encodeClientList(book.list)), { clients: book.list, bad: 0 });
});

test('without ipv6: true the book is what it was: IPv6 frames and entries teach nothing', () => {
  const book = new ClientBook({ vips: [VIP] });
  assert.equal(book.learnFrame(buildNs({ src: C5.ip, target: VIP, mac: C5.mac }), 1), undefined);
  assert.equal(book.learnNeigh([{ dst: C5.ip, lladdr: C5.mac, state: ['REACHABLE'] }], 1), 0);
  assert.equal(book.size, 0);
});
