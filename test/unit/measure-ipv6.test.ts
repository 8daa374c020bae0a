/** measure-failover on an IPv6 VIP: ICMPv6 echo and ND read as the outage model's events, the kernel's verdict per NA. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNa, buildNs, ICMPV6_ECHO_REQUEST, ipv6MulticastMac } from '../../src/codecs/nd.js';
import { encodeIcmpv6Echo } from '../../src/codecs/icmp.js';
import { encodeIpv6 } from '../../src/codecs/ipv6.js';
import { encodeEthernet } from '../../src/codecs/ethernet.js';
import { wireEventOf } from '../../src/models/measure/frames.js';
import { parseNeighLine } from '../../src/models/measure/neigh-events.js';
import { parsePingLine } from '../../src/models/measure/ping-lines.js';
import { ndVerdict } from '../../src/models/measure/nd-evidence.js';
import type { ArpEvent, NeighEvent, Probe, WireEvent } from '../../src/models/measure/events.js';
import { analyze } from '../../src/models/measure/analyze.js';

const VIP = '2001:db8::20';
const CLIENT = { ip: '2001:db8::5', mac: '02:00:00:00:00:05' };
const OLD = '02:00:00:00:00:11';
const NEW = '02:00:00:00:00:12';

test('an unsolicited NA [O] + target LL reads as a gratuitous reply from the VIP with the announced MAC', () => {
  const e = wireEventOf(buildNa({ vip: VIP, mac: NEW }), 1000) as ArpEvent;
  assert.equal(e.kind, 'arp');
  assert.equal(e.op, 'reply');
  assert.equal(e.senderIp, VIP);
  assert.equal(e.targetIp, VIP);
  assert.equal(e.senderMac, NEW);
  assert.equal(e.dstMac, 'ff:ff:ff:ff:ff:ff');
  assert.equal(e.nd?.ethDst, '33:33:00:00:00:01');
  assert.equal(e.nd?.msg.override, true);
});

test('an NS for the VIP to its solicited-node group reads as a broadcast request from the client', () => {
  const e = wireEventOf(buildNs({ src: CLIENT.ip, target: VIP, mac: CLIENT.mac }), 1000) as ArpEvent;
  assert.equal(e.op, 'request');
  assert.equal(e.senderIp, CLIENT.ip);
  assert.equal(e.targetIp, VIP);
  assert.equal(e.dstMac, 'ff:ff:ff:ff:ff:ff');
  assert.equal(e.nd?.ethDst, ipv6MulticastMac('ff02::1:ff00:20'));
});

test('an ICMPv6 echo request reads as an icmp event with id and seq', () => {
  const msg = encodeIcmpv6Echo({ type: ICMPV6_ECHO_REQUEST, id: 77, seq: 9, src: CLIENT.ip, dst: VIP }, Buffer.alloc(16));
  const frame = encodeEthernet({ dst: OLD, src: CLIENT.mac, ethertype: 0x86dd }, encodeIpv6({ src: CLIENT.ip, dst: VIP, nextHeader: 58, hopLimit: 64 }, msg));
  const e = wireEventOf(frame, 5);
  assert.deepEqual(e && e.kind === 'icmp' ? [e.type, e.srcIp, e.dstIp, e.id, e.seq, e.dstMac] : e, ['echo-request', CLIENT.ip, VIP, 77, 9, OLD]);
});

test('ip -6 monitor neigh and ping -6 lines parse', () => {
  const n = parseNeighLine('[2026-12-08T00:30:00.000001] 2001:db8::20 dev eth0 lladdr 02:00:00:00:00:12 router STALE', undefined, 6);
  assert.deepEqual([n?.ip, n?.lladdr, n?.states, n?.router], [VIP, NEW, ['STALE'], true]);
  const p = parsePingLine('[1765153800.123456] 64 bytes from 2001:db8::20: icmp_seq=12 ttl=64 time=0.061 ms');
  assert.deepEqual(p, { kind: 'reply', tsMs: 1765153800123.456, seq: 12, from: VIP, dup: false, rttMs: 0.061 });
  assert.equal(parsePingLine('[1765153800.123456] 64 bytes from 10.0.0.20: icmp_seq=12 ttl=64 time=0.061 ms')?.kind, 'reply');
});

test('the kernel verdict: NA taken with O; kept old without O; dropped with drop_unsolicited_na; no target LL', () => {
  const at = (frame: Buffer) => wireEventOf(frame, 2000) as ArpEvent;
  const ctx = { vipNeigh: [{ tsMs: 1000, src: 'ip-ts' as const, ip: VIP, lladdr: OLD, states: ['REACHABLE'], deleted: false, raw: '' }] };
  const ok = ndVerdict(at(buildNa({ vip: VIP, mac: NEW })), ctx, CLIENT, OLD)!;
  assert.equal(ok.accepted, true, ok.reason);
  const noO = ndVerdict(at(buildNa({ vip: VIP, mac: NEW, override: false })), ctx, CLIENT, OLD)!;
  assert.equal(noO.accepted, false);
  assert.match(noO.reason, /override flag clear/);
  assert.equal(noO.entryBefore, `REACHABLE ${OLD}`);
  const dropped = ndVerdict(at(buildNa({ vip: VIP, mac: NEW })), { ...ctx, sysctls: { drop_unsolicited_na: 1 } }, CLIENT, OLD)!;
  assert.equal(dropped.accepted, false);
  assert.match(dropped.reason, /drop_unsolicited_na=1/);
  const srcLl = ndVerdict(at(buildNa({ vip: VIP, mac: NEW, option: 'source' })), ctx, CLIENT, OLD)!;
  assert.equal(srcLl.accepted, false);
  assert.match(srcLl.reason, /no target link-layer option/);
  // an NS from the VIP to this host moves the entry whatever drop_unsolicited_na says
  const ns = ndVerdict(at(buildNs({ src: VIP, target: CLIENT.ip, mac: NEW, dst: CLIENT.ip, ethDst: CLIENT.mac })), { ...ctx, sysctls: { drop_unsolicited_na: 1 } }, CLIENT, OLD)!;
  assert.equal(ns.accepted, true, ns.reason);
});

// --- the whole analysis on a synthetic IPv6 run -------------------------------------------------------------

const T0 = 1_800_000_000_000;
const ev = (frame: Buffer, t: number) => wireEventOf(frame, T0 + t)!;
const echo = (t: number, type: 'echo-request' | 'echo-reply', seq: number, mac: string): WireEvent =>
  type === 'echo-request'
    ? { kind: 'icmp', tsMs: T0 + t, type, srcMac: CLIENT.mac, dstMac: mac, srcIp: CLIENT.ip, dstIp: VIP, id: 7, seq }
    : { kind: 'icmp', tsMs: T0 + t, type, srcMac: mac, dstMac: CLIENT.mac, srcIp: VIP, dstIp: CLIENT.ip, id: 7, seq };
const nb = (t: number, state: string, lladdr?: string): NeighEvent => ({ tsMs: T0 + t, src: 'ip-ts', ip: VIP, states: [state], deleted: false, raw: '', ...(lladdr ? { lladdr } : {}) });

/** Probes every 5 ms for 6 s; no answer in [2000, upAt); answers from NEW from upAt. */
function run6(upAt: number, extra: WireEvent[], neigh: NeighEvent[], sysctls: Record<string, number> = {}) {
  const probes: Probe[] = [];
  const wire: WireEvent[] = [...extra];
  for (let seq = 1, t = 0; t < 6000; seq++, t += 5) {
    const mac = t >= upAt ? NEW : OLD;
    wire.push(echo(t + 0.01, 'echo-request', seq, mac));
    const p: Probe = { seq, sentTsMs: T0 + t };
    if (t < 2000 || t >= upAt) {
      p.replyTsMs = T0 + t + 0.2;
      wire.push(echo(t + 0.15, 'echo-reply', seq, mac));
    }
    probes.push(p);
  }
  return analyze({ vip: VIP, intervalMs: 5, probes, wire, neigh, iface: 'eth0', client: CLIENT, sysctls });
}

