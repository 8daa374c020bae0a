import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, type AnalysisInput } from '../../src/models/measure/analyze.js';
import type { NeighEvent, Probe, WireEvent } from '../../src/models/measure/events.js';
import { findOutages, defaultRules } from '../../src/models/measure/outages.js';
import { VIP, CLIENT, OLD, NEW, BC, T0 } from './measure-scene.js';

/**
 * A synthetic run: probes every `interval` ms for `durationMs`; the VIP stops answering at `downAt`; from
 * `switchAt` the client sends to `newMac`, which answers (if `upAt` ≤ then). Times relative to T0.
 */
function run(o: { durationMs: number; downAt: number; switchAt?: number; macAfter?: string; interval?: number; extra?: WireEvent[]; neigh?: NeighEvent[]; outages?: [number, number][] }) {
  const interval = o.interval ?? 5;
  const probes: Probe[] = [];
  const wire: WireEvent[] = [...(o.extra ?? [])];
  const down = (t: number) => (o.outages ? o.outages.some(([a, b]) => t >= a && t < b) : t >= o.downAt && (o.switchAt === undefined || t < o.switchAt));
  for (let seq = 1, t = 0; t < o.durationMs; seq++, t += interval) {
    const ts = T0 + t;
    const toNew = !o.outages && o.switchAt !== undefined && t >= o.switchAt;
    const dst = toNew ? (o.macAfter ?? NEW) : OLD;
    wire.push({ kind: 'icmp', tsMs: ts + 0.01, type: 'echo-request', srcMac: CLIENT.mac, dstMac: dst, srcIp: CLIENT.ip, dstIp: VIP, id: 7, seq: seq & 0xffff });
    const p: Probe = { seq, sentTsMs: ts, sentEstimated: false };
    if (!down(t)) {
      p.replyTsMs = ts + 0.2;
      wire.push({ kind: 'icmp', tsMs: ts + 0.15, type: 'echo-reply', srcMac: dst, dstMac: CLIENT.mac, srcIp: VIP, dstIp: CLIENT.ip, id: 7, seq: seq & 0xffff });
    } else {
      delete p.sentTsMs;
    }
    probes.push(p);
  }
  return { probes, wire };
}

const garp = (t: number, mac = NEW, op: 'request' | 'reply' = 'request'): WireEvent => ({ kind: 'arp', tsMs: T0 + t, op, srcMac: mac, dstMac: BC, senderMac: mac, senderIp: VIP, targetMac: op === 'request' ? '00:00:00:00:00:00' : mac, targetIp: VIP });
const ask = (t: number, dst: string): WireEvent => ({ kind: 'arp', tsMs: T0 + t, op: 'request', srcMac: CLIENT.mac, dstMac: dst, senderMac: CLIENT.mac, senderIp: CLIENT.ip, targetMac: '00:00:00:00:00:00', targetIp: VIP });
const answer = (t: number, mac = NEW): WireEvent => ({ kind: 'arp', tsMs: T0 + t, op: 'reply', srcMac: mac, dstMac: CLIENT.mac, senderMac: mac, senderIp: VIP, targetMac: CLIENT.mac, targetIp: CLIENT.ip });
const hb = (from: number, to: number, ip: string, mac: string): WireEvent[] => {
  const out: WireEvent[] = [];
  for (let t = from; t < to; t += 1000) out.push({ kind: 'cluster', tsMs: T0 + t, proto: 'heartbeat', srcMac: mac, srcIp: ip, dstIp: '198.18.0.255' });
  return out;
};
const neigh = (t: number, state: string, lladdr?: string): NeighEvent => ({ tsMs: T0 + t, src: 'ip-ts', ip: VIP, states: [state], deleted: false, raw: '', ...(lladdr ? { lladdr } : {}) });

function input(r: { probes: Probe[]; wire: WireEvent[] }, extra: Partial<AnalysisInput> = {}): AnalysisInput {
  return { vip: VIP, intervalMs: 5, probes: r.probes, wire: r.wire, neigh: [], iface: 'eth0', ...extra };
}

test('synthetic: accepted GARP → detection-bound, duration and MACs from the captured replies', () => {
  const r = run({ durationMs: 8000, downAt: 2000, switchAt: 5000, extra: [garp(4999.9), ...hb(0, 2001, '198.18.0.11', OLD), ...hb(0, 8000, '198.18.0.12', NEW)] });
  const a = analyze(input(r, { neigh: [neigh(5000, 'STALE', NEW)] }));
  assert.equal(a.outages.length, 1);
  const o = a.outages[0]!;
  assert.ok(Math.abs(o.durationMs! - 3000.2) < 0.5, `duration ${o.durationMs}`);
  assert.equal(o.macBefore, OLD);
  assert.equal(o.macAfter, NEW);
  assert.equal(o.learnedBy, 'announcement');
  assert.ok(o.acceptLatencyMs! < 1, `latency ${o.acceptLatencyMs}`);
  assert.equal(o.diagnosis.cause, 'detection-bound');
  assert.match(o.diagnosis.sentence, /Takeover itself took 3\.00 s \(detection\); this host switched to 02:00:00:00:00:0c 0\.\d+ ms after the first announcement/);
  assert.equal(a.problem, false);
  assert.ok(o.timeline.some((e) => e.kind === 'cluster-stop' && /198\.18\.0\.11/.test(e.text)), JSON.stringify(o.timeline.map((e) => e.text)));
  assert.ok(o.timeline.some((e) => e.kind === 'announcement' && /this host took it/.test(e.text)));
  // --expect below the outage turns it into a problem
  const b = analyze(input(r, { expectMs: 2000 }));
  assert.equal(b.problem, true);
  assert.match(b.outages[0]!.diagnosis.sentence, /exceeds the expected 2\.00 s/);
});

