/**
 * compare-garp --family 6 end to end through the CLI: a small matrix (run-node's default IPv6 strategy and
 * keepalived's IPv6 VIP, a stock client and one with drop_unsolicited_na=1, fast cluster timers, shrunk client
 * neighbour timers, one failover per row). The JSON keeps compare-garp's shape plus family 6; every cell has a
 * number; the default recovers the client that drops unsolicited NAs, which keepalived's NAs leave on the dead
 * MAC until its own neighbour probes fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli } from './lab-helpers.js';
import { DEFAULT_STRATEGY } from '../../src/models/strategy/language.js';

const DEFAULT_GARP6 = DEFAULT_STRATEGY[6];

const root = process.getuid?.() === 0;

interface Cell {
  row: string;
  kind: string;
  profile: string;
  n: number;
  errors: number;
  medianMs?: number;
  learnedBy?: string;
}

test('compare-garp --family 6: default IPv6 strategy vs keepalived on linux-default and drop-unsolicited-na', { skip: !root, timeout: 240_000 }, async () => {
  const profiles = ['linux-default', 'drop-unsolicited-na'];
  const r = await cli([
    'compare-garp', '--family', '6', '--strategy', DEFAULT_GARP6, '--manager', 'keepalived',
    ...profiles.flatMap((p) => ['--profile', p]),
    '--reps', '1', '--timers', 'fast', '--concurrency', '2', '--max-wait', '40s', '--json',
    // reachable 2.5–7.5 s, 2 s in DELAY, 3 unicast probes: a client that ignores the NAs stays on the dead MAC ≥ 5 s
    '--client-neigh', 'base_reachable_time_ms=5000', '--client-neigh', 'delay_first_probe_time=2',
  ]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr.slice(-2000)}`);
  const doc = JSON.parse(r.stdout) as { family: number; profiles: string[]; deadlineMs: number; cells: Cell[]; defaultStrategy: { strategy: string; profiles: { profile: string; ok: boolean }[] }; failedTrials: unknown[]; incompleteAnchors: unknown[]; healthy: boolean };
  const table = JSON.stringify(doc.cells.map(({ row, profile, n, errors, medianMs, learnedBy }) => ({ row, profile, n, errors, medianMs, learnedBy })));
  assert.equal(doc.family, 6);
  assert.deepEqual(doc.profiles, profiles);
  assert.equal(doc.deadlineMs, 1100, 'fast timers: deadtime 1 s + 100 ms');
  assert.deepEqual(doc.failedTrials, [], table);
  assert.deepEqual(doc.incompleteAnchors, [], table);
  assert.equal(doc.defaultStrategy.strategy, DEFAULT_GARP6, 'defaultStrategy names the default row');
  assert.deepEqual(doc.defaultStrategy.profiles.map((p) => p.profile), profiles);
  assert.equal(doc.cells.length, 4, table);
  for (const c of doc.cells) {
    assert.ok(c.n >= 1 && c.errors === 0 && typeof c.medianMs === 'number', `cell ${c.row} × ${c.profile}: ${table}`);
  }
  const med = (row: string, profile: string) => doc.cells.find((c) => c.row === row && c.profile === profile)!.medianMs!;
  const anchor = med('keepalived', 'drop-unsolicited-na');
  const def = med(DEFAULT_GARP6, 'drop-unsolicited-na');
  assert.ok(anchor >= 4000, `keepalived's unsolicited NAs are dropped: the client waits for its own probes (${anchor} ms)\n${table}`);
  assert.ok(def < anchor - 2000, `the default (${def} ms) beats keepalived (${anchor} ms) on drop-unsolicited-na\n${table}`);
  assert.equal(doc.healthy, r.code === 0);
});