test('analysis: an NA without the override flag → announcements-ignored, the kernel reason in sentence and evidence', () => {
  const extra = [
    ev(buildNa({ vip: VIP, mac: NEW, override: false }), 2500),
    ...[3000, 3250, 3500].map((t) => ev(buildNs({ src: CLIENT.ip, target: VIP, mac: CLIENT.mac, dst: VIP, ethDst: OLD }), t)),
    ev(buildNs({ src: CLIENT.ip, target: VIP, mac: CLIENT.mac }), 3800),
    ev(buildNa({ vip: VIP, mac: NEW, dst: CLIENT.ip, ethDst: CLIENT.mac, solicited: true }), 3800.3),
  ];
  const a = run6(3800.5, extra, [nb(100, 'REACHABLE', OLD), nb(3800.4, 'REACHABLE', NEW)]);
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'announcements-ignored', o.diagnosis.sentence);
  assert.match(o.diagnosis.sentence, /override flag clear: the entry keeps 02:00:00:00:00:11 and goes STALE/);
  assert.equal(o.unicastProbesToOld.length, 3);
  assert.equal(o.broadcastAnswer?.mac, NEW);
  assert.equal(o.announcements[0]?.form, 'unsolicited-na');
  assert.ok(o.diagnosis.evidence.some((l) => /kernel's verdict on 1 unsolicited-na .*entry REACHABLE 02:00:00:00:00:11/.test(l)), o.diagnosis.evidence.join('\n'));
  assert.match(o.diagnosis.fixes.find((x) => x.snippet)!.snippet!, /net\.ipv6\.neigh\.eth0\.retrans_time_ms/);
});

test('analysis: the new holder ran DAD on the VIP → said in the sentence, "add the VIP without DAD" first', () => {
  const extra = [ev(buildNs({ src: '::', target: VIP, mac: NEW }), 2100), ev(buildNa({ vip: VIP, mac: NEW }), 3100)];
  const a = run6(3100.5, extra, [nb(100, 'REACHABLE', OLD), nb(3100.2, 'STALE', NEW)]);
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'detection-bound', o.diagnosis.sentence);
  assert.deepEqual(o.dadProbes?.map((p) => p.mac), [NEW]);
  assert.match(o.diagnosis.sentence, /ran duplicate-address detection on 2001:db8::20 first/);
  assert.equal(o.diagnosis.fixes[0]!.title, 'add the VIP without DAD');
  // without the DAD probe: no such sentence
  const b = run6(3100.5, [ev(buildNa({ vip: VIP, mac: NEW }), 3100)], [nb(100, 'REACHABLE', OLD), nb(3100.2, 'STALE', NEW)]).outages[0]!;
  assert.doesNotMatch(b.diagnosis.sentence, /duplicate-address/);
});
