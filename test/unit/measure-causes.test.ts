/**
 * The causes that come from the cluster's own traffic (src/models/measure/takeover.ts, diagnose.ts):
 * the expected takeover time (VRRP master-down from the adverts, Heartbeat deadtime from ha.cf or bounded by
 * the keepalive rhythm), port-not-forwarding (nothing from the new holder long past that moment), a slow
 * manager (both nodes kept speaking), and split brain inside an outage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readPcap } from '../../src/effects/io/pcap-file.js';
import { wireEventsOf } from '../../src/models/measure/frames.js';
import { analyze, type AnalysisInput } from '../../src/models/measure/analyze.js';
import type { Probe, WireEvent } from '../../src/models/measure/events.js';
import { VIP, CLIENT, OLD, NEW, BC, T0 } from './measure-scene.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/measure/${name}`, import.meta.url));

/** 5 ms probes for `durMs`: answered by OLD until `down`, by NEW from `up`; heartbeats of each node every 200 ms outside its silences. */
function scenario(o: { durMs: number; down: number; up: number; oldSilent?: [number, number]; newSilent?: [number, number]; garpAt?: number[]; extra?: WireEvent[] }): AnalysisInput {
  const probes: Probe[] = [];
  const wire: WireEvent[] = [...(o.extra ?? [])];
  for (let seq = 1, t = 0; t < o.durMs; seq++, t += 5) {
    const mac = t >= o.up ? NEW : OLD;
    const ts = T0 + t;
    wire.push({ kind: 'icmp', tsMs: ts + 0.01, type: 'echo-request', srcMac: CLIENT.mac, dstMac: mac, srcIp: CLIENT.ip, dstIp: VIP, id: 7, seq });
    const p: Probe = { seq, sentTsMs: ts };
    if (t < o.down || t >= o.up) {
      p.replyTsMs = ts + 0.3;
      wire.push({ kind: 'icmp', tsMs: ts + 0.3, type: 'echo-reply', srcMac: mac, dstMac: CLIENT.mac, srcIp: VIP, dstIp: CLIENT.ip, id: 7, seq });
    }
    probes.push(p);
  }
  const silent = (t: number, s?: [number, number]) => s !== undefined && t >= s[0] && t < s[1];
  for (let t = 3; t < o.durMs; t += 200) {
    if (!silent(t, o.oldSilent)) wire.push({ kind: 'cluster', tsMs: T0 + t, proto: 'heartbeat', srcMac: OLD, srcIp: '198.18.0.11', dstIp: '198.18.0.255' });
    if (!silent(t + 100, o.newSilent)) wire.push({ kind: 'cluster', tsMs: T0 + t + 100, proto: 'heartbeat', srcMac: NEW, srcIp: '198.18.0.12', dstIp: '198.18.0.255' });
  }
  for (const g of o.garpAt ?? []) wire.push({ kind: 'arp', tsMs: T0 + g, op: 'request', srcMac: NEW, dstMac: BC, senderMac: NEW, senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: VIP });
  wire.sort((a, b) => a.tsMs - b.tsMs);
  return { vip: VIP, intervalMs: 5, probes, wire, neigh: [], iface: 'eth0' };
}