test('synthetic: GARPs ignored → unicast probes to the dead MAC, broadcast, own-timeout recovery', () => {
  const extra = [garp(5000), garp(5250, NEW, 'reply'), garp(5500), ask(12000, OLD), ask(13000, OLD), ask(14000, OLD), ask(15000, BC), answer(15000.3)];
  const r = run({ durationMs: 17000, downAt: 2000, switchAt: 15000.3, extra });
  const a = analyze(input(r, { sysctls: { drop_gratuitous_arp: 1 }, neigh: [neigh(11000, 'DELAY', OLD), neigh(12000, 'PROBE', OLD), neigh(15000, 'INCOMPLETE'), neigh(15000.35, 'REACHABLE', NEW)] }));
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'announcements-ignored');
  assert.equal(o.learnedBy, 'own-resolution');
  assert.deepEqual(o.unicastProbesToOld.length, 3);
  assert.equal(o.broadcastAnswer?.mac, NEW);
  assert.equal(o.announcements.length, 3, 'the answer to the broadcast request is not an announcement');
  assert.match(o.diagnosis.sentence, /Announcements arrived at \+3\.00 s but this host ignored them \(drop_gratuitous_arp=1\): it recovered only through its own ARP timeout at \+13\.00 s \(3 unicast probes to the dead MAC, then broadcast\)/);
  assert.equal(a.problem, true);
  assert.equal(o.diagnosis.fixes[0]!.side, 'client');
  assert.match(o.diagnosis.fixes[0]!.detail, /drop_gratuitous_arp=0/);
  assert.ok(o.diagnosis.fixes.some((f) => f.snippet && /base_reachable_time_ms/.test(f.snippet)));
  const kinds = o.timeline.map((e) => e.kind);
  assert.ok(kinds.indexOf('announcement') < kinds.indexOf('unicast-probe') && kinds.indexOf('unicast-probe') < kinds.indexOf('broadcast-request'));
});

test('synthetic: no announcement at all → no-announcement; without sysctl evidence the filter is named generically', () => {
  const extra = [ask(12000, OLD), ask(13000, OLD), ask(14000, OLD), ask(15000, BC), answer(15000.3)];
  const a = analyze(input(run({ durationMs: 17000, downAt: 2000, switchAt: 15000.3, extra })));
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'no-announcement');
  assert.match(o.diagnosis.sentence, /^No announcement for 198\.18\.0\.20 reached this interface/);
  assert.equal(o.diagnosis.fixes[0]!.side, 'server');
  const b = analyze(input(run({ durationMs: 17000, downAt: 2000, switchAt: 15000.3, extra: [garp(5000), ...extra] })));
  assert.match(b.outages[0]!.diagnosis.sentence, /an ARP filter dropping sender IP = target IP/);
});

test('synthetic: same MAC before and after (loss / partition / vmac) is not blamed on ARP', () => {
  const r = run({ durationMs: 6000, downAt: 0, outages: [[1000, 2500]] });
  const a = analyze(input(r));
  assert.equal(a.outages.length, 1);
  assert.equal(a.outages[0]!.diagnosis.cause, 'same-mac');
  assert.equal(a.problem, false);
});

test('synthetic: flapping → each outage reported; isolated single losses are not outages', () => {
  const r = run({ durationMs: 10000, downAt: 0, outages: [[1000, 1500], [3000, 3005], [6000, 7000]] });
  const a = analyze(input(r));
  assert.equal(a.outages.length, 2);
  assert.ok(Math.abs(a.outages[0]!.durationMs! - 500.2) < 0.5);
  assert.ok(Math.abs(a.outages[1]!.durationMs! - 1000.2) < 0.5);
  assert.deepEqual(a.outages.map((o) => o.index), [1, 2]);
});

test('synthetic: never recovered with unanswered broadcasts → problem naming that nobody answered', () => {
  const r = run({ durationMs: 10000, downAt: 2000, extra: [ask(6000, OLD), ask(9000, BC)] });
  const a = analyze(input(r, { runEndTsMs: T0 + 12000 }));
  const o = a.outages[0]!;
  assert.equal(o.recovered, false);
  assert.equal(o.diagnosis.cause, 'never-recovered');
  assert.match(o.diagnosis.sentence, /nobody answered/);
  assert.equal(a.problem, true);
});

