/** The per-peer sequence guard on its own, with a simulated clock (ms). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceGuard, DUP_WINDOW_MS, RESYNC_RUN, SEQ_MEMORY, type PeerLiveness } from '../../src/models/node/sequence-guard.js';
import { Reporter } from '../../src/models/node/report.js';
import type { Action } from '../../src/models/node/types.js';

const KEEPALIVE = 1000;
const HG = 0x100;

/** A guard for server1 fed as the membership would: lastHeardMs follows the accepted packets. */
function peer() {
  const report = new Reporter();
  const guard = new SequenceGuard('server1', KEEPALIVE, report);
  const live: PeerLiveness = { heard: false, dead: false, deadByShutdown: false, lastHeardMs: 0 };
  const out: Action[] = [];
  const admit = (hg: number, seq: number, now: number, ts = Math.floor(now / 1000)) => {
    const r = guard.admit(hg, seq, ts, now, live, out);
    if (r.ok) Object.assign(live, { heard: true, lastHeardMs: now });
    return r;
  };
  return { guard, report, live, out, admit };
}

test('a seq seen again is a duplicate soon after, a replay later; both are dropped', () => {
  const p = peer();
  let t = 1_000_000;
  for (let s = 1; s <= 5; s++) assert.equal(p.admit(HG, s, (t += KEEPALIVE)).ok, true);
  assert.equal(p.admit(HG, 5, t + 10).ok, false);
  assert.equal(p.report.counters.duplicates, 1);
  assert.equal(p.admit(HG, 3, t + DUP_WINDOW_MS + 500).ok, false);
  assert.equal(p.report.counters.replaysRejected, 1);
  assert.ok(p.out.some((a) => a.type === 'log' && a.event === 'replay-rejected'));
});

test('a gap asks for the missing seqs again, and no ack is due while they are missing', () => {
  const p = peer();
  let t = 1_000_000;
  for (let s = 1; s <= 12; s++) p.admit(HG, s, (t += KEEPALIVE));
  assert.equal(p.guard.ackDue(), 12, 'every ten seqs an ack');
  assert.equal(p.guard.ackDue(), undefined);
  const r = p.admit(HG, 16, (t += KEEPALIVE));
  assert.deepEqual(r, { ok: true, rexmit: { first: 13, last: 15 } });
  assert.equal(p.report.counters.retransmitRequests, 1);
  for (let s = 17; s <= 25; s++) p.admit(HG, s, (t += KEEPALIVE));
  assert.equal(p.guard.ackDue(), undefined, 'seqs 13..15 still missing');
  for (const s of [13, 14, 15]) assert.equal(p.admit(HG, s, t + 1).ok, true, 'a retransmitted seq fills the gap');
  assert.equal(p.guard.ackDue(), 25);
});

test('one forged packet with a higher generation cannot wedge the guard', () => {
  const p = peer();
  let t = 1_000_000;
  for (let s = 1; s <= 5; s++) p.admit(HG, s, (t += KEEPALIVE));
  assert.equal(p.admit(HG + 7, 1, t + 100).ok, false, 'a new generation while the old one talks is rejected');
  assert.equal(p.report.counters.generationRejected, 1);
  for (let s = 6; s <= 20; s++) assert.equal(p.admit(HG, s, (t += KEEPALIVE)).ok, true, `genuine seq ${s} still accepted`);
  assert.equal(p.guard.hg, HG);
});

test('a restarted peer (new generation after a silence, seen twice rising) is followed', () => {
  const p = peer();
  let t = 1_000_000;
  for (let s = 1; s <= 5; s++) p.admit(HG, s, (t += KEEPALIVE));
  t += 3 * KEEPALIVE; // silent for more than two keepalives
  assert.equal(p.admit(HG + 1, 1, t).ok, false, 'the first packet of a new generation is only a candidate');
  assert.equal(p.admit(HG + 1, 2, (t += KEEPALIVE)).ok, true);
  assert.equal(p.guard.hg, HG + 1);
  assert.equal(p.report.counters.generationChanges, 1);
});

test('a jump far ahead while the peer talks is not believed', () => {
  const p = peer();
  let t = 1_000_000;
  for (let s = 1; s <= 5; s++) p.admit(HG, s, (t += KEEPALIVE));
  assert.equal(p.admit(HG, 100_000, t + 10).ok, false);
  assert.equal(p.report.counters.seqJumpsRejected, 1);
  assert.equal(p.admit(HG, 6, (t += KEEPALIVE)).ok, true);
});

test('a floor pushed above the genuine seqs by a forged stream is left after a run of fresh packets', () => {
  const p = peer();
  let t = 1_000_000;
  for (let s = 1; s <= 5; s++) p.admit(HG, s, (t += KEEPALIVE));
  t += 3 * KEEPALIVE; // a hiccup makes a jump believable
  for (let i = 0; i <= SEQ_MEMORY + 10; i++) p.admit(HG, 100_000 + i, (t += 1));
  const genuine = (s: number) => p.admit(HG, s, (t += KEEPALIVE)).ok;
  for (let i = 1; i < RESYNC_RUN; i++) assert.equal(genuine(5 + i), false, 'below the floor: rejected');
  assert.equal(genuine(5 + RESYNC_RUN), true, 'the run of fresh rising seqs is followed');
  assert.equal(p.report.counters.seqResyncs, 1);
  assert.equal(genuine(6 + RESYNC_RUN), true);
});

test('the tail of a peer that said shutdone is rejected', () => {
  const p = peer();
  let t = 1_000_000;
  for (let s = 1; s <= 3; s++) p.admit(HG, s, (t += KEEPALIVE));
  Object.assign(p.live, { dead: true, deadByShutdown: true });
  assert.equal(p.admit(HG, 4, t + 10).ok, false);
  assert.equal(p.admit(HG + 1, 1, t + 20).ok, true, 'its next incarnation is accepted');
});

test('the outbox numbers our messages and keeps the recent ones for retransmission', async () => {
  const { Outbox } = await import('../../src/models/node/outbox.js');
  const { getField } = await import('../../src/codecs/heartbeat/message.js');
  const box = new Outbox({ node: 'server1', uuid: Buffer.alloc(16, 1), generation: HG });
  for (let i = 0; i < 250; i++) box.send(1_000_000 + i, [['t', 'status']]);
  assert.equal(box.seq, 250);
  assert.equal(getField(box.sent(250)!, 'seq'), (250).toString(16));
  assert.equal(getField(box.sent(250)!, 'hg'), HG.toString(16));
  assert.equal(box.sent(10), undefined, 'older ones are forgotten (NS_nak_rexmit)');
  const ctl = box.control(1_000_000, [['t', 'NS_ackmsg']]);
  assert.equal(ctl.type === 'send' && getField(ctl.msg, 'seq'), undefined, 'control messages carry no seq');
  assert.equal(box.seq, 250);
});
