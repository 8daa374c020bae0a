/**
 * `hadiag announce` next to the real keepalived and the real Pacemaker/Corosync: compare-garp's engine runs
 * keepalived alone, keepalived + the sidecar and Pacemaker + the sidecar (fast cluster timers, shrunk client
 * neighbour timers, one failover per trial measuring a stock client and a client that drops gratuitous ARP
 * for the VIP). Alone, keepalived's GARPs leave the filtering client on the dead MAC until its own probes
 * fail; with the sidecar the filtering client recovers with the stock one, from the sidecar's announcement.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCompare } from '../../src/effects/compare/run.js';
import { renderTable } from '../../src/commands/render/compare.js';

const root = process.getuid?.() === 0;

test('the announce sidecar fixes a garp-filtered client with the real keepalived and the real Pacemaker', { skip: !root, timeout: 300_000 }, async () => {
  const r = await runCompare({
    strategies: ['none'],
    managers: ['keepalived', 'keepalived+announce', 'pacemaker+announce'],
    profiles: ['linux-default', 'garp-filtered'],
    reps: 1,
    timers: 'fast',
    // reachable 2.5–7.5 s, 2 s in DELAY, 3 unicast probes: a client that ignores GARP stays on the dead MAC ≥ 5 s
    neigh: { base_reachable_time_ms: 5000, delay_first_probe_time: 2 },
    concurrency: 3,
    maxWaitMs: 40_000,
    settleMs: 2000,
  });
  const table = renderTable(r);
  assert.deepEqual(r.failedTrials, [], table);
  const cell = (row: string, profile: string) => r.cells.find((c) => c.row === row && c.profile === profile)!;
  const alone = cell('keepalived', 'garp-filtered').medianMs!;
  const stock = cell('keepalived', 'linux-default').medianMs!;
  assert.ok(alone >= stock + 3000, `keepalived alone: the filtering client waits for its own probes (${alone} ms vs stock ${stock} ms)\n${table}`);
  for (const mgr of ['keepalived', 'pacemaker']) {
    const row = `${mgr}+announce`;
    const fixed = cell(row, 'garp-filtered');
    const base = cell(row, 'linux-default');
    assert.ok(fixed.n === 1 && base.n === 1, table);
    // wide margin for a loaded machine; compare-garp's own bar (+100 ms) is checked by the done-table run
    assert.ok(fixed.medianMs! <= base.medianMs! + 1000, `${row}: the filtering client (${fixed.medianMs} ms) recovers with the stock one (${base.medianMs} ms)\n${table}`);
    assert.equal(fixed.learnedBy, 'announcement', `${row}: learned from the sidecar's announcement\n${table}`);
    assert.equal(fixed.unrecovered, 0, table);
  }
  assert.ok(cell('keepalived+announce', 'garp-filtered').medianMs! < alone - 2000, table);
  assert.deepEqual(r.sidecars.map((v) => v.row), ['keepalived+announce', 'pacemaker+announce']);
});
