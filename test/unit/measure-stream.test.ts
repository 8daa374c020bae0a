/**
 * measure-failover's streaming analysis: the same reports as the whole-run analysis on captures that fit in
 * memory, one outage per outage on a long capture, and outages that never overlap whatever the probes do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { analyze } from '../../src/models/measure/analyze.js';
import { probesFromCapture, wireEventOf } from '../../src/models/measure/frames.js';
import { MeasureStream } from '../../src/models/measure/stream.js';
import { defaultRules, findOutages, OutageTracker } from '../../src/models/measure/outages.js';
import type { Probe, WireEvent } from '../../src/models/measure/events.js';
import { GEN, generatedFrames, type GenOptions } from './measure-stream-capture.js';

function wireOf(o: GenOptions): WireEvent[] {
  const out: WireEvent[] = [];
  for (const [ts, frame] of generatedFrames(o)) {
    const e = wireEventOf(frame, ts);
    if (e) out.push(e);
  }
  return out;
}

function streamed(wire: WireEvent[]) {
  const s = new MeasureStream({ vip: GEN.vip, intervalMs: 5, keepNear: 10 });
  const seen: number[] = [];
  const s2 = new MeasureStream({ vip: GEN.vip, intervalMs: 5, onOutage: (r) => seen.push(r.index) });
  for (const e of wire) {
    s.addWire(e);
    s2.addWire(e);
  }
  s2.finish();
  return { analysis: s.finish(), near: s.nearEvents(), seen };
}

/**
 * A cluster sender that fell silent for good is reported as the stream sees it when it reports the outage
 * (silent so far), the whole-run analysis up to the end of the capture: everything else is the same.
 */
function sameButSilence(a: object): unknown {
  return JSON.parse(JSON.stringify(a), (k, v) => (k === 'silentMs' ? 'silent' : k === 'text' && typeof v === 'string' ? v.replace(/silent [\d.]+ s/, 'silent') : v));
}

function batch(wire: WireEvent[]) {
  const cap = probesFromCapture(GEN.vip, wire);
  return analyze({ vip: GEN.vip, intervalMs: cap.intervalMs, probes: cap.probes, wire, neigh: [], client: cap.client! });
}

test('the stream reports what the whole-run analysis reports (outages, diagnosis, timeline, summary)', () => {
  // [capture, outages it holds]: 2 lost probes are no outage, 10 lost in the last second may still be in flight
  const cases: [GenOptions, number][] = [
    [{ probes: 4000, outages: [[2000, 600]] }, 1],
    [{ probes: 9000, outages: [[1500, 400], [2200, 300], [6000, 1200]] }, 3],
    [{ probes: 3000, outages: [[200, 2], [900, 3], [2990, 10]] }, 1],
    [{ probes: 2000, outages: [] }, 0],
  ];
  for (const [c, count] of cases) {
    const wire = wireOf(c);
    const want = batch(wire);
    const got = streamed(wire);
    assert.deepEqual(sameButSilence(got.analysis), sameButSilence(want), JSON.stringify(c));
    for (const [i, o] of got.analysis.outages.entries()) {
      for (const [j, stop] of o.clusterStops.entries()) assert.ok(stop.silentMs <= want.outages[i]!.clusterStops[j]!.silentMs, 'silent at least this long when reported');
    }
    assert.equal(want.outages.length, count, 'the capture has the outages it was built with');
  }
});

test('outages are reported as they end (5 s tail), before the end of the run', () => {
  const wire = wireOf({ probes: 12_000, outages: [[2000, 600], [8000, 400]] });
  const reportedAt: number[] = [];
  const s = new MeasureStream({ vip: GEN.vip, intervalMs: 5, onOutage: () => reportedAt.push(last) });
  let last = 0;
  for (const e of wire) {
    last = e.tsMs;
    s.addWire(e);
  }
  assert.equal(reportedAt.length, 2, 'both reported while the capture was still running');
  const end1 = GEN.t0 + 2600 * 5;
  assert.ok(reportedAt[0]! > end1 + 5000 && reportedAt[0]! < end1 + 9000, `first reported ${reportedAt[0]! - end1} ms after it ended`);
  assert.equal(s.finish().outages.length, 2);
});

