/**
 * The resource parts on their own, with a simulated clock (ms): the resource book's jobs, the legacy policy's
 * ip-request hand-back, and the nice_failback policy's contest rule for auto_failback on vs off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMessage, getField } from '../../src/codecs/heartbeat/message.js';
import { LegacyFailback } from '../../src/models/node/legacy-failback.js';
import { Membership } from '../../src/models/node/membership.js';
import { NiceFailback } from '../../src/models/node/nice-failback.js';
import { Outbox } from '../../src/models/node/outbox.js';
import { Reporter } from '../../src/models/node/report.js';
import { ResourceBook } from '../../src/models/node/resource-book.js';
import type { PolicyContext } from '../../src/models/node/resource-policy.js';
import { RSC_FOREIGN, type Action, type AutoFailback, type MachineGroup } from '../../src/models/node/types.js';

const T0 = 1_000_000;
const GROUPS: MachineGroup[] = [
  { node: 'server1', label: 'server1 IPaddr::198.18.0.20/24', ips: ['IPaddr::198.18.0.20/24'] },
  { node: 'server1', label: 'server1 IPaddr::198.18.0.21/24', ips: ['IPaddr::198.18.0.21/24'] },
];

function node(name: string, mode: AutoFailback) {
  const cfg = {
    node: name, nodes: ['server1', 'server2'], keepaliveMs: 1000, deadtimeMs: 5000, warntimeMs: 3000, initdeadMs: 10_000,
    autoFailback: mode, groups: GROUPS, generation: 0x100, uuid: Buffer.alloc(16, 1), rqstDelayMs: 10_000, standbyTimeoutMs: 10_000, ipRequestTimeoutMs: 10_000,
  };
  const report = new Reporter();
  const book = new ResourceBook(name, GROUPS);
  const members = new Membership(name, cfg.nodes, cfg, report, T0);
  const ctx: PolicyContext = { cfg, report, outbox: new Outbox(cfg), book, members, shuttingDown: () => false };
  const policy = mode === 'legacy' ? new LegacyFailback(ctx) : new NiceFailback(ctx, mode);
  const peer = members.peers.get(name === 'server1' ? 'server2' : 'server1')!;
  /** complete every acquire/release in `actions` at `now`, and whatever their continuations start */
  const finish = (actions: Action[], now: number): Action[] => {
    const all = [...actions];
    for (let i = 0; i < all.length; i++) {
      const a = all[i]!;
      if (a.type === 'acquire' || a.type === 'release') all.push(...book.done({ type: 'resource-done', job: a.job, group: a.group, op: a.type, ok: true }, now));
    }
    return all;
  };
  return { ctx, policy, book, members, peer, finish };
}

const sent = (actions: Action[], type: string) => actions.flatMap((a) => (a.type === 'send' && getField(a.msg, 't') === type ? [a.msg] : []));

test('resource book: a job acquires in order, releases in reverse, and continues once all are done', () => {
  const book = new ResourceBook('server1', GROUPS);
  let continued = 0;
  const acq = book.job('acquire', [0, 1], 'test', () => (continued++, []), T0);
  assert.deepEqual(acq.map((a) => a.type === 'acquire' && a.group), [0, 1]);
  assert.equal(book.busy(), true);
  const job = (acq[0] as Extract<Action, { type: 'acquire' }>).job;
  book.done({ type: 'resource-done', job, group: 0, op: 'acquire', ok: true }, T0 + 5);
  assert.equal(continued, 0);
  book.done({ type: 'resource-done', job, group: 1, op: 'acquire', ok: false }, T0 + 9);
  assert.equal(continued, 1);
  assert.deepEqual(book.held(), [0], 'a failed acquisition is not held');
  assert.equal(book.heldSince([0, 1]), T0 + 5);
  book.job('acquire', [1], 'again', () => [], T0 + 10);
  const rel = book.job('release', [0, 1], 'test', () => [], T0 + 20);
  assert.deepEqual(rel.map((a) => a.type === 'release' && a.group), [1, 0], 'reverse order, the pending one included');
});

