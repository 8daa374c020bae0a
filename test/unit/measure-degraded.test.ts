/**
 * Loss handled as loss (src/models/measure/degraded.ts): scattered losses inside a degraded period are one
 * finding, never outages; an outage inside it carries `lossy-path`; outages stay disjoint and sorted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { judgeLoss, longestRandomRun } from '../../src/models/measure/degraded.js';
import { defaultRules } from '../../src/models/measure/outages.js';
import { analyze } from '../../src/models/measure/analyze.js';
import type { Probe, WireEvent } from '../../src/models/measure/events.js';
import { VIP, CLIENT, OLD, NEW, T0, lcg } from './measure-scene.js';

/** A probe sequence from segments: answered gaps and lost runs; `outage` inserts a long lost run at a segment. */
function probesOf(segs: { gap: number; lost: number }[], outage?: { at: number; len: number }): { probes: Probe[]; outageSeqs?: [number, number] } {
  const probes: Probe[] = [];
  let seq = 0;
  let outageSeqs: [number, number] | undefined;
  const push = (ok: boolean) => {
    const p: Probe = { seq, sentTsMs: T0 + seq * 5 };
    if (ok) p.replyTsMs = T0 + seq * 5 + 0.3;
    probes.push(p);
    seq++;
  };
  for (let i = 0; i < 200; i++) push(true);
  segs.forEach((s, i) => {
    if (outage && outage.at === i) {
      outageSeqs = [seq, seq + outage.len - 1];
      for (let k = 0; k < outage.len; k++) push(false);
    }
    for (let k = 0; k < s.lost; k++) push(false);
    for (let k = 0; k < s.gap; k++) push(true);
  });
  for (let i = 0; i < 400; i++) push(true);
  return outageSeqs ? { probes, outageSeqs } : { probes };
}

/** Every loss within 150 ms of the previous (one cluster), ≥ 3 runs and ≥ 5 probes lost, under a minute. */
function dense(segs: { gap: number; lost: number }[]): boolean {
  const lost = segs.reduce((a, s) => a + s.lost, 0);
  const span = segs.reduce((a, s) => a + s.gap + s.lost, 0);
  return segs.length >= 3 && lost >= 5 && segs.slice(0, -1).every((s) => s.gap <= 30) && span * 5 < 50_000;
}

// an inserted outage of ≥ 200 probes: above what random loss explains at the densest generated loss (runs of 8
// between single answers, p = 8/9: about 80 probes among a thousand)
const segments = fc.array(fc.record({ gap: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 400 })), lost: fc.integer({ min: 1, max: 8 }) }), { minLength: 1, maxLength: 80 });