test('a long run (150 000 probes, the 16-bit sequence wraps twice): one outage, every probe counted, a bounded window', () => {
  const s = new MeasureStream({ vip: GEN.vip, intervalMs: 5 });
  let n = 0;
  for (const [ts, frame] of generatedFrames({ probes: 150_000, outages: [[100_000, 600]] })) {
    const e = wireEventOf(frame, ts);
    if (e) s.addWire(e);
    n++;
  }
  const a = s.finish();
  assert.equal(a.probesSent, 150_000);
  assert.equal(a.probesAnswered, 150_000 - 600);
  assert.equal(a.outages.length, 1);
  assert.equal(a.outages[0]!.lostProbes, 600);
  assert.equal(a.outages[0]!.firstLostSeq, 100_000);
  assert.equal(a.outages[0]!.macAfter, GEN.newMac);
  assert.ok(n > 300_000);
});

/** Probes from a random pattern: answered, lost, or lost in runs. */
const probeRuns = fc.array(fc.record({ ok: fc.boolean(), len: fc.integer({ min: 1, max: 12 }), late: fc.integer({ min: 0, max: 40 }) }), { maxLength: 60 });

/** Replies come back in order (one path), some later than the next probe goes out. */
function probesOf(runs: { ok: boolean; len: number; late: number }[]): Probe[] {
  const out: Probe[] = [];
  let seq = 0;
  let lastReply = -Infinity;
  for (const r of runs) {
    for (let i = 0; i < r.len; i++, seq++) {
      const p: Probe = { seq, sentTsMs: seq * 5, sentEstimated: false };
      if (r.ok) p.replyTsMs = lastReply = Math.max(lastReply + 0.01, seq * 5 + 0.3 + r.late);
      out.push(p);
    }
  }
  return out;
}

test('property: outages are disjoint and sorted, each ends with an answered probe, none is a scattered single loss', () => {
  fc.assert(
    fc.property(probeRuns, fc.boolean(), (runs, withEnd) => {
      const probes = probesOf(runs);
      const bySeq = new Map(probes.map((p) => [p.seq, p]));
      const end = probes.length * 5 + (withEnd ? 5000 : 0);
      const outages = findOutages(probes, defaultRules(5), end);
      for (let i = 0; i < outages.length; i++) {
        const o = outages[i]!;
        const next = outages[i + 1];
        if (o.endTsMs !== undefined) {
          assert.ok(bySeq.get(o.firstOkSeq!)?.replyTsMs !== undefined, 'ends with an answered probe');
          assert.ok(o.firstOkSeq! > o.firstLostSeq);
          for (let s = o.firstLostSeq; s < o.firstLostSeq + o.lostProbes; s++) assert.equal(bySeq.get(s)!.replyTsMs, undefined);
        } else assert.equal(next, undefined, 'only the last may be unrecovered');
        if (next) {
          assert.ok(next.firstLostSeq > o.firstOkSeq!, 'disjoint, in order');
          assert.ok(next.startTsMs >= o.endTsMs!, 'sorted by time');
        }
        assert.ok(o.lostProbes >= 3 || (o.endTsMs ?? o.startTsMs) - o.startTsMs >= 50, 'not a scattered loss');
      }
      // every run of ≥ 3 lost probes that ended with an answer is an outage
      let run = 0;
      let want = 0;
      for (const p of probes) {
        if (p.replyTsMs === undefined) run++;
        else {
          if (run >= 3) want++;
          run = 0;
        }
      }
      assert.ok(outages.filter((o) => o.endTsMs !== undefined).length >= want);
    }),
    { numRuns: 300 },
  );
});

test('property: the tracker fed one probe at a time finds what the stream reports from the same probes on the wire', () => {
  fc.assert(
    fc.property(probeRuns, (runs) => {
      const probes = probesOf(runs);
      const t = new OutageTracker(defaultRules(5));
      const closed = probes.map((p) => t.add(p)).filter((o) => o !== undefined);
      const all = findOutages(probes, defaultRules(5), probes.length * 5 + 5000);
      assert.deepEqual(closed, all.filter((o) => o.endTsMs !== undefined));
    }),
    { numRuns: 200 },
  );
});
