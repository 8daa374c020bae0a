/** compare-garp --family 6: the plan (IPv6 forms, run-node's default first, IPv6 profiles and anchors) and the default's verdict. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMatrix, QUICK_STRATEGIES_V6, IPV6_ANCHORS } from '../../src/models/compare/matrix.js';
import { cellStats, defaultVerdict, incompleteAnchorCells } from '../../src/models/compare/stats.js';
import { PROFILES6 } from '../../src/models/lab/profiles.js';
import { HadiagError } from '../../src/core/errors.js';

test('family 6 plans the IPv6 forms with the default first, the IPv6 profiles and the IPv6 anchors', () => {
  const m = planMatrix({ family: 6, quick: true, defaultSpec: 'directed' });
  assert.equal(m.family, 6);
  assert.deepEqual(m.rows.filter((r) => r.kind === 'strategy').map((r) => r.label), ['directed', ...QUICK_STRATEGIES_V6.filter((s) => s !== 'directed')]);
  assert.deepEqual(m.rows.filter((r) => r.kind === 'anchor').map((r) => r.label), [...IPV6_ANCHORS]);
  assert.deepEqual(m.profiles, PROFILES6.map((p) => p.name));
  assert.equal(m.reps, 1);
  assert.equal(planMatrix({ family: 6, quick: true, defaultSpec: 'na:count=5' }).rows[0]!.label, 'na:count=5');
  assert.equal(planMatrix({ quick: true }).family, 4);
  assert.deepEqual(planMatrix({ family: 6, strategies: ['default', 'na'], defaultSpec: 'na+directed' }).rows.map((r) => r.label), ['na+directed', 'na', ...IPV6_ANCHORS]);
  assert.equal(planMatrix({ strategies: ['default'], managers: [] }).rows[0]!.label, 'directed', 'IPv4: run-node\'s IPv4 default');
});

test('family 6 refuses ARP forms, IPv4 profiles, anchors without an IPv6 VIP and sidecar rows, naming the fix', () => {
  const refuse = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof HadiagError && re.test(e.message) && !!e.fix);
  refuse(() => planMatrix({ family: 6, strategies: ['both'] }), /IPv6 VIP/);
  refuse(() => planMatrix({ family: 6, profiles: ['garp-filtered'] }), /unknown IPv6 client profile "garp-filtered"/);
  assert.throws(() => planMatrix({ family: 6, profiles: ['garp-filtered'] }), (e: HadiagError) => /IPv4 profile: drop --family 6/.test(e.fix ?? '') && e.where === '--profile');
  refuse(() => planMatrix({ family: 6, managers: ['ucarp'] }), /ucarp has no IPv6 VIP/);
  refuse(() => planMatrix({ family: 6, managers: ['keepalived+announce'] }), /IPv4 only/);
  refuse(() => planMatrix({ family: 4, strategies: ['na'] }), /IPv4/);
});

test("the default's verdict: every profile within deadtime + 100 ms, and anchor cells without a number are listed", () => {
  const row = { kind: 'strategy' as const, label: 'directed', spec: 'directed' };
  const anchor = { kind: 'anchor' as const, label: 'keepalived', manager: 'keepalived' };
  const ok = (ms: number) => ({ outageMs: ms, recovered: true, unicastProbesToOld: 0, broadcastRequests: 0, probesSent: 1, probesAnswered: 1 });
  const cells = [
    cellStats(row, 'linux-default', [ok(5000)], 5100),
    cellStats(row, 'drop-unsolicited-na', [ok(5200)], 5100),
    cellStats(anchor, 'linux-default', [ok(5000)], 5100),
    cellStats(anchor, 'drop-unsolicited-na', [{ error: 'no result' }], 5100),
  ];
  const v = defaultVerdict(cells, ['linux-default', 'drop-unsolicited-na'], 'directed', 5100)!;
  assert.equal(v.strategy, 'directed');
  assert.deepEqual(v.profiles.map((p) => p.ok), [true, false]);
  assert.equal(v.ok, false);
  assert.equal(v.worstMedianMs, 5200);
  assert.deepEqual(incompleteAnchorCells(cells), [{ row: 'keepalived', profile: 'drop-unsolicited-na', n: 0, errors: 1 }]);
  assert.equal(defaultVerdict(cells, ['linux-default'], 'na', 5100), undefined);
});
