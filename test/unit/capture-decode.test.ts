/**
 * Captures from anywhere, frame by frame: Ethernet behind any stack of VLAN tags, ARP in 802.3 LLC/SNAP frames,
 * Linux cooked v1/v2 (who sent it), raw IPv4/IPv6 with no link layer; and what each use of a capture can do
 * with each link type (src/models/capture/support.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, sentByCapturingHost, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6 } from '../../src/codecs/decode.js';
import { encodeArp, buildGarp } from '../../src/codecs/arp.js';
import { encodeEthernet, encodeSnapFrame, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD, ETHERTYPE_VLAN } from '../../src/codecs/ethernet.js';
import { encodeIpv4, IPPROTO_ICMP } from '../../src/codecs/ipv4.js';
import { encodeIpv6 } from '../../src/codecs/ipv6.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';
import { encodeNa } from '../../src/codecs/nd.js';
import { linkSupport, linkTypeLabel } from '../../src/models/capture/support.js';

const VIP = '198.18.0.20';
const MAC = '02:00:00:00:00:12';
const arpReply = encodeArp({ op: 2, senderMac: MAC, senderIp: VIP, targetMac: MAC, targetIp: VIP });
const echo = encodeIpv4({ src: '198.18.0.5', dst: VIP, proto: IPPROTO_ICMP }, encodeIcmpEcho({ type: 8, id: 0x1234, seq: 7 }, Buffer.alloc(16, 0x61)));

test('VLAN stacks: every tag decoded, outermost first, whatever the TPIDs (802.1Q, 802.1ad, 0x9100)', () => {
  const stacks = [
    [{ tpid: ETHERTYPE_VLAN, id: 20 }],
    [{ tpid: ETHERTYPE_QINQ, id: 100 }, { tpid: ETHERTYPE_VLAN, id: 20, pcp: 5 }],
    [{ tpid: ETHERTYPE_QINQ_OLD, id: 300 }, { tpid: ETHERTYPE_QINQ, id: 100 }, { tpid: ETHERTYPE_VLAN, id: 20, dei: true }],
    Array.from({ length: 7 }, (_, i) => ({ tpid: ETHERTYPE_VLAN, id: i + 1 })),
  ];
  for (const tags of stacks) {
    const f = decodeFrame(encodeEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: MAC, ethertype: ETHERTYPE_ARP, tags }, arpReply));
    assert.equal(f.error, undefined);
    assert.deepEqual(f.eth!.tags!.map((t) => [t.tpid, t.id]), tags.map((t) => [t.tpid, t.id]));
    assert.equal(f.eth!.vlan, tags[0]!.id, 'vlan stays the outer tag');
    assert.equal(f.eth!.ethertype, ETHERTYPE_ARP);
    assert.equal(f.arp!.senderIp, VIP);
  }
  const qinq = decodeFrame(encodeEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: MAC, ethertype: ETHERTYPE_ARP, tags: stacks[1]! }, arpReply));
  assert.deepEqual(qinq.eth!.tags![1], { tpid: ETHERTYPE_VLAN, pcp: 5, dei: false, id: 20 });
  // a tag cut short is an error, not a crash
  const cut = encodeEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: MAC, ethertype: ETHERTYPE_ARP, tags: stacks[2]! }, Buffer.alloc(0)).subarray(0, 20);
  assert.match(decodeFrame(cut).error!, /truncated VLAN tag/);
});

test('ARP inside an 802.3 LLC/SNAP frame decodes as ARP; other 802.3 frames keep their length field', () => {
  const snap = encodeSnapFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: MAC, ethertype: ETHERTYPE_ARP }, arpReply);
  assert.equal(snap.readUInt16BE(12), 8 + 28, 'a length field, not an ethertype');
  const f = decodeFrame(snap);
  assert.equal(f.error, undefined);
  assert.equal(f.eth!.ethertype, ETHERTYPE_ARP);
  assert.deepEqual(f.eth!.ieee8023, { length: 36, snap: { oui: 0 } });
  assert.deepEqual(f.arp, decodeFrame(buildGarp('reply', { vip: VIP, mac: MAC, arpTarget: 'own' })).arp);
  // LLC/SNAP behind a VLAN tag
  const tagged = Buffer.concat([snap.subarray(0, 12), Buffer.from([0x81, 0x00, 0x00, 0x14]), snap.subarray(12)]);
  assert.equal(decodeFrame(tagged).arp!.senderMac, MAC);
  assert.equal(decodeFrame(tagged).eth!.vlan, 20);
  // spanning tree (LLC 42 42 03) and a SNAP header with a vendor OUI: not ARP, no error
  const stp = Buffer.concat([snap.subarray(0, 12), Buffer.from([0x00, 0x26, 0x42, 0x42, 0x03]), Buffer.alloc(35)]);
  const s = decodeFrame(stp);
  assert.equal(s.error, undefined);
  assert.equal(s.arp, undefined);
  assert.deepEqual(s.eth!.ieee8023, { length: 0x26 });
  const vendor = Buffer.from(snap);
  vendor[17] = 0x0c; // OUI 00 00 0c (Cisco): its "ethertype" is a Cisco protocol id
  assert.equal(decodeFrame(vendor).arp, undefined);
});

test('Linux cooked v1/v2: layers decoded, no destination MAC, and who sent the frame', () => {
  const sll = (pktType: number, payload: Buffer) => {
    const h = Buffer.alloc(16);
    h.writeUInt16BE(pktType, 0);
    h.writeUInt16BE(1, 2);
    h.writeUInt16BE(6, 4);
    Buffer.from(MAC.split(':').map((x) => parseInt(x, 16))).copy(h, 6);
    h.writeUInt16BE(ETHERTYPE_IPV4, 14);
    return Buffer.concat([h, payload]);
  };
  const sll2 = (pktType: number, payload: Buffer) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(ETHERTYPE_IPV4, 0);
    h.writeUInt32BE(3, 4);
    h.writeUInt16BE(1, 8);
    h[10] = pktType;
    h[11] = 6;
    Buffer.from(MAC.split(':').map((x) => parseInt(x, 16))).copy(h, 12);
    return Buffer.concat([h, payload]);
  };
  for (const [lt, make] of [[LINKTYPE_LINUX_SLL, sll], [LINKTYPE_LINUX_SLL2, sll2]] as const) {
    const out = decodeFrame(make(4, echo), lt);
    assert.equal(out.error, undefined);
    assert.equal(out.icmp!.type, 8);
    assert.equal(out.eth!.src, MAC);
    assert.equal(out.eth!.dst, '', 'the destination MAC is not in a cooked header');
    assert.equal(out.cooked!.pktTypeName, 'outgoing');
    assert.equal(sentByCapturingHost(out), true);
    const inbound = decodeFrame(make(0, echo), lt);
    assert.equal(inbound.cooked!.pktTypeName, 'host');
    assert.equal(sentByCapturingHost(inbound), false);
  }
  assert.equal(sentByCapturingHost(decodeFrame(buildGarp('request', { vip: VIP, mac: MAC }))), undefined, 'Ethernet does not say');
});

test('raw IPv4/IPv6 (LINKTYPE_RAW 101, IPV4 228, IPV6 229, DLT_RAW 12/14): IP with no link layer', () => {
  const na = encodeNa({ src: 'fe80::12', dst: 'ff02::1', target: '2001:db8::20', mac: MAC, override: true });
  const ip6 = encodeIpv6({ src: 'fe80::12', dst: 'ff02::1', nextHeader: 58, hopLimit: 255 }, na);
  for (const lt of [LINKTYPE_RAW, 12, 14, LINKTYPE_IPV4]) {
    const f = decodeFrame(echo, lt);
    assert.equal(f.error, undefined, `link type ${lt}`);
    assert.equal(f.eth, undefined);
    assert.equal(f.ipv4!.dst, VIP);
    assert.deepEqual([f.icmp!.id, f.icmp!.seq], [0x1234, 7]);
  }
  for (const lt of [LINKTYPE_RAW, LINKTYPE_IPV6]) {
    const f = decodeFrame(ip6, lt);
    assert.equal(f.error, undefined, `link type ${lt}`);
    assert.equal(f.nd!.target, '2001:db8::20');
  }
  assert.match(decodeFrame(ip6, LINKTYPE_IPV4).error!, /IP version 6/, 'LINKTYPE_IPV4 holds IPv4 only');
  assert.match(decodeFrame(Buffer.alloc(0), LINKTYPE_RAW).error!, /truncated IPv4/);
  assert.match(decodeFrame(echo, 7).error!, /link type 7 is not supported/);
});

test('what each use can do with each link type', () => {
  for (const use of ['arp', 'icmp', 'heartbeat'] as const) {
    assert.deepEqual(linkSupport(LINKTYPE_ETHERNET, use), { ok: true, layer: 'ethernet', limits: [] });
    const cooked = linkSupport(LINKTYPE_LINUX_SLL2, use);
    assert.ok(cooked.ok && cooked.layer === 'cooked');
    assert.match(cooked.limits[0]!, /no destination MAC/);
    const arcnet = linkSupport(7, use);
    assert.ok(!arcnet.ok);
    assert.match(arcnet.what, /^link type 7 \(ARCNET_BSD\) is not supported/);
    assert.match(arcnet.fix, /tcpdump -i eth0/);
  }
  const rawForArp = linkSupport(LINKTYPE_RAW, 'arp');
  assert.ok(!rawForArp.ok);
  assert.equal(rawForArp.what, 'link type 101 (RAW) has no link layer, so no ARP');
  assert.match(rawForArp.fix, /capture on the Ethernet interface, e.g. tcpdump -i eth0/);
  for (const lt of [LINKTYPE_RAW, 12, 14, LINKTYPE_IPV4, LINKTYPE_IPV6]) {
    const icmp = linkSupport(lt, 'icmp');
    assert.ok(icmp.ok && icmp.layer === 'ip', `raw IP ${lt} for icmp`);
    assert.match(icmp.limits[0]!, /no link layer/);
    assert.ok(linkSupport(lt, 'heartbeat').ok);
  }
  assert.equal(linkTypeLabel(107), '107 (FRELAY, Frame Relay)');
  assert.equal(linkTypeLabel(4242), '4242');
});
