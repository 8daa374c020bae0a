/**
 * The clock offset from frames that are not echoes (src/models/measure/cross-host.ts): a run-node --capture
 * pcap holds only the server's own ARP frames, so the offset comes from its announcements (and its replies)
 * seen at the client too — server → client only, the error bounded by the one-way delay. Repeated identical
 * GARPs (a burst, the same burst at an earlier takeover) still pair with their own copy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateOffset, joinServers, parseServerLog } from '../../src/models/measure/cross-host.js';
import { analyze } from '../../src/models/measure/analyze.js';
import type { Probe, WireEvent } from '../../src/models/measure/events.js';
import { VIP, CLIENT, OLD, NEW, BC, T0, lcg } from './measure-scene.js';

const garp = (mac: string, tsMs: number): WireEvent => ({ kind: 'arp', tsMs, op: 'request', srcMac: mac, dstMac: BC, senderMac: mac, senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: VIP });

/**
 * The client's capture of a takeover (old answers until `down`, new from `up`) and each server's run-node
 * --capture pcap: its own ARP only, in its own clock (ahead of the client's by its offset). The new holder
 * sends `burst` identical GARPs `gapMs` apart from `annAt`; it sent the same burst at an earlier takeover
 * (`earlier` ms before, before the client’s capture began: further apart than its span, the two tie and the
 * offset nearer 0 wins); the old one answered a client's request before. `lateMs`: how late the new holder's
 * capture stamped each frame of the burst (run-node stamps in user space).
 */
function world(o: { down: number; annAt: number; up: number; offOld: number; offNew: number; burst: number; gapMs: number; earlier?: number; lateMs?: number[] }) {
  const rnd = lcg(11);
  const delay = () => 0.02 + rnd() * 0.3;
  const client: WireEvent[] = [];
  const old: WireEvent[] = [];
  const neu: WireEvent[] = [];
  const probes: Probe[] = [];
  for (let seq = 1, t = 0; t < 9000; seq++, t += 5) {
    const mac = t >= o.up ? NEW : OLD;
    const ts = T0 + t;
    client.push({ kind: 'icmp', type: 'echo-request', srcMac: CLIENT.mac, dstMac: mac, srcIp: CLIENT.ip, dstIp: VIP, id: 7, seq, tsMs: ts });
    const p: Probe = { seq, sentTsMs: ts };
    if (t < o.down || t >= o.up) {
      p.replyTsMs = ts + 0.5 + delay();
      client.push({ kind: 'icmp', type: 'echo-reply', srcMac: mac, dstMac: CLIENT.mac, srcIp: VIP, dstIp: CLIENT.ip, id: 7, seq, tsMs: p.replyTsMs });
    }
    probes.push(p);
  }
  // the old holder answered the client's request once (a kernel reply, on its capture and the client's)
  const ask: WireEvent = { kind: 'arp', tsMs: T0 + 1000, op: 'request', srcMac: CLIENT.mac, dstMac: BC, senderMac: CLIENT.mac, senderIp: CLIENT.ip, targetMac: '00:00:00:00:00:00', targetIp: VIP };
  const rep: WireEvent = { kind: 'arp', tsMs: 0, op: 'reply', srcMac: OLD, dstMac: CLIENT.mac, senderMac: OLD, senderIp: VIP, targetMac: CLIENT.mac, targetIp: CLIENT.ip };
  client.push(ask);
  const repAt = T0 + 1000 + 0.3 + 0.05;
  old.push({ ...rep, tsMs: repAt + o.offOld });
  client.push({ ...rep, tsMs: repAt + delay() });
  for (let i = 0; i < o.burst; i++) {
    const at = T0 + o.annAt + i * o.gapMs;
    neu.push(garp(NEW, at + o.offNew + (o.lateMs?.[i] ?? 0)));
    client.push(garp(NEW, at + delay()));
    if (o.earlier !== undefined) neu.push(garp(NEW, at - o.earlier + o.offNew));
  }
  for (const l of [client, old, neu]) l.sort((a, b) => a.tsMs - b.tsMs);
  const a = analyze({ vip: VIP, intervalMs: 5, probes, wire: client, neigh: [], iface: 'eth0' });
  return { a, client, old, neu };
}

test('ARP only (run-node --capture): a known shift recovered within 1 ms, one way server → client, no residual claimed', () => {
  for (const off of [0, 1234.567, -86_400_000.25, 3.5]) {
    const w = world({ down: 3000, annAt: 4001, up: 4010, offOld: -off / 3, offNew: off, burst: 5, gapMs: 100 });
    const n = estimateOffset(w.client, w.neu, VIP)!;
    assert.ok(n, 'an estimate from the GARPs');
    assert.ok(Math.abs(n.offsetMs - off) < 1, `new: ${n.offsetMs} vs ${off}`);
    // the frames left the server before the client saw them: the estimate is the offset minus the one-way delay
    assert.ok(n.offsetMs <= off && off - n.offsetMs < 0.35, `${off - n.offsetMs} ms: the one-way delay`);
    assert.equal(n.via, 'arp');
    assert.equal(n.oneWay, 'server→client');
    assert.equal(n.residualMs, undefined, 'no ± claimed from one direction');
    assert.deepEqual([n.up, n.down], [0, 5]);
    // the old holder: one kernel reply to the client's request, seen at both ends
    const o = estimateOffset(w.client, w.old, VIP)!;
    assert.ok(Math.abs(o.offsetMs + off / 3) < 1, `old: ${o.offsetMs} vs ${-off / 3}`);
    assert.equal(o.down, 1);
  }
  // a capture with nothing the client saw: no estimate
  assert.equal(estimateOffset(world({ down: 3000, annAt: 4001, up: 4010, offOld: 0, offNew: 0, burst: 5, gapMs: 100 }).client, [garp('02:00:00:00:00:99', T0)], VIP), undefined);
});