test('property: outages disjoint and sorted, each ending with an answered probe; scattered losses never outages; an inserted outage is found whole', () => {
  const denseSegments = fc.array(fc.record({ gap: fc.integer({ min: 1, max: 30 }), lost: fc.integer({ min: 1, max: 8 }) }), { minLength: 3, maxLength: 80 });
  fc.assert(
    fc.property(fc.oneof(segments, denseSegments), fc.option(fc.record({ at: fc.nat(), len: fc.integer({ min: 200, max: 2000 }) }), { nil: undefined }), (segs, ins) => {
      const outage = ins ? { at: ins.at % segs.length, len: ins.len } : undefined;
      const { probes, outageSeqs } = probesOf(segs, outage);
      const bySeq = new Map(probes.map((p) => [p.seq, p]));
      const { outages, degraded } = judgeLoss(probes, defaultRules(5), 5, probes.at(-1)!.replyTsMs! + 5000);
      for (let i = 0; i < outages.length; i++) {
        const o = outages[i]!;
        assert.ok(o.endTsMs !== undefined && bySeq.get(o.firstOkSeq!)?.replyTsMs !== undefined, 'ends with an answered probe');
        for (let s = o.firstLostSeq; s < o.firstLostSeq + o.lostProbes; s++) assert.equal(bySeq.get(s)!.replyTsMs, undefined);
        const next = outages[i + 1];
        if (next) {
          assert.ok(next.firstLostSeq > o.firstOkSeq! - 1, 'disjoint, in order');
          assert.ok(next.startTsMs >= o.endTsMs!, 'sorted by time');
        }
      }
      // scattered losses (runs ≤ 8 probes = 40 ms) inside a degraded period are never outages; outside one, a
      // run is an outage by the plain rule (≥ 3 probes); the inserted run is always found whole
      const inserted = outages.filter((o) => outageSeqs && o.firstLostSeq <= outageSeqs[0] && o.firstLostSeq + o.lostProbes - 1 >= outageSeqs[1]);
      assert.equal(inserted.length, outageSeqs ? 1 : 0, JSON.stringify(outages));
      for (const o of outages) {
        if (inserted.includes(o)) continue;
        assert.ok(o.lostProbes >= 3 && o.lostProbes <= 8, `plain outage of ${o.lostProbes}`);
        assert.ok(!degraded.some((d) => o.firstLostSeq >= d.firstSeq && o.firstLostSeq <= d.lastSeq), 'a scattered loss in a degraded period reported as an outage');
      }
      // (the segment the inserted run joins is part of the outage, not of the scattered loss)
      if (dense(segs) && (!outage || dense(segs.filter((_, i) => i !== outage.at)))) assert.equal(outages.length - inserted.length, 0, 'a densely lossy stretch has no outage of its own');
      // degraded periods are disjoint, sorted, with a loss rate in (0, 1]
      for (let i = 0; i < degraded.length; i++) {
        const d = degraded[i]!;
        assert.ok(d.lossRate > 0 && d.lossRate <= 1, `rate ${d.lossRate}`);
        assert.ok(d.lossRuns >= 3 && d.lost >= 5 && d.longestRun <= 8);
        if (degraded[i + 1]) assert.ok(degraded[i + 1]!.fromTsMs >= d.toTsMs);
      }
      if (dense(segs) && !outageSeqs) assert.equal(degraded.length, 1, 'one degraded finding');
    }),
    { numRuns: 300 },
  );
});

test('longestRandomRun: the run random loss explains grows with the loss rate', () => {
  assert.equal(longestRandomRun(0, 1000, 0.01), 1);
  assert.ok(longestRandomRun(0.1, 1000, 0.01) <= 5);
  const k51 = longestRandomRun(0.51, 600, 0.01);
  assert.ok(k51 >= 14 && k51 <= 20, String(k51));
  assert.equal(longestRandomRun(1, 1000, 0.01), Infinity);
});

/** A seeded generator (LCG): reproducible loss. */

/** 10 s of 5 ms probes; loss `pct` both ways from 1 s to 8 s; the VIP down from `down[0]` to `down[1]` (ms), then answered by NEW after a GARP. */
function lossyRun(pct: number, down?: [number, number]) {
  const rnd = lcg(7);
  const probes: Probe[] = [];
  const wire: WireEvent[] = [];
  for (let seq = 1, t = 0; t < 10_000; seq++, t += 5) {
    const ts = T0 + t;
    const mac = down && t >= down[1] ? NEW : OLD;
    wire.push({ kind: 'icmp', tsMs: ts + 0.01, type: 'echo-request', srcMac: CLIENT.mac, dstMac: mac, srcIp: CLIENT.ip, dstIp: VIP, id: 7, seq });
    const p: Probe = { seq, sentTsMs: ts };
    const lossy = t >= 1000 && t < 8000;
    const dropped = lossy && (rnd() < pct / 100 || rnd() < pct / 100);
    const isDown = down && t >= down[0] && t < down[1];
    if (!dropped && !isDown) {
      p.replyTsMs = ts + 0.3;
      wire.push({ kind: 'icmp', tsMs: ts + 0.3, type: 'echo-reply', srcMac: mac, dstMac: CLIENT.mac, srcIp: VIP, dstIp: CLIENT.ip, id: 7, seq });
    }
    probes.push(p);
  }
  if (down) wire.push({ kind: 'arp', tsMs: T0 + down[1] - 1, op: 'request', srcMac: NEW, dstMac: 'ff:ff:ff:ff:ff:ff', senderMac: NEW, senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: VIP });
  wire.sort((a, b) => a.tsMs - b.tsMs);
  return { vip: VIP, intervalMs: 5, probes, wire, neigh: [], iface: 'eth0' };
}