test('port-not-forwarding: the old holder falls silent, nothing from the new one for 4 s (its port blocked), then a later announcement', () => {
  // the old holder dies at 3 s; the new holder's port blocks 3–7 s; deadtime 1 s: it took over at ~4 s, its
  // first announcements (4.0 s) were lost in the blocked port, a later one (7.1 s) arrived
  const input = scenario({ durMs: 10_000, down: 3000, up: 7105, oldSilent: [3000, 1e9], newSilent: [3000, 7000], garpAt: [7100] });
  input.timers = { keepaliveMs: 200, deadtimeMs: 1000, source: 'ha.cf' };
  const a = analyze(input);
  assert.equal(a.outages.length, 1);
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'port-not-forwarding', o.diagnosis.sentence);
  assert.equal(o.diagnosis.problem, true);
  assert.equal(o.takeover?.expected?.ms, 1000);
  assert.ok(o.takeover!.pathBlockedMs! > 2500 && o.takeover!.pathBlockedMs! < 3500, `blocked ${o.takeover!.pathBlockedMs}`);
  assert.match(o.diagnosis.sentence, /^Nothing from the new holder 198\.18\.0\.12 \(its heartbeat every 0\.20 s\) reached this host for 4\.20 s, from -0\.10 s to \+4\.10 s, although by its timers — deadtime 1\.00 s \(ha\.cf\) after the old holder fell silent — it took over at \+0\.80 s: the path to 02:00:00:00:00:0c was not forwarding \(STP listening\/learning on its switch port, or a port that came up late\)\. Its first announcement to get through arrived at \+4\.10 s; the outage lasted 4\.11 s\.$/);
  assert.equal(o.diagnosis.fixes[0]!.side, 'network');
  // without ha.cf the timers are only bounded (2 × keepalive) — the silence is still the evidence
  const b = analyze(scenario({ durMs: 10_000, down: 3000, up: 7105, oldSilent: [3000, 1e9], newSilent: [3000, 7000], garpAt: [7100] }));
  assert.equal(b.outages[0]!.diagnosis.cause, 'port-not-forwarding');
  assert.equal(b.outages[0]!.takeover?.expected?.atLeast, true);
  assert.match(b.outages[0]!.diagnosis.sentence, /although its timers say a takeover takes more than 0\.40 s/);
});

test('the new holder kept speaking through a slow takeover: detection-bound, not the path', () => {
  const a = analyze(scenario({ durMs: 10_000, down: 3000, up: 6005, oldSilent: [3000, 1e9], garpAt: [6000] }));
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'detection-bound', o.diagnosis.sentence);
  assert.equal(o.takeover?.pathBlockedMs, undefined);
  assert.ok(o.diagnosis.evidence.some((e) => /new holder 198\.18\.0\.12's heartbeat traffic kept arriving/.test(e)), o.diagnosis.evidence.join('\n'));
});

test('both nodes kept speaking (a manager restarting): the manager’s own time, said so in the evidence', () => {
  const a = analyze(scenario({ durMs: 10_000, down: 3000, up: 6005, garpAt: [6000] }));
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'detection-bound');
  assert.equal(o.takeover?.bothKeptSpeaking, true);
  assert.ok(o.diagnosis.evidence.some((e) => /manager’s own time/.test(e)));
});

test('split brain inside the outage: one ARP request answered by two MACs → split-brain', () => {
  const ask: WireEvent = { kind: 'arp', tsMs: T0 + 4000, op: 'request', srcMac: CLIENT.mac, dstMac: BC, senderMac: CLIENT.mac, senderIp: CLIENT.ip, targetMac: '00:00:00:00:00:00', targetIp: VIP };
  const ans = (mac: string, dt: number): WireEvent => ({ kind: 'arp', tsMs: T0 + 4000 + dt, op: 'reply', srcMac: mac, dstMac: CLIENT.mac, senderMac: mac, senderIp: VIP, targetMac: CLIENT.mac, targetIp: CLIENT.ip });
  const a = analyze(scenario({ durMs: 8000, down: 3000, up: 4005, extra: [ask, ans(NEW, 0.2), ans(OLD, 0.4)] }));
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'split-brain', o.diagnosis.sentence);
  assert.match(o.diagnosis.sentence, /^Split brain during the outage: /);
  assert.equal(a.problem, true);
});