test('trigger: times are relative to t0 when a trigger was given', () => {
  const r = run({ durationMs: 8000, downAt: 2000, switchAt: 5000, extra: [garp(4999.9)] });
  const a = analyze(input(r, { triggerTsMs: T0 + 1500 }));
  const o = a.outages[0]!;
  assert.equal(o.refTsMs, T0 + 1500);
  assert.equal(o.timeline[0]!.kind, 'trigger');
  assert.match(o.diagnosis.sentence, /Takeover itself took 3\.50 s/);
});

test('findOutages: unanswered probes still in flight at the end are not an outage', () => {
  const probes: Probe[] = [];
  for (let i = 0; i < 100; i++) probes.push({ seq: i, sentTsMs: i * 5, sentEstimated: false, ...(i < 97 ? { replyTsMs: i * 5 + 0.1 } : {}) });
  assert.equal(findOutages(probes, defaultRules(5), 500).length, 0);
  assert.equal(findOutages(probes, defaultRules(5), 5000).length, 1);
});

test('synthetic: client asked by broadcast before any node held the VIP → takeover-bound (detection), not an ARP fault', () => {
  const extra = [ask(3000, OLD), ask(4000, OLD), ask(5000, OLD), ask(6000, BC), ask(7000, BC), ask(8000, BC), answer(8000.4), garp(8200)];
  const a = analyze(input(run({ durationMs: 10000, downAt: 1000, switchAt: 8000.4, extra })));
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'detection-bound');
  assert.match(o.diagnosis.sentence, /^Takeover itself took 7\.00 s: this host had already dropped the dead MAC and was asking for 198\.18\.0\.20 by broadcast \(2 unanswered\) until 02:00:00:00:00:0c answered at \+7\.00 s; the first announcement followed at \+7\.20 s\.$/);
  assert.equal(a.problem, false);
  // the same, but the VIP answered the very first broadcast and the GARP came later: announced too late
  const b = analyze(input(run({ durationMs: 10000, downAt: 1000, switchAt: 6000.4, extra: [ask(3000, OLD), ask(4000, OLD), ask(5000, OLD), ask(6000, BC), answer(6000.4), garp(6500)] })));
  assert.equal(b.outages[0]!.diagnosis.cause, 'late-announcement');
  assert.equal(b.problem, true);
});

test('svg timeline: four lanes, the outage shaded, ARP marks with titles, well-formed', async () => {
  const { renderSvg } = await import('../../src/commands/render/measure-svg.js');
  const extra = [garp(5000), ask(12000, OLD), ask(15000, BC), answer(15000.3), ...hb(0, 2001, '198.18.0.11', OLD)];
  const r = run({ durationMs: 17000, downAt: 2000, switchAt: 15000.3, extra });
  const a = analyze(input(r, { neigh: [neigh(11000, 'DELAY', OLD), neigh(12000, 'PROBE', OLD), neigh(15000.35, 'REACHABLE', NEW)] }));
  const svg = renderSvg({ analysis: a, probes: r.probes, wire: r.wire, neigh: [neigh(11000, 'DELAY', OLD), neigh(12000, 'PROBE', OLD)] });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  for (const lane of ['probes', 'ARP', 'neighbour', 'cluster']) assert.ok(svg.includes(`>${lane}</text>`), lane);
  assert.match(svg, /<title>outage #1<\/title>/);
  assert.match(svg, /<title>[^<]*request 198\.18\.0\.5 \(02:00:00:00:00:05\) → 198\.18\.0\.20 to ff:ff:ff:ff:ff:ff<\/title>/);
  assert.match(svg, />PROBE</);
  assert.equal((svg.match(/<svg/g) ?? []).length, 1);
  assert.doesNotMatch(svg, /NaN|undefined/);
});

test('split brain: one broadcast request answered by two MACs, or two VRRP masters → problem; a handover is not', async () => {
  const { findVipConflicts } = await import('../../src/models/measure/conflicts.js');
  const r = run({ durationMs: 3000, downAt: 10_000, extra: [ask(1000, BC), answer(1000.2, OLD), answer(1000.3, NEW)] });
  const a = analyze(input(r));
  assert.equal(a.outages.length, 0);
  assert.equal(a.conflicts.length, 1);
  assert.deepEqual(a.conflicts[0]!.macs, [OLD, NEW]);
  assert.equal(a.problem, true);
  assert.match(a.summary, /Split brain: 1 time\(s\) two MACs owned 198\.18\.0\.20/);
  const vrrp = (t: number, ip: string, mac: string): WireEvent => ({ kind: 'cluster', tsMs: T0 + t, proto: 'vrrp', srcMac: mac, srcIp: ip, dstIp: '224.0.0.18' });
  const both: WireEvent[] = [];
  for (let t = 0; t < 5000; t += 1000) both.push(vrrp(t, '198.18.0.11', OLD), vrrp(t + 300, '198.18.0.12', NEW));
  assert.equal(findVipConflicts(VIP, both).length, 1);
  const handover: WireEvent[] = [];
  for (let t = 0; t < 5000; t += 1000) handover.push(vrrp(t, '198.18.0.11', OLD));
  for (let t = 8000; t < 13000; t += 1000) handover.push(vrrp(t, '198.18.0.12', NEW));
  assert.equal(findVipConflicts(VIP, handover).length, 0);
});
