import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readPcap } from '../../src/effects/io/pcap-file.js';
import { wireEventsOf, probesFromCapture } from '../../src/models/measure/frames.js';
import { analyze } from '../../src/models/measure/analyze.js';
import type { Probe } from '../../src/models/measure/events.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/measure/${name}`, import.meta.url));
const VIP = '198.18.0.20';

/** Probes every 5 ms (ping's view, no capture of them): answered by `before` until `downMs`, by `after` from `upMs`. */
function probes(startMs: number, endMs: number, downMs: number, upMs: number, before: string, after: string): Probe[] {
  const out: Probe[] = [];
  for (let seq = 1, t = startMs; t < endMs; seq++, t += 5) {
    const p: Probe = { seq, sentTsMs: t, sentEstimated: false };
    if (t < downMs) Object.assign(p, { replyTsMs: t + 0.2, replyMac: before });
    else if (t >= upMs) Object.assign(p, { replyTsMs: t + 0.2, replyMac: after });
    else delete p.sentTsMs;
    out.push(p);
  }
  return out;
}

test('real Heartbeat takeover capture: IPaddr send_arp announcements from the new MAC, taken by the client', async () => {
  const pcap = await readPcap(fixture('heartbeat-IPaddr-takeover.pcap'));
  const wire = wireEventsOf(pcap.records, pcap.linktype);
  assert.equal(wire.length, 45);
  assert.ok(wire.every((e) => e.kind === 'arp'));
  const firstGarp = wire[0]!.tsMs; // 1795602847.986847
  assert.ok(Math.abs(firstGarp - 1795602847986.847) < 0.002);
  // The client's ping saw the old node (..:0b) until 5 s before the first GARP, then nothing until it switched.
  const down = firstGarp - 5000;
  const a = analyze({ vip: VIP, intervalMs: 5, probes: probes(down - 2000, firstGarp + 3000, down, firstGarp + 1, '02:00:c6:12:00:0b', '02:00:c6:12:00:0c'), wire, neigh: [] });
  assert.equal(a.client.mac, '02:00:c6:12:00:05', 'client inferred from its own ARP request');
  assert.equal(a.outages.length, 1);
  const o = a.outages[0]!;
  assert.equal(o.macBefore, '02:00:c6:12:00:0b');
  assert.equal(o.macAfter, '02:00:c6:12:00:0c');
  const mine = o.announcements.filter((x) => x.mac === '02:00:c6:12:00:0c');
  assert.ok(mine.length >= 1);
  assert.equal(mine[0]!.form, 'garp-request');
  assert.ok(mine.some((x) => x.form === 'garp-reply'), 'send_arp alternates requests and replies');
  assert.equal(o.learnedBy, 'announcement');
  assert.equal(o.diagnosis.cause, 'detection-bound');
  assert.match(o.diagnosis.sentence, /Takeover itself took 5\.0\d s \(detection\)/);
});

test('real Heartbeat capture, whole file: 20 send_arp frames per takeover 250 ms apart, the failback too', async () => {
  const pcap = await readPcap(fixture('heartbeat-IPaddr-takeover.pcap'));
  const wire = wireEventsOf(pcap.records, pcap.linktype);
  const firstGarp = wire[0]!.tsMs;
  const failback = wire.find((e) => e.kind === 'arp' && e.senderMac === '02:00:c6:12:00:0b')!.tsMs;
  const p = probes(firstGarp - 7000, failback + 3000, firstGarp - 5000, firstGarp + 1, '02:00:c6:12:00:0b', '02:00:c6:12:00:0c');
  // during failback, server1 takes the VIP back: replies from ..:0b again after its first GARP
  for (const q of p) {
    if (q.sentTsMs !== undefined && q.sentTsMs >= failback - 300 && q.sentTsMs < failback + 1) {
      delete q.replyTsMs;
      delete q.sentTsMs;
    } else if (q.sentTsMs !== undefined && q.sentTsMs >= failback + 1) q.replyMac = '02:00:c6:12:00:0b';
  }
  const a = analyze({ vip: VIP, intervalMs: 5, probes: p, wire, neigh: [] });
  assert.equal(a.outages.length, 2);
  const [takeover, back] = a.outages;
  assert.equal(takeover!.announcements.filter((x) => x.mac === '02:00:c6:12:00:0c').length, 20);
  assert.equal(back!.macBefore, '02:00:c6:12:00:0c');
  assert.equal(back!.macAfter, '02:00:c6:12:00:0b');
  assert.equal(back!.diagnosis.cause, 'detection-bound');
});