test('real keepalived capture: the adverts say VRRPv2, interval 1 s, priority 150 → 100; master-down 3.61 s; the new master spoke on time', async () => {
  const pcap = await readPcap(fixture('keepalived-takeover.pcap'));
  const wire = wireEventsOf(pcap.records, pcap.linktype);
  const adverts = wire.filter((e) => e.kind === 'cluster' && e.vrrp);
  assert.ok(adverts.length > 5);
  const first = adverts[0]!;
  assert.ok(first.kind === 'cluster' && first.vrrp!.version === 2 && first.vrrp!.vrid === 51 && first.vrrp!.intervalMs === 1000);
  assert.deepEqual([...new Set(adverts.map((e) => e.kind === 'cluster' && e.vrrp!.priority))].sort(), [100, 150]);
  const firstGarp = wire.find((e) => e.kind === 'arp' && e.senderIp === VIP)!.tsMs;
  const lastOld = adverts.filter((e) => e.kind === 'cluster' && e.srcIp === '198.18.0.11').at(-1)!.tsMs;
  const probes: Probe[] = [];
  for (let seq = 1, t = lastOld - 2000; t < firstGarp + 2000; seq++, t += 5) {
    const p: Probe = { seq, sentTsMs: t };
    if (t < lastOld + 100) Object.assign(p, { replyTsMs: t + 0.2, replyMac: '02:00:00:00:00:11' });
    else if (t >= firstGarp + 0.5) Object.assign(p, { replyTsMs: t + 0.2, replyMac: '02:00:00:00:00:12' });
    probes.push(p);
  }
  const o = analyze({ vip: VIP, intervalMs: 5, probes, wire, neigh: [] }).outages[0]!;
  assert.ok(o.takeover?.expected && Math.abs(o.takeover.expected.ms - (3000 + (156 * 1000) / 256)) < 1, JSON.stringify(o.takeover));
  assert.equal(o.takeover.expected.atLeast, false);
  assert.match(o.takeover.expected.from, /VRRP master-down interval 3 × 1\.00 s \+ skew 0\.61 s \(priority 100\)/);
  assert.ok(o.takeover.newHolder?.firstTsMs !== undefined);
  assert.equal(o.takeover.pathBlockedMs, undefined);
  assert.equal(o.diagnosis.cause, 'detection-bound');
});

test('VRRP: the new master’s first advert long after the master-down interval → port-not-forwarding; on time → not', () => {
  const advert = (t: number, mac: string, ip: string, priority: number): WireEvent => ({ kind: 'cluster', tsMs: T0 + t, proto: 'vrrp', srcMac: mac, srcIp: ip, dstIp: '224.0.0.18', vrrp: { version: 2, vrid: 51, priority, intervalMs: 1000 } });
  const withAdverts = (newFrom: number) => {
    const extra: WireEvent[] = [];
    for (let t = 0; t < 3000; t += 1000) extra.push(advert(t + 10, OLD, '198.18.0.11', 150));
    for (let t = newFrom; t < 12_000; t += 1000) extra.push(advert(t, NEW, '198.18.0.12', 100));
    return scenario({ durMs: 12_000, down: 3000, up: newFrom + 5, oldSilent: [0, 1e9], newSilent: [0, 1e9], garpAt: [newFrom + 1], extra });
  };
  // old master's last advert at 2.01 s; master-down 3 × 1 s + (256 − 100)/256 s = 3.61 s → due at 5.62 s
  const late = analyze(withAdverts(8000)).outages[0]!;
  assert.equal(late.diagnosis.cause, 'port-not-forwarding', late.diagnosis.sentence);
  assert.ok(Math.abs(late.takeover!.pathBlockedMs! - (8000 - 5619.4)) < 2, String(late.takeover!.pathBlockedMs));
  assert.match(late.diagnosis.sentence, /^The new master 198\.18\.0\.12's first VRRP advert reached this host only at \+5\.00 s, although by its timers — VRRP master-down interval 3 × 1\.00 s \+ skew 0\.61 s \(priority 100\) after the old holder fell silent — it took over at \+2\.62 s/);
  const onTime = analyze(withAdverts(5700)).outages[0]!;
  assert.equal(onTime.diagnosis.cause, 'detection-bound', onTime.diagnosis.sentence);
  assert.equal(onTime.takeover?.pathBlockedMs, undefined);
});
