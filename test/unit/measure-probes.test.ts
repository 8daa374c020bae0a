import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePcap } from '../../src/codecs/pcap.js';
import { ProbeMatcher, probesFromCapture, wireEventsOf } from '../../src/models/measure/frames.js';
import { analyze } from '../../src/models/measure/analyze.js';
import type { Probe } from '../../src/models/measure/events.js';
import { F, echo, pcapOf, pingStream, type FixtureFrame } from './measure-probes-fixture.js';

const swap16 = (x: number) => ((x & 0xff) << 8) | (x >> 8);

function analyzeCapture(frames: FixtureFrame[], cooked = false) {
  const pcap = parsePcap(pcapOf(frames, cooked));
  const wire = wireEventsOf(pcap.records, pcap.linktype);
  const cap = probesFromCapture(F.vip, wire);
  const a = analyze({ vip: F.vip, intervalMs: cap.intervalMs, probes: cap.probes, wire, neigh: [], ...(cap.client ? { client: cap.client } : {}) });
  return { cap, a, wire };
}

test("Windows' ping (sequence little-endian: +256 on the wire): 4 answered probes, no outage", () => {
  // Windows numbers 4 pings 10..13; the wire shows 0x0a00, 0x0b00, 0x0c00, 0x0d00
  const frames = pingStream({ startMs: F.t0, count: 4, intervalMs: 1000, id: 1, first: swap16(10), step: 256 });
  const { cap, a } = analyzeCapture(frames);
  assert.deepEqual(cap.probes.map((p) => p.seq), [10, 11, 12, 13]);
  assert.equal(cap.pinger?.step, 256);
  assert.equal(a.probesSent, 4);
  assert.equal(a.probesAnswered, 4);
  assert.equal(a.outages.length, 0);
  assert.equal(cap.intervalMs, 1000);
});

test("Windows' ping across the byte boundary (0x00ff → 0x0100 read little-endian) and Linux ping across the 16-bit wrap", () => {
  const win: FixtureFrame[] = [];
  for (let i = 0; i < 6; i++) {
    win.push(echo(F.t0 + i * 10, 8, 1, swap16(0xfd + i), F.oldMac), echo(F.t0 + i * 10 + 0.2, 0, 1, swap16(0xfd + i), F.oldMac));
  }
  const w = analyzeCapture(win);
  assert.deepEqual(w.cap.probes.map((p) => p.seq), [0xfd, 0xfe, 0xff, 0x100, 0x101, 0x102]);
  assert.equal(w.a.outages.length, 0);
  const lin = analyzeCapture(pingStream({ startMs: F.t0, count: 6, intervalMs: 10, id: 77, first: 65533 }));
  assert.deepEqual(lin.cap.probes.map((p) => p.seq), [65533, 65534, 65535, 65536, 65537, 65538]);
  assert.equal(lin.cap.pinger?.step, 1);
});

test('traceroute -I interleaved with the ping stream: no outage, listed apart as another echo stream', async () => {
  const ping = pingStream({ startMs: F.t0, count: 400, intervalMs: 5, id: 0x4d2 });
  // traceroute sends 16 probes at once with rising TTL, then 16 more; only the last ones reach the VIP
  const trace: FixtureFrame[] = [];
  for (let burst = 0; burst < 2; burst++) {
    for (let k = 0; k < 16; k++) {
      const seq = burst * 16 + k + 1;
      const t = F.t0 + 300 + burst * 900 + k * 0.05;
      trace.push(echo(t, 8, 0x777, seq, F.oldMac));
      if (k >= 12) trace.push(echo(t + 0.4, 0, 0x777, seq, F.oldMac));
    }
  }
  const { cap, a } = analyzeCapture([...ping, ...trace]);
  assert.equal(a.outages.length, 0, JSON.stringify(a.outages.map((o) => [o.firstLostSeq, o.lostProbes])));
  assert.equal(a.probesSent, 400);
  assert.equal(a.probesAnswered, 400);
  assert.equal(cap.pinger?.id, 0x4d2);
  assert.equal(cap.otherEchoStreams.length, 1);
  const t = cap.otherEchoStreams[0]!;
  assert.equal(t.id, 0x777);
  assert.equal(t.requests, 32);
  assert.equal(t.answered, 8);
  assert.match(t.why!, /not a steady pinger/);
  // the streaming analysis (what --read runs) lists it in the JSON's otherEchoStreams
  const { MeasureStream } = await import('../../src/models/measure/stream.js');
  const { wire } = analyzeCapture([...ping, ...trace]);
  const s = new MeasureStream({ vip: F.vip, intervalMs: 5 });
  for (const e of wire) s.addWire(e);
  const streamed = s.finish();
  assert.equal(streamed.outages.length, 0);
  assert.deepEqual(streamed.otherEchoStreams?.map((x) => [x.id, x.requests, x.answered]), [[0x777, 32, 8]]);
});

test('a second ping started later (monitoring) is set apart; its losses are no outage of the run', () => {
  const main = pingStream({ startMs: F.t0, count: 600, intervalMs: 5, id: 1000 });
  const monitor = pingStream({ startMs: F.t0 + 100, count: 3, intervalMs: 1000, id: 2000, answered: () => false });
  const { cap, a } = analyzeCapture([...main, ...monitor]);
  assert.equal(cap.pinger?.id, 1000);
  assert.equal(a.outages.length, 0);
  assert.deepEqual(cap.otherEchoStreams.map((s) => [s.id, s.requests, s.answered]), [[2000, 3, 0]]);
});

test('incremental matching: probes handed out as they are decided, state bounded by the outstanding probes', () => {
  // 10 s of 5 ms probes, the VIP silent from 4 s to 6 s
  const frames = pingStream({ startMs: F.t0, count: 2000, intervalMs: 5, id: 9, answered: (i) => i < 800 || i >= 1200 });
  const pcap = parsePcap(pcapOf(frames));
  const m = new ProbeMatcher(F.vip);
  const handed: Probe[] = [];
  let maxHeld = 0;
  let handedBeforeEnd = 0;
  for (const e of wireEventsOf(pcap.records, pcap.linktype)) {
    handed.push(...m.push(e));
    maxHeld = Math.max(maxHeld, m.outstanding);
  }
  handedBeforeEnd = handed.length;
  handed.push(...m.finish());
  assert.equal(handed.length, 2000);
  assert.deepEqual(handed.map((p) => p.seq), Array.from({ length: 2000 }, (_, i) => i + 1), 'in sequence order, each once');
  assert.ok(handedBeforeEnd >= 1990, `handed out during the run: ${handedBeforeEnd}`);
  // the 400 silent probes plus ~1 s of probes waiting to see whether a reply overtakes them
  assert.ok(maxHeld <= 400 + 210, `held at most ${maxHeld}`);
  assert.equal(handed.filter((p) => p.replyTsMs === undefined).length, 400);
});

test('holes in the sequence (probes the kernel never sent) are lost probes with interpolated send times', () => {
  const frames = pingStream({ startMs: F.t0, count: 20, intervalMs: 5, id: 3 }).filter((f, i) => !(i >= 20 && i < 30));
  const { cap } = analyzeCapture(frames);
  assert.equal(cap.probes.length, 20);
  const hole = cap.probes.find((p) => p.seq === 12)!;
  assert.equal(hole.replyTsMs, undefined);
  assert.ok(Math.abs(hole.sentTsMs! - (F.t0 + 55)) < 0.01, String(hole.sentTsMs! - F.t0));
  assert.equal(hole.sentEstimated, true);
});