test('legacy: the home node asks for each group back and takes it when the answer comes', () => {
  const n = node('server1', 'legacy');
  n.members.heard(n.peer, 'status', 'active', T0, []);
  const out: Action[] = [];
  n.policy.commUp(T0, out);
  const asks = sent(out, 'ip-request');
  assert.deepEqual(asks.map((m) => getField(m, 'ipaddr')), ['IPaddr::198.18.0.20/24', 'IPaddr::198.18.0.21/24']);
  assert.equal(n.policy.nextWakeMs(Infinity), T0 + 10_000, 'it waits for the answers');
  const resp = (ipaddr: string, ok: string) => buildMessage([['t', 'ip-request-resp'], ['dest', 'server1'], ['ipaddr', ipaddr], ['weown', 'yes'], ['ok', ok], ['src', 'server2']]);
  const first = n.policy.handlers['ip-request-resp']!(resp('IPaddr::198.18.0.20/24', 'OK'), n.peer, T0 + 800);
  assert.deepEqual(first.flatMap((a) => (a.type === 'acquire' ? [a.group] : [])), [0]);
  const denied = n.policy.handlers['ip-request-resp']!(resp('IPaddr::198.18.0.21/24', 'NO'), n.peer, T0 + 900);
  assert.ok(denied.some((a) => a.type === 'log' && a.event === 'ip-request-denied'));
  assert.ok(!denied.some((a) => a.type === 'acquire'), 'a group the peer did not give up is not taken');
  assert.equal(n.policy.nextWakeMs(Infinity), Infinity, 'every answer in: no timer');
});

test('legacy: with no answer the home node takes its groups at the ip-request timeout', () => {
  const n = node('server1', 'legacy');
  n.members.heard(n.peer, 'status', 'active', T0, []);
  n.policy.commUp(T0, []);
  const out: Action[] = [];
  n.policy.tick(T0 + 9_999, out);
  assert.equal(out.length, 0);
  n.policy.tick(T0 + 10_000, out);
  assert.ok(out.some((a) => a.type === 'log' && a.event === 'ip-request-timeout'));
  assert.deepEqual(out.flatMap((a) => (a.type === 'acquire' ? [a.group] : [])), [0, 1]);
});

/** server2 took server1's groups when server1 died; server1 now says it holds them too (a partition healed). */
function contested(mode: 'on' | 'off', theirSinceMs: number) {
  const n = node('server2', mode);
  n.members.heard(n.peer, 'status', 'active', T0, []);
  n.members.markDead(n.peer);
  n.finish(n.policy.onPeerDead(n.peer, T0 + 100), T0 + 100);
  assert.deepEqual(n.book.held(), [0, 1]);
  assert.ok(n.policy.view().held & RSC_FOREIGN);
  const msg = buildMessage([['t', 'resource'], ['rsc_hold', 'local'], ['rtype', 'full'], ['isstable', '1'], ['hd_lsince', Math.round(theirSinceMs).toString(16)], ['src', 'server1']]);
  return n.policy.handlers.resource!(msg, n.peer, T0 + 20_000);
}

test('nice_failback on: contested groups go home', () => {
  const out = contested('on', T0 + 10_000);
  assert.deepEqual(out.flatMap((a) => (a.type === 'release' ? [a.group] : [])), [1, 0]);
});

test('nice_failback off: whoever had the groups first keeps them', () => {
  const keep = contested('off', T0 + 10_000); // server1 took them after server2
  assert.ok(!keep.some((a) => a.type === 'release'));
  assert.deepEqual(keep.flatMap((a) => (a.type === 'announce' ? [a.group] : [])), [0, 1], 'kept and announced again');
  assert.equal(sent(keep, 'resource').length, 1, 'the peer is told what we hold');
  const yieldTo = contested('off', T0 + 50); // server1 had them first
  assert.deepEqual(yieldTo.flatMap((a) => (a.type === 'release' ? [a.group] : [])), [1, 0]);
});
