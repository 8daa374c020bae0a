/** compare-garp's pure parts: matrix planning, statistics, recommendations, the chart and the table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HadiagError } from '../../src/core/errors.js';
import { planMatrix, etaMs, QUICK_STRATEGIES, PLAIN_GARP, type Row } from '../../src/models/compare/matrix.js';
import { cellStats, sidecarVerdicts, defaultStrategy, median, percentile, recommend } from '../../src/models/compare/stats.js';
import { summarizeClient } from '../../src/models/compare/client-result.js';
import { logTicks, renderCompareSvg } from '../../src/commands/render/compare-svg.js';
import { renderMatrix, renderRecommendations, renderTable } from '../../src/commands/render/compare.js';
import { selfContained, type CompareResult } from '../../src/effects/compare/run.js';
import type { Analysis } from '../../src/models/measure/analyze.js';

test('matrix: quick = main strategies + the three anchors once, every profile; rep-major order', () => {
  const m = planMatrix({ quick: true });
  assert.deepEqual(m.rows.filter((r) => r.kind === 'strategy').map((r) => r.spec), QUICK_STRATEGIES);
  assert.deepEqual(m.rows.filter((r) => r.kind === 'anchor').map((r) => r.manager), ['heartbeat', 'keepalived', 'ucarp']);
  assert.equal(m.reps, 1);
  assert.ok(m.profiles.includes('garp-filtered') && m.profiles.includes('drop-gratuitous') && m.profiles.length >= 6);
  const m2 = planMatrix({ strategies: ['directed', 'reply'], profiles: ['garp-filtered'], managers: [], reps: 2 });
  assert.deepEqual(m2.trials.map((t) => `${t.row.label}#${t.rep}`), ['directed#1', 'reply#1', 'directed#2', 'reply#2']);
});

test('matrix errors are usage errors naming the flag', () => {
  const bad = (o: Parameters<typeof planMatrix>[0], re: RegExp) =>
    assert.throws(() => planMatrix(o), (e: unknown) => e instanceof HadiagError && e.exitCode === 2 && re.test(e.message));
  bad({ strategies: ["bogus"] }, /unknown form "bogus"/);
  bad({ profiles: ['nope'] }, /unknown client profile "nope"/);
  bad({ profiles: ['tuned', 'tuned'] }, /given twice/);
  bad({ managers: ['corosync'] }, /unknown anchor manager "corosync"/);
  bad({ managers: ['keepalived+announce=bogus'] }, /unknown form "bogus"/);
  bad({ managers: ['keepalived+anounce'] }, /unknown anchor manager/);
  bad({ strategies: ['none'], managers: [] }, /nothing to measure/);
  bad({ reps: 0 }, /--reps 0/);
});

test('median / nearest-rank p95 / eta', () => {
  assert.equal(median([1, 2, 3, 4]), 2.5);
  assert.equal(median([5]), 5);
  assert.equal(median([]), undefined);
  const xs = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 95), 19);
  assert.equal(percentile(xs, 100), 20);
  assert.equal(percentile([7], 95), 7);
  assert.equal(etaMs([60_000, 120_000], 4, 2), 180_000);
  assert.equal(etaMs([], 4, 2), undefined);
});

const row = (label: string, kind: Row['kind'] = 'strategy'): Row => ({ kind, label, ...(kind === 'strategy' ? { spec: label } : { manager: label }) });
const ok = (ms: number, recovered = true) => ({ outageMs: ms, recovered, unicastProbesToOld: 0, broadcastRequests: 0, probesSent: 1, probesAnswered: 1, learnedBy: 'announcement' as const });

test('cell statistics: share within the deadline, unrecovered trials, errors', () => {
  const c = cellStats(row('directed'), 'garp-filtered', [ok(4900), ok(5050), ok(5200), ok(60_000, false), { error: 'x' }], 5100);
  assert.equal(c.n, 4);
  assert.equal(c.errors, 1);
  assert.equal(c.unrecovered, 1);
  assert.equal(c.medianMs, (5050 + 5200) / 2);
  assert.equal(c.maxMs, 60_000);
  assert.equal(c.p95Ms, 60_000);
  assert.equal(c.withinShare, 0.5);
  assert.equal(c.learnedBy, 'announcement');
});

function result(): CompareResult {
  const rows = [row(PLAIN_GARP), row('directed'), row('vmac'), row('heartbeat', 'anchor')];
  const profiles = ['linux-default', 'garp-filtered'];
  const data: Record<string, number[]> = {
    [`${PLAIN_GARP}|linux-default`]: [4800],
    [`${PLAIN_GARP}|garp-filtered`]: [38_000],
    'directed|linux-default': [4900],
    'directed|garp-filtered': [4950],
    'vmac|linux-default': [4700],
    'vmac|garp-filtered': [4700],
    'heartbeat|linux-default': [5200],
    'heartbeat|garp-filtered': [41_000],
  };
  const cells = rows.flatMap((r) => profiles.map((p) => cellStats(r, p, data[`${r.label}|${p}`]!.map((ms) => ok(ms)), 5100)));
  const r: CompareResult = {
    family: 4, timers: 'classic', keepaliveMs: 1000, deadtimeMs: 5000, deadlineMs: 5100, profiles, rows, reps: 1, cells, incompleteAnchors: [],
    recommendations: recommend(cells, profiles, 5100), sidecars: [], trials: [], failedTrials: [], durationMs: 1000,
  };
  const d = defaultStrategy(cells, profiles, (x) => !selfContained(x));
  if (d) r.defaultStrategy = d;
  return r;
}

test('recommendation per profile and the run-node default (self-contained strategies only)', () => {
  const r = result();
  assert.deepEqual(r.recommendations.map((x) => [x.profile, x.strategy, x.meetsDeadline, x.bestAnchor]), [
    ['linux-default', 'vmac', true, 'heartbeat'],
    ['garp-filtered', 'vmac', true, 'heartbeat'],
  ]);
  assert.equal(r.defaultStrategy?.strategy, 'directed', 'vmac needs a macvlan: not a node default');
  assert.equal(r.defaultStrategy?.worstMedianMs, 4950);
  assert.ok(selfContained('directed') && !selfContained('vmac') && !selfContained('arping:A'));
  const text = renderRecommendations(r);
  assert.match(text, /garp-filtered: vmac — median 4\.70 s, 100 % within the bar; best anchor heartbeat 41\.0 s/);
  assert.match(text, /Default for run-node .*: directed/);
});

test('table and matrix text carry the numbers', () => {
  const r = result();
  const t = renderTable(r);
  assert.match(t, /heartbeat \(anchor\)/);
  assert.match(t, /38\.0 s/);
  const m = renderMatrix(r);
  assert.match(m, /directed\s+│ 4\.90 s\s+│ 4\.95 s/);
});

test('SVG chart: log ticks, one bar per measured cell, the deadline line, escaped labels', () => {
  assert.deepEqual(logTicks(4000), [100, 200, 500, 1000, 2000, 5000]);
  assert.deepEqual(logTicks(100), [100]);
  const svg = renderCompareSvg(result());
  assert.match(svg, /^<svg /);
  assert.equal((svg.match(/<rect x="\d+" y="[\d.]+" width="14"/g) ?? []).length, 8);
  assert.match(svg, /deadtime \+ 100 ms/);
  assert.match(svg, />50 s</);
  assert.ok(!svg.includes('NaN'));
  // log scale: 38 s is higher than 4.8 s by log10 ratio, not linearly
  const ys = [...svg.matchAll(/<rect x="\d+" y="([\d.]+)" width="14" height="([\d.]+)"/g)].map((m) => Number(m[2]));
  assert.ok(Math.max(...ys) / Math.min(...ys) < 3, 'heights are logarithmic');
});

test('summarizeClient: the outage the fault caused, fault → first reply', () => {
  const o = (p: Partial<Analysis['outages'][number]>) => ({ recovered: true, learnedBy: 'announcement', unicastProbesToOld: [1, 2, 3], broadcastRequests: [4], diagnosis: { cause: 'announcements-ignored' }, ...p });
  const a = { probesSent: 100, probesAnswered: 90, runEndTsMs: 200_000, outages: [o({ startTsMs: 500, lastOkTsMs: 490, endTsMs: 600 }), o({ startTsMs: 10_010, lastOkTsMs: 10_000, endTsMs: 48_000, macBefore: 'a', macAfter: 'b' })] } as unknown as Analysis;
  const s = summarizeClient(a, 10_005);
  assert.equal(s.outageMs, 37_995);
  assert.equal(s.unicastProbesToOld, 3);
  assert.equal(s.cause, 'announcements-ignored');
  const none = summarizeClient({ ...a, outages: [] } as unknown as Analysis, 10_005);
  assert.deepEqual([none.noOutage, none.outageMs], [true, 0]);
  const open = summarizeClient({ ...a, outages: [o({ startTsMs: 10_010, lastOkTsMs: 10_000, recovered: false })] } as unknown as Analysis, 10_000);
  assert.deepEqual([open.recovered, open.outageMs], [false, 190_000]);
});

test('client isolation on the bridge: each client port only gets ARP for itself or the VIP', async () => {
  const { isolationRuleset } = await import('../../src/effects/compare/trial.js');
  const lab = {
    vip: '198.18.0.20',
    bridgeNetns: 'hadiag-x-br',
    hosts: [
      { name: 'server1', role: 'server', bridgePort: 'hdxt1b', address: '198.18.0.11' },
      { name: 'client', role: 'client', bridgePort: 'hdxt3b', address: '198.18.0.5' },
      { name: 'client2', role: 'client', bridgePort: 'hdxt4b', address: '198.18.0.6' },
    ],
  } as unknown as Parameters<typeof isolationRuleset>[0];
  const rs = isolationRuleset(lab);
  assert.match(rs, /oifname "hdxt3b" ether type arp arp daddr ip != \{ 198\.18\.0\.5, 198\.18\.0\.20 \} counter drop/);
  assert.match(rs, /oifname "hdxt4b" .* != \{ 198\.18\.0\.6, 198\.18\.0\.20 \}/);
  assert.ok(!rs.includes('hdxt1b'), 'server ports are not filtered');
  assert.match(rs, /^table bridge hadiag_cmp\ndelete table bridge hadiag_cmp\n/);
});

test('matrix: NAME+announce rows and --strategy none', () => {
  const m = planMatrix({ strategies: ['none'], managers: ['keepalived', 'keepalived+announce', 'pacemaker+announce=directed:refresh=2s'], profiles: ['linux-default'] });
  assert.deepEqual(m.rows.map((r) => [r.kind, r.label, r.manager, r.spec]), [
    ['anchor', 'keepalived', 'keepalived', undefined],
    ['announce', 'keepalived+announce', 'keepalived', 'default'],
    ['announce', 'pacemaker+announce=directed:refresh=2s', 'pacemaker', 'directed:refresh=2s'],
  ]);
  assert.equal(m.reps, 3);
});

test('sidecar verdict: every profile within the same trials\' linux-default median + 100 ms', () => {
  const rows: Row[] = [
    { kind: 'anchor', label: 'keepalived', manager: 'keepalived' },
    { kind: 'announce', label: 'keepalived+announce', manager: 'keepalived', spec: 'default' },
    { kind: 'announce', label: 'pacemaker+announce', manager: 'pacemaker', spec: 'default' },
  ];
  const data: Record<string, number[]> = {
    'keepalived|linux-default': [2600, 3180, 3350],
    'keepalived|garp-filtered': [41_000, 42_000, 43_000],
    'keepalived+announce|linux-default': [2700, 3430, 3560],
    'keepalived+announce|garp-filtered': [2700, 3480, 3640],
    'pacemaker+announce|linux-default': [2000, 2000, 2000],
    'pacemaker+announce|garp-filtered': [2000, 2200, 2300],
  };
  const profiles = ['linux-default', 'garp-filtered'];
  const cells = rows.flatMap((r) => profiles.map((p) => cellStats(r, p, data[`${r.label}|${p}`]!.map((ms) => ok(ms)), 5100)));
  const [k, p] = sidecarVerdicts(cells, rows);
  assert.equal(k!.baselineRow, 'keepalived+announce', 'the stock client of the same failovers is the bar');
  assert.deepEqual([k!.baselineMedianMs, k!.aloneMedianMs], [3430, 3180]);
  assert.deepEqual(k!.profiles.map((x) => [x.profile, x.medianMs, x.limitMs, x.ok]), [['linux-default', 3430, 3530, true], ['garp-filtered', 3480, 3530, true]]);
  assert.ok(k!.ok);
  assert.equal(p!.aloneMedianMs, undefined, 'no pacemaker-alone row');
  assert.deepEqual(p!.profiles.map((x) => x.ok), [true, false], '2200 > 2000 + 100');
  assert.ok(!p!.ok);
});
