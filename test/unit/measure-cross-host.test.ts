/**
 * The cross-host timeline (src/models/measure/cross-host.ts): the server's clock offset recovered from the
 * probes seen at both ends, the segments of an outage on the client's clock, and no-announcement split by the
 * new holder's own wire into not-sent / dropped-on-path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateOffset, joinServers, parseServerLog, toClientClock } from '../../src/models/measure/cross-host.js';
import { analyze } from '../../src/models/measure/analyze.js';
import type { Probe, WireEvent } from '../../src/models/measure/events.js';
import { VIP, CLIENT, OLD, NEW, BC, T0, lcg } from './measure-scene.js';

/**
 * A takeover seen from three places: the client, the old holder and the new holder (each server's clock ahead of
 * the client's by its offset). The old holder answers until `down`; the new one adds the VIP at `added`,
 * announces at `annAt` (on its wire) — which reaches the client unless `dropped` — and answers from `up`.
 */
function world(o: { down: number; added: number; annAt?: number; dropped?: boolean; up: number; offOld: number; offNew: number }) {
  const rnd = lcg(3);
  const client: WireEvent[] = [];
  const old: WireEvent[] = [];
  const neu: WireEvent[] = [];
  const probes: Probe[] = [];
  const delay = () => 0.02 + rnd() * 0.3; // one-way wire delay 20–320 µs
  for (let seq = 1, t = 0; t < 9000; seq++, t += 5) {
    const mac = t >= o.up ? NEW : OLD;
    const srv = mac === OLD ? old : neu;
    const off = mac === OLD ? o.offOld : o.offNew;
    const ts = T0 + t;
    const req = { kind: 'icmp' as const, type: 'echo-request' as const, srcMac: CLIENT.mac, dstMac: mac, srcIp: CLIENT.ip, dstIp: VIP, id: 7, seq };
    client.push({ ...req, tsMs: ts });
    const answered = t < o.down || t >= o.up;
    const p: Probe = { seq, sentTsMs: ts };
    if (answered || mac === OLD) srv.push({ ...req, tsMs: ts + delay() + off });
    if (answered) {
      const atServer = ts + 0.4 + delay();
      const rep = { kind: 'icmp' as const, type: 'echo-reply' as const, srcMac: mac, dstMac: CLIENT.mac, srcIp: VIP, dstIp: CLIENT.ip, id: 7, seq };
      srv.push({ ...rep, tsMs: atServer + off });
      const back = atServer + delay();
      client.push({ ...rep, tsMs: back });
      p.replyTsMs = back;
    }
    probes.push(p);
  }
  if (o.annAt !== undefined) {
    const ann: WireEvent = { kind: 'arp', tsMs: 0, op: 'request', srcMac: NEW, dstMac: BC, senderMac: NEW, senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: VIP };
    neu.push({ ...ann, tsMs: T0 + o.annAt + o.offNew });
    if (!o.dropped) client.push({ ...ann, tsMs: T0 + o.annAt + 0.2 });
  }
  // the client resolves by itself when nothing was taken
  if (o.dropped || o.annAt === undefined) {
    client.push({ kind: 'arp', tsMs: T0 + o.up - 1, op: 'request', srcMac: CLIENT.mac, dstMac: BC, senderMac: CLIENT.mac, senderIp: CLIENT.ip, targetMac: '00:00:00:00:00:00', targetIp: VIP });
    client.push({ kind: 'arp', tsMs: T0 + o.up - 0.5, op: 'reply', srcMac: NEW, dstMac: CLIENT.mac, senderMac: NEW, senderIp: VIP, targetMac: CLIENT.mac, targetIp: CLIENT.ip });
  }
  for (const l of [client, old, neu]) l.sort((a, b) => a.tsMs - b.tsMs);
  const a = analyze({ vip: VIP, intervalMs: 5, probes, wire: client, neigh: [], iface: 'eth0' });
  return { a, client, old, neu };
}

test('clock offset: a server capture shifted by a known offset is recovered within 1 ms, with its residual', () => {
  for (const off of [0, 1234.567, -86_400_000.25, 3.5]) {
    const w = world({ down: 3000, added: 4000, annAt: 4001, up: 4010, offOld: off, offNew: -off / 2 });
    const e = estimateOffset(w.client, w.old, VIP)!;
    assert.ok(Math.abs(e.offsetMs - off) < 1, `old: ${e.offsetMs} vs ${off}`);
    assert.ok(e.via === "echo" && e.residualMs! < 1 && e.up > 100 && e.down > 100, JSON.stringify(e));
    const n = estimateOffset(w.client, w.neu, VIP)!;
    assert.ok(Math.abs(n.offsetMs + off / 2) < 1, `new: ${n.offsetMs} vs ${-off / 2}`);
  }
  assert.equal(estimateOffset([], [], VIP), undefined);
});