test('a server capture stamped late (user space, under load): the soonest-stamped frame gives the offset, the spread shows the lateness', () => {
  const off = -4321.5;
  const w = world({ down: 3000, annAt: 4001, up: 4010, offOld: 0, offNew: off, burst: 5, gapMs: 100, lateMs: [0.09, 3.9, 0.26, 1.2, 0.1] });
  const n = estimateOffset(w.client, w.neu, VIP)!;
  assert.ok(Math.abs(n.offsetMs - off) < 0.5, `${n.offsetMs} vs ${off}`);
  assert.ok(n.spreadMs! > 3 && n.spreadMs! < 4.5, `spread ${n.spreadMs} ms`);
});

test('repeated identical GARPs: a 1 ms burst and the same burst at an earlier takeover still pair with their own copy', () => {
  for (const [gapMs, earlier] of [
    [1, 60_000],
    [2, 30_000],
    [100, 3000],
    [1, undefined],
  ] as const) {
    const off = 777.125;
    const w = world({ down: 3000, annAt: 4001, up: 4010, offOld: 0, offNew: off, burst: 8, gapMs, ...(earlier !== undefined ? { earlier } : {}) });
    const n = estimateOffset(w.client, w.neu, VIP)!;
    assert.ok(Math.abs(n.offsetMs - off) < 1 && off - n.offsetMs >= 0, `gap ${gapMs} ms, earlier ${earlier}: ${n.offsetMs} vs ${off}`);
    assert.equal(n.down, 8, `gap ${gapMs}: every copy matched once, the earlier burst not`);
  }
});

test('ARP-only captures on both servers: every segment on the client clock; the old holder silent from the client’s evidence', async () => {
  const offNew = -7000.5;
  const w = world({ down: 3000, annAt: 4502, up: 4510, offOld: 5000, offNew, burst: 5, gapMs: 100 });
  const log = parseServerLog(`{"tsMs":${T0 + 4500 + offNew},"node":"server2","level":"info","event":"resource","text":"start","op":"start","ip":"198.18.0.20"}\n`);
  const j = joinServers(w.a, w.client, [{ name: 'run-node-server1.pcap', wire: w.old }, { name: 'run-node-server2.pcap', wire: w.neu }], log);
  const x = j.outages[0]!.crossHost!;
  assert.equal(x.newHolderCapture, 'run-node-server2.pcap');
  assert.equal(x.oldHolderCapture, 'run-node-server1.pcap');
  assert.deepEqual(x.points.map((p) => p.label), ['old holder silent', 'address added', 'first announcement on the server’s wire', 'seen at the client', 'client’s neighbour entry changed', 'traffic flowing']);
  const at = Object.fromEntries(x.points.map((p) => [p.label, p.tsMs - T0]));
  // its last ARP frame (at +1 s) is not when the old holder stopped answering: the client's last reply is
  assert.ok(at['old holder silent']! > 2990 && at['old holder silent']! < 3001, `silent at ${at['old holder silent']}`);
  assert.ok(Math.abs(at['address added']! - 4500) < 1 && Math.abs(at['first announcement on the server’s wire']! - 4502) < 1, JSON.stringify(at));
  const seg = Object.fromEntries(x.segments.map((s) => [s.name, s.ms]));
  assert.ok(Math.abs(seg.path!) < 1, `path ${seg.path} ms: the one-way delay (± its jitter)`);
  assert.equal(x.announcementsOnServerWire, 5);
  assert.equal(x.dominant, 'detection');
  const s2 = x.servers.find((s) => s.name === 'run-node-server2.pcap')!;
  assert.equal(s2.oneWay, 'server→client');
  assert.equal(s2.via, 'arp');
  assert.equal(s2.residualMs, undefined);
  assert.ok(s2.spreadMs! >= 0 && s2.spreadMs! < 0.35, `spread ${s2.spreadMs} ms`);
  // the SVG draws the segments whatever their length
  const { renderSvg } = await import('../../src/commands/render/measure-svg.js');
  const svg = renderSvg({ analysis: j, probes: [], wire: w.client, neigh: [] });
  assert.match(svg, /<title>detection: old holder silent → address added, 1\.50\d s \(dominant\)<\/title>/);
  assert.doesNotMatch(svg, /NaN|undefined/);
});
