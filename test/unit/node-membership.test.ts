/** Membership on its own, with a simulated clock (ms): initdead, warntime, deadtime, comm-up, heal vs restart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Membership } from '../../src/models/node/membership.js';
import { Reporter } from '../../src/models/node/report.js';
import type { Action } from '../../src/models/node/types.js';

const TIMERS = { keepaliveMs: 1000, deadtimeMs: 5000, warntimeMs: 3000, initdeadMs: 10_000 };
const START = 1_000_000;

function cluster() {
  const report = new Reporter();
  const m = new Membership('server1', ['server1', 'server2'], TIMERS, report, START);
  const peer = m.peers.get('server2')!;
  const out: Action[] = [];
  const dead: string[] = [];
  const tick = (now: number) => m.expire(now, out, (p) => (m.markDead(p), dead.push(p.name), []));
  const hear = (now: number, type = 'status', st = 'active') => m.heard(peer, type, st, now, out);
  const events = () => out.flatMap((a) => (a.type === 'log' ? [a.event] : []));
  return { m, peer, out, dead, tick, hear, events, report };
}

test('a peer never heard is dead at initdead; comm-up follows', () => {
  const c = cluster();
  assert.equal(c.m.nextWakeMs(Infinity), START + TIMERS.initdeadMs);
  c.tick(START + TIMERS.initdeadMs - 1);
  assert.deepEqual(c.dead, []);
  assert.equal(c.m.commUpDue(), false);
  c.tick(START + TIMERS.initdeadMs);
  assert.deepEqual(c.dead, ['server2']);
  assert.deepEqual(c.events(), ['initdead']);
  assert.equal(c.m.commUpDue(), true, 'every peer heard or dead');
  assert.equal(c.m.commUpDue(), false, 'once');
});

test('a heard peer is warned about once at warntime and dead at deadtime', () => {
  const c = cluster();
  c.hear(START + 100);
  assert.equal(c.peer.status, 'active');
  assert.equal(c.m.commUpDue(), true);
  c.tick(START + 100 + TIMERS.warntimeMs);
  c.tick(START + 100 + TIMERS.warntimeMs + 500);
  assert.deepEqual(c.events(), ['peer-up', 'late-heartbeat']);
  c.tick(START + 100 + TIMERS.deadtimeMs);
  assert.deepEqual(c.dead, ['server2']);
  assert.equal(c.report.counters.peerDeaths, 1);
  assert.equal(c.m.allDead(), true);
});

test('a dead peer heard again: a heal with the same generation, a restart with another', () => {
  const c = cluster();
  const guard = c.peer.guard;
  guard.hg = 0x100;
  c.hear(START);
  c.tick(START + TIMERS.deadtimeMs);
  assert.deepEqual(c.hear(START + 20_000), { peer: c.peer, healed: true });
  c.tick(START + 20_000 + TIMERS.deadtimeMs);
  guard.hg = 0x101;
  assert.deepEqual(c.hear(START + 40_000), { peer: c.peer, healed: false }, 'a new generation: restarted');
});

test('shutdone: dead by shutdown, and its return is a restart, not a heal', () => {
  const c = cluster();
  c.hear(START);
  c.m.markShutdown(c.peer);
  assert.equal(c.peer.status, 'dead');
  assert.equal(c.m.liveness(c.peer).deadByShutdown, true);
  assert.deepEqual(c.hear(START + 5000), { peer: c.peer, healed: false });
  assert.equal(c.peer.deadByShutdown, false);
});