test('segments on the client clock: detection → address added → on the server wire → seen at the client → traffic; the dominant named', async () => {
  const w = world({ down: 3000, added: 4500, annAt: 4502, up: 4510, offOld: 5000, offNew: -7000 });
  const log = parseServerLog(`{"tsMs":${T0 + 4500 - 7000},"node":"server2","level":"info","event":"resource","text":"start","resource":"IPaddr::198.18.0.20","op":"start","ip":"198.18.0.20"}\n`);
  const j = joinServers(w.a, w.client, [{ name: 'server1.pcap', wire: w.old }, { name: 'server2.pcap', wire: w.neu }], log);
  const o = j.outages[0]!;
  const x = o.crossHost!;
  assert.equal(x.newHolderCapture, 'server2.pcap');
  assert.equal(x.oldHolderCapture, 'server1.pcap');
  assert.deepEqual(x.points.map((p) => p.label), ['old holder silent', 'address added', 'first announcement on the server’s wire', 'seen at the client', 'client’s neighbour entry changed', 'traffic flowing']);
  const seg = Object.fromEntries(x.segments.map((s) => [s.name, s.ms]));
  assert.ok(Math.abs(seg.detection! - 1500) < 5, `detection ${seg.detection}`);
  assert.ok(Math.abs(seg.announce! - 2) < 1 && Math.abs(seg.path! - 0.2) < 1, JSON.stringify(seg));
  assert.equal(x.dominant, 'detection');
  assert.equal(o.diagnosis.cause, 'detection-bound');
  // the SVG draws the segments in their own lane, the dominant one outlined
  const { renderSvg } = await import('../../src/commands/render/measure-svg.js');
  const svg = renderSvg({ analysis: j, probes: [], wire: w.client, neigh: [] });
  assert.ok(svg.includes('>segments</text>'));
  assert.match(svg, /<title>detection: old holder silent → address added, 1\.50\d s \(dominant\)<\/title>/);
  assert.doesNotMatch(svg, /NaN|undefined/);
});

test('no-announcement split: on the new holder’s wire but not at the client → dropped-on-path; on neither → not-sent', () => {
  const dropped = world({ down: 3000, added: 4000, annAt: 4001, dropped: true, up: 7000, offOld: 0, offNew: 250 });
  assert.equal(dropped.a.outages[0]!.diagnosis.cause, 'no-announcement');
  const d = joinServers(dropped.a, dropped.client, [{ name: 's1', wire: dropped.old }, { name: 's2', wire: dropped.neu }]).outages[0]!;
  assert.equal(d.diagnosis.cause, 'dropped-on-path', d.diagnosis.sentence);
  assert.match(d.diagnosis.sentence, /1 frame\(s\) on its own wire, first at \+1\.0\d s in s2\), but none reached this host/);
  assert.equal(d.crossHost!.dominant, 'path');
  const silent = world({ down: 3000, added: 4000, up: 7000, offOld: 0, offNew: 0 });
  const n = joinServers(silent.a, silent.client, [{ name: 's1', wire: silent.old }, { name: 's2', wire: silent.neu }]).outages[0]!;
  assert.equal(n.diagnosis.cause, 'not-sent', n.diagnosis.sentence);
  assert.match(n.diagnosis.sentence, /^The new holder never announced the VIP: no ARP for it left its wire \(s2\)\. This host recovered/);
  // without the new holder's capture the client-only cause stays
  const only = joinServers(silent.a, silent.client, [{ name: 's1', wire: silent.old }]).outages[0]!;
  assert.equal(only.diagnosis.cause, 'no-announcement');
});

test('server log: run-node JSON lines and text lines give the address added', () => {
  const text = [
    '2026-12-07T23:00:01.250Z hadiag[123] server2: INFO: resource: start IPaddr::198.18.0.20/24/eth0: added (3.1 ms)',
    '{"tsMs":1796684401500.5,"node":"server2","level":"info","event":"resource","text":"start","op":"start","ip":"198.18.0.20"}',
    'junk',
  ].join('\n');
  const ev = parseServerLog(text);
  assert.equal(ev.length, 2);
  assert.deepEqual(ev[0], { tsMs: Date.parse('2026-12-07T23:00:01.250Z'), ip: '198.18.0.20', node: 'server2' });
  assert.equal(ev[1]!.tsMs, 1796684401500.5);
  assert.equal(toClientClock(ev, 500)[1]!.tsMs, 1796684401000.5);
});
