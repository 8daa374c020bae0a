import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parsePcap } from '../../src/codecs/pcap.js';
import { buildGarp, decodeArp, encodeArp } from '../../src/codecs/arp.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { encodeEthernet, ETHERTYPE_IPV4 } from '../../src/codecs/ethernet.js';
import { encodeIpv4, IPPROTO_ICMP, IPPROTO_UDP } from '../../src/codecs/ipv4.js';
import { encodeUdp } from '../../src/codecs/udp.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';
import { encodeNa } from '../../src/codecs/nd.js';
import { ipv6FromBytes, ipv6ToBytes, normMac } from '../../src/codecs/addr.js';

const FIX = new URL('../fixtures/garp-emitters/', import.meta.url).pathname;
const frames = (name: string) => parsePcap(readFileSync(FIX + name)).records.map((r) => r.data);
const VIP = '198.18.0.20';
const MAC = '02:00:00:00:00:12';

test('every GARP form is byte-exact with the sender that emits it', () => {
  const sendArp = frames('send_arp-IPaddr2.pcap');
  assert.deepEqual(buildGarp('request', { vip: VIP, mac: MAC }), sendArp[0], 'send_arp request: target MAC 00:00');
  assert.deepEqual(buildGarp('reply', { vip: VIP, mac: MAC }), sendArp[1], 'send_arp reply: target MAC own');
  assert.deepEqual(buildGarp('request', { vip: VIP, mac: MAC, arpTarget: 'bcast' }), frames('iputils-U.pcap')[0], 'iputils -U');
  assert.deepEqual(buildGarp('reply', { vip: VIP, mac: MAC, arpTarget: 'own' }), frames('iputils-A.pcap')[0], 'iputils -A');
  assert.deepEqual(buildGarp('directed', { vip: VIP, mac: MAC, targetIp: '198.18.0.5' }), frames('iputils-b.pcap')[0], 'iputils -b');
  assert.deepEqual(buildGarp('request', { vip: VIP, mac: MAC, arpTarget: 'bcast', pad: 58 }), frames('habets-U.pcap')[0], 'Habets -U (padded)');
  assert.deepEqual(buildGarp('reply', { vip: VIP, mac: MAC, arpTarget: 'bcast', pad: 58 }), frames('habets-U-P.pcap')[0], 'Habets -U -P');
  const ucarp = frames('ucarp-takeover.pcap').find((f) => f.readUInt16BE(12) === 0x0806)!;
  assert.deepEqual(buildGarp('request', { vip: VIP, mac: MAC, arpTarget: 'own' }), ucarp, 'ucarp: target MAC own');
  const ka = frames('keepalived-takeover.pcap').filter((f) => f.readUInt16BE(12) === 0x0806);
  assert.deepEqual(buildGarp('request', { vip: VIP, mac: MAC, arpTarget: 'bcast' }), ka[0], 'keepalived');
  // the kernel's unicast answer to the client (last ARP of that capture) is our unicast-reply form
  assert.deepEqual(buildGarp('unicast-reply', { vip: VIP, mac: MAC, targetIp: '198.18.0.5', targetMac: '02:00:00:00:00:05' }), ka.at(-1), 'unicast reply');
  const hb = frames('heartbeat-IPaddr-takeover.pcap');
  assert.deepEqual(buildGarp('request', { vip: VIP, mac: '02:00:c6:12:00:0c' }), hb[0]);
  assert.deepEqual(buildGarp('reply', { vip: VIP, mac: '02:00:c6:12:00:0c' }), hb[1]);
  // VLAN tag and decode back
  const tagged = buildGarp('reply', { vip: VIP, mac: MAC, vlan: 42 });
  const d = decodeFrame(tagged);
  assert.equal(d.eth!.vlan, 42);
  assert.equal(d.arp!.op, 2);
  assert.equal(d.arp!.senderIp, VIP);
});

