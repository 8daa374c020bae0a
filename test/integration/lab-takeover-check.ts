/** The body of the takeover tests (not a test file itself). */
import assert from 'node:assert/strict';
import { runDemo } from '../../src/effects/lab/demo.js';
import { listNetns } from '../../src/effects/io/netns.js';

/**
 * `fixed`: the manager's default announcements reach a GARP-filtering client too (hadiag's `directed`), so both
 * clients must recover within the takeover bound; otherwise the filtering client must stay out clearly longer.
 */
export async function checkTakeover(c: { manager: string; timers: string; retransMs: number; maxTakeoverMs: number; fixed?: boolean }): Promise<void> {
  const neigh = { base_reachable_time_ms: 2000, delay_first_probe_time: 1, retrans_time_ms: c.retransMs };
  const r = await runDemo({ manager: c.manager, timers: c.timers, neigh, settleMs: 2000, maxWaitMs: 60_000 });
  const by = Object.fromEntries(r.rows.map((x) => [x.profile, x]));
  const filtered = by['garp-filtered']!;
  const dflt = by['linux-default']!;
  process.stderr.write(`# ${c.manager}: linux-default ${dflt.outageMs.toFixed(0)} ms, garp-filtered ${filtered.outageMs.toFixed(0)} ms\n`);
  assert.ok(dflt.recovered && filtered.recovered, 'both clients get replies again');
  assert.ok(dflt.outageMs >= 100 && dflt.outageMs < c.maxTakeoverMs, `default client outage ${dflt.outageMs} ms`);
  if (c.fixed) assert.ok(filtered.outageMs >= 100 && filtered.outageMs < c.maxTakeoverMs, `filtered client outage ${filtered.outageMs} ms`);
  else assert.ok(filtered.outageMs > dflt.outageMs + 1500, `filtered ${filtered.outageMs} ms vs default ${dflt.outageMs} ms`);
  const left = await listNetns();
  for (const row of r.rows) assert.ok(!left.some((n) => n.startsWith(`hadiag-${row.lab}-`)), `lab ${row.lab} torn down`);
}