test('loss only (30 % each way for 7 s): no outage, one degraded finding with its rate; a problem', async () => {
  const a = analyze(lossyRun(30));
  assert.equal(a.outages.length, 0, a.summary);
  assert.equal(a.degraded.length, 1);
  const d = a.degraded[0]!;
  assert.ok(d.lossRate > 0.4 && d.lossRate < 0.6, `rate ${d.lossRate}`);
  assert.ok(d.fromTsMs >= T0 + 1000 && d.toTsMs <= T0 + 8100, `${d.fromTsMs - T0} … ${d.toTsMs - T0}`);
  assert.ok(d.lossRuns > 100);
  assert.equal(a.problem, true);
  assert.match(a.summary, /Degraded path: \d+\.\d % of probes lost/);
  const { renderSvg } = await import('../../src/commands/render/measure-svg.js');
  assert.match(renderSvg({ analysis: a, probes: [], wire: [], neigh: [], fromMs: T0, toMs: T0 + 10_000 }), /<title>degraded: \d+\.\d % lost, \d+ probes in \d+ runs<\/title>/);
});

test('a takeover inside a lossy period, the timers say 0.5 s, the first announcement seen at +2 s: lossy-path, the takeover part and what the loss added', () => {
  const input = lossyRun(20, [3000, 5000]);
  // the old holder's heartbeats stop at 3 s; deadtime 0.5 s (ha.cf): it should have answered from ~3.4 s
  for (let t = 0; t < 3000; t += 100) input.wire.push({ kind: 'cluster', tsMs: T0 + t, proto: 'heartbeat', srcMac: OLD, srcIp: '198.18.0.11', dstIp: '198.18.0.255' });
  input.wire.sort((a, b) => a.tsMs - b.tsMs);
  const a = analyze({ ...input, timers: { keepaliveMs: 100, deadtimeMs: 500, source: 'ha.cf' } });
  assert.equal(a.outages.length, 1, a.summary);
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'lossy-path');
  assert.equal(o.diagnosis.underlying, 'detection-bound');
  assert.ok(o.durationMs! >= 1990 && o.durationMs! < 2300, `outage ${o.durationMs}`);
  assert.match(o.diagnosis.sentence, /^Lossy path: \d+\.\d % of probes lost from [−+-]\d+\.\d+ s to \+\d+\.\d+ s \(\d+ probes in \d+ runs\); the takeover itself took 0\.[34]\d s; the loss added 1\.[56]\d s/);
  assert.ok(o.degraded && o.degraded.outageSeqs.includes(o.firstLostSeq));
  assert.equal(a.degraded.length, 1);
  assert.ok(o.diagnosis.evidence.some((e) => /without the loss \(detection-bound\)/.test(e)));
});

test('a takeover inside a lossy period that the loss did not lengthen keeps its own cause, the loss in the evidence', () => {
  const a = analyze(lossyRun(20, [3000, 5000]));
  assert.equal(a.outages.length, 1, a.summary);
  const o = a.outages[0]!;
  assert.equal(o.diagnosis.cause, 'detection-bound', o.diagnosis.sentence);
  assert.ok(o.diagnosis.evidence.some((e) => /degraded path around it .* which did not lengthen it/.test(e)));
  assert.equal(a.degraded.length, 1);
});

test('a clean takeover with no loss around it keeps its own cause (no degraded finding)', () => {
  const a = analyze(lossyRun(0, [3000, 5000]));
  assert.equal(a.outages.length, 1);
  assert.equal(a.degraded.length, 0);
  assert.equal(a.outages[0]!.diagnosis.cause, 'detection-bound');
});