test('real keepalived takeover capture: VRRP from the old master stops, the new one starts, GARP burst', async () => {
  const pcap = await readPcap(fixture('keepalived-takeover.pcap'));
  const wire = wireEventsOf(pcap.records, pcap.linktype);
  const vrrp = wire.filter((e) => e.kind === 'cluster');
  assert.ok(vrrp.length > 5 && vrrp.every((e) => e.kind === 'cluster' && e.proto === 'vrrp'));
  const firstGarp = wire.find((e) => e.kind === 'arp' && e.senderIp === VIP)!.tsMs;
  const lastOld = vrrp.filter((e) => e.srcIp === '198.18.0.11').at(-1)!.tsMs;
  const a = analyze({ vip: VIP, intervalMs: 5, probes: probes(lastOld - 2000, firstGarp + 2000, lastOld + 100, firstGarp + 0.5, '02:00:00:00:00:11', '02:00:00:00:00:12'), wire, neigh: [] });
  const o = a.outages[0]!;
  assert.ok(o.clusterStops.some((s) => s.srcIp === '198.18.0.11' && s.proto === 'vrrp'), JSON.stringify(o.clusterStops));
  assert.ok(o.timeline.some((e) => e.kind === 'cluster-stop'));
  assert.equal(o.announcements.filter((x) => x.mac === '02:00:00:00:00:12').length, 10, 'keepalived: a burst of 5, and 5 more 5 s later');
  assert.equal(o.diagnosis.cause, 'detection-bound');
});

test('probes from a capture: echo pairs give send/reply times and the replying MAC; holes become lost probes', () => {
  const mk = (ts: number, type: 'echo-request' | 'echo-reply', seq: number, mac: string) =>
    type === 'echo-request'
      ? { kind: 'icmp' as const, tsMs: ts, type, srcMac: 'c', dstMac: mac, srcIp: '198.18.0.5', dstIp: VIP, id: 9, seq }
      : { kind: 'icmp' as const, tsMs: ts, type, srcMac: mac, dstMac: 'c', srcIp: VIP, dstIp: '198.18.0.5', id: 9, seq };
  const wire = [mk(0, 'echo-request', 1, 'a'), mk(0.1, 'echo-reply', 1, 'a'), mk(5, 'echo-request', 2, 'a'), mk(20, 'echo-request', 5, 'b'), mk(20.2, 'echo-reply', 5, 'b')];
  const r = probesFromCapture(VIP, wire);
  assert.deepEqual(r.probes.map((p) => p.seq), [1, 2, 3, 4, 5]);
  assert.equal(r.probes[0]!.replyMac, 'a');
  assert.equal(r.probes[4]!.replyMac, 'b');
  assert.equal(r.probes[2]!.replyTsMs, undefined);
  assert.ok(Math.abs(r.probes[2]!.sentTsMs! - 10) < 0.01);
  assert.equal(r.client?.ip, '198.18.0.5');
});

test('real captures: a takeover is not a split brain', async () => {
  for (const f of ['heartbeat-IPaddr-takeover.pcap', 'keepalived-takeover.pcap']) {
    const pcap = await readPcap(fixture(f));
    const a = analyze({ vip: VIP, intervalMs: 5, probes: [], wire: wireEventsOf(pcap.records, pcap.linktype), neigh: [] });
    assert.equal(a.conflicts.length, 0, f);
  }
});
