/** The field report's failure, built frame by frame: the client ignores the GARPs and recovers by its own probes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildArpFrame, buildGarp } from '../../src/codecs/arp.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { encodeEthernet, ETHERTYPE_IPV4 } from '../../src/codecs/ethernet.js';
import { encodeIpv4, IPPROTO_ICMP } from '../../src/codecs/ipv4.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';
import { GarpAnalyzer } from '../../src/models/resolution/garp-watch.js';

const VIP = '10.0.0.20';
const OLD = '02:00:00:00:00:11';
const NEW = '02:00:00:00:00:12';
const PC = { ip: '10.0.0.5', mac: '02:00:00:00:00:05' };
const ping = (dstMac: string, seq: number) =>
  encodeEthernet({ dst: dstMac, src: PC.mac, ethertype: ETHERTYPE_IPV4 }, encodeIpv4({ src: PC.ip, dst: VIP, proto: IPPROTO_ICMP }, encodeIcmpEcho({ type: 8, id: 1, seq })));

function fieldReport(): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  const t0 = 1_700_000_000_000;
  for (let s = 0; s < 28; s++) out.push([t0 + s * 1000, ping(s < 28 - 0 ? OLD : NEW, s)]);
  for (let i = 0; i < 10; i++) {
    out.push([t0 + 5200 + i * 500, buildGarp('request', { vip: VIP, mac: NEW })]);
    out.push([t0 + 5450 + i * 500, buildGarp('reply', { vip: VIP, mac: NEW })]);
  }
  for (const s of [25.1, 26.1, 27.1]) out.push([t0 + s * 1000, buildArpFrame({ ethDst: OLD, op: 1, senderMac: PC.mac, senderIp: PC.ip, targetMac: OLD, targetIp: VIP })]);
  out.push([t0 + 28_100, buildArpFrame({ ethDst: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: PC.mac, senderIp: PC.ip, targetMac: '00:00:00:00:00:00', targetIp: VIP })]);
  out.push([t0 + 28_101, buildGarp('unicast-reply', { vip: VIP, mac: NEW, targetIp: PC.ip, targetMac: PC.mac })]);
  out.push([t0 + 28_110, ping(NEW, 29)]);
  return out.sort((a, b) => a[0] - b[0]);
}

test('ignored announcements: kept the old MAC, 3 unicast probes to it, then broadcast — one-sentence conclusion', () => {
  const a = new GarpAnalyzer({ vip: VIP });
  for (const [ts, f] of fieldReport()) a.add(ts, decodeFrame(f));
  const s = a.summary();
  assert.equal(s.takeovers.length, 1);
  assert.equal(s.takeovers[0]!.previousMac, undefined);
  const c = s.clients[0]!;
  assert.equal(c.oldMac, OLD);
  assert.equal(c.verdict, 'ignored');
  assert.equal(c.probesToOld.length, 3);
  assert.ok(c.sentToOldMac >= 20);
  assert.equal(c.conclusion, `client ${PC.ip}: the announcements at +5.20 s reached this interface but the host kept the old MAC ${OLD}, sent 3 unicast ARP probe(s) to it from +25.10 s until its own probes failed at +28.10 s: it ignored or filtered them`);
});

test('split brain: two MACs alternate announcing the VIP', () => {
  const a = new GarpAnalyzer({ vip: VIP });
  const t0 = 1_700_000_000_000;
  [OLD, NEW, OLD, NEW].forEach((mac, i) => a.add(t0 + i * 1500, decodeFrame(buildGarp('request', { vip: VIP, mac }))));
  const s = a.summary();
  assert.ok(s.warnings.some((w) => w.code === 'split-brain' && w.message.includes(OLD) && w.message.includes(NEW)));
  assert.ok(s.warnings.some((w) => w.code === 'mac-flapping'));
});

test('malformed announcements are flagged: unicast destination, sender MAC ≠ Ethernet source', () => {
  const a = new GarpAnalyzer({ vip: VIP });
  const r1 = a.add(1, decodeFrame(buildArpFrame({ ethDst: PC.mac, op: 1, senderMac: NEW, senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: VIP })))!;
  assert.match(r1.warnings[0]!, /unicast Ethernet address/);
  const r2 = a.add(2, decodeFrame(buildArpFrame({ ethDst: 'ff:ff:ff:ff:ff:ff', ethSrc: OLD, op: 2, senderMac: NEW, senderIp: VIP, targetMac: NEW, targetIp: VIP })))!;
  assert.match(r2.problems[0]!, /sender MAC 02:00:00:00:00:12 differs from the Ethernet source 02:00:00:00:00:11/);
  const r3 = a.add(3, decodeFrame(buildArpFrame({ ethDst: 'ff:ff:ff:ff:ff:ff', op: 2, senderMac: NEW, senderIp: VIP, targetMac: NEW, targetIp: '10.0.0.99' })))!;
  assert.match(r3.problems[0]!, /broadcast reply whose target IP 10\.0\.0\.99 differs from its sender IP/);
  assert.equal(a.summary().malformed, 3);
  assert.ok(a.summary().warnings.filter((w) => w.code === 'malformed').length >= 2);
});
