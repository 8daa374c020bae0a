/**
 * The soak's short version (bench/soak.ts runs ≥ 1000): 20 failover/failback cycles of hadiag run-node in one
 * lab (fast timers, separate heartbeat link, ping node + built-in ipfail), the fault rotating link / kill -9 +
 * restart / SIGTERM + restart / partition / ping-node loss. About 80 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soak } from '../../bench/soak.js';

test('20 soak cycles: always exactly one holder after the heal window, no VIP on a stopped node, flat fds and capture handles', { timeout: 240_000 }, async () => {
  const r = await soak({ cycles: 20 });
  process.stderr.write(`# soak: ${r.cycles} cycles in ${r.durationS} s, worst heal ${r.maxHealMs} ms; slopes/cycle RSS ${r.rssSlopeKbPerCycle} kB, fds ${r.fdSlopePerCycle}, captures ${r.captureSlopePerCycle}\n`);
  assert.equal(r.cycles, 20);
  assert.deepEqual(r.faults, { link: 4, kill: 4, term: 4, partition: 4, ping: 4 });
  assert.deepEqual(r.problems, []);
  assert.equal(r.doubleHolders, 0);
  assert.equal(r.staleVips, 0);
  assert.equal(r.noHolder, 0);
  assert.ok(r.samples >= 40, `${r.samples} samples`);
  assert.ok(Math.abs(r.fdSlopePerCycle) < 0.5, `fd slope ${r.fdSlopePerCycle}/cycle`);
  assert.ok(Math.abs(r.captureSlopePerCycle) < 0.1, `capture handle slope ${r.captureSlopePerCycle}/cycle`);
  // RSS of a tsx-run node wanders by megabytes with GC: only a steady climb of more than 1 MB a cycle fails
  assert.ok(r.rssSlopeKbPerCycle < 1024, `RSS slope ${r.rssSlopeKbPerCycle} kB/cycle`);
});