test('ARP decode: all fields of a directed request', () => {
  const f = decodeFrame(frames('iputils-b.pcap')[0]!);
  assert.equal(f.error, undefined);
  assert.deepEqual(f.eth, { dst: 'ff:ff:ff:ff:ff:ff', src: MAC, ethertype: 0x0806 });
  assert.deepEqual(f.arp, { htype: 1, ptype: 0x0800, hlen: 6, plen: 4, op: 1, senderMac: MAC, senderIp: VIP, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: '198.18.0.5' });
});

test('ARP encode/decode round trip (property)', () => {
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
  const ip = fc.ipV4();
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }), mac, ip, mac, ip, (op, senderMac, senderIp, targetMac, targetIp) => {
      const p = { op, senderMac, senderIp, targetMac, targetIp };
      const d = decodeArp(encodeArp(p));
      assert.ok(d.ok);
      assert.deepEqual({ op: d.arp.op, senderMac: d.arp.senderMac, senderIp: d.arp.senderIp, targetMac: d.arp.targetMac, targetIp: d.arp.targetIp }, p);
    }),
  );
});

test('IPv4 + UDP and ICMP echo: encode then decode; tcpdump-valid checksums', () => {
  const udp = encodeUdp({ srcIp: '198.18.0.11', dstIp: '198.18.0.255', srcPort: 694, dstPort: 694 }, Buffer.from('hello'));
  const f = decodeFrame(encodeEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: MAC, ethertype: ETHERTYPE_IPV4 }, encodeIpv4({ src: '198.18.0.11', dst: '198.18.0.255', proto: IPPROTO_UDP, ttl: 1 }, udp)));
  assert.equal(f.ipv4!.src, '198.18.0.11');
  assert.equal(f.ipv4!.ttl, 1);
  assert.equal(f.udp!.dstPort, 694);
  assert.equal(f.udp!.payload.toString(), 'hello');
  const echo = encodeIcmpEcho({ type: 8, id: 0x1234, seq: 77 }, Buffer.alloc(8, 1));
  const g = decodeFrame(encodeEthernet({ dst: MAC, src: MAC, ethertype: ETHERTYPE_IPV4 }, encodeIpv4({ src: '198.18.0.5', dst: VIP, proto: IPPROTO_ICMP }, echo)));
  assert.deepEqual(g.icmp, { type: 8, code: 0, id: 0x1234, seq: 77 });
  // a checksum over a valid ICMP message sums to zero
  let s = 0;
  for (let i = 0; i < echo.length; i += 2) s += echo.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  assert.equal(s, 0xffff);
});

test('IPv6 unsolicited neighbour advertisement (send_ua) decodes with its flags; encoder matches its ICMPv6 bytes', () => {
  const raw = frames('send_ua-IPaddr2.pcap')[0]!;
  const f = decodeFrame(raw);
  assert.equal(f.ipv6!.src, '2001:2::20');
  assert.equal(f.ipv6!.dst, 'ff02::1');
  assert.deepEqual(f.nd, { kind: 'na', target: '2001:2::20', router: false, solicited: false, override: true, targetLinkAddr: MAC });
  const na = encodeNa({ src: '2001:2::20', dst: 'ff02::1', target: '2001:2::20', mac: MAC });
  assert.deepEqual(na, raw.subarray(14 + 40));
});

test('address helpers', () => {
  assert.equal(normMac('2-0-0-0-0-A'), '02:00:00:00:00:0a');
  assert.equal(normMac('nope'), undefined);
  assert.equal(ipv6FromBytes(ipv6ToBytes('2001:db8::1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(ipv6FromBytes(ipv6ToBytes('::')), '::');
  assert.equal(ipv6FromBytes(ipv6ToBytes('fe80::1')), 'fe80::1');
});

test('decodeFrame never throws on malformed input (property) and reports an error for truncation', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(1, 113, 276, 147), (bytes, lt) => {
      const f = decodeFrame(Buffer.from(bytes), lt);
      assert.equal(typeof f, 'object');
    }),
    { numRuns: 2000 },
  );
  const full = buildGarp('request', { vip: VIP, mac: MAC });
  for (let n = 0; n < full.length; n++) assert.ok(decodeFrame(full.subarray(0, n)).error, `cut at ${n}`);
  assert.match(decodeFrame(full, 147).error!, /link type 147/);
});
