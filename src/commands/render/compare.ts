/** compare-garp's human output: the results table (cli-table3) and the recommendations. Pure. */
import Table from 'cli-table3';
import type { CompareResult } from '../../effects/compare/run.js';
import type { CellStats } from '../../models/compare/stats.js';

export const secs = (ms: number | undefined): string => (ms === undefined ? '–' : ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`);
const pct = (x: number | undefined): string => (x === undefined ? '–' : `${Math.round(x * 100)} %`);

/** the row as the tables name it */
export function rowLabel(row: { kind: string; label: string }, def?: string): string {
  if (row.label === def && row.kind === 'strategy') return `${row.label} (run-node default)`;
  return row.kind === 'anchor' ? `${row.label} (anchor)` : row.kind === 'announce' ? `${row.label} (+ hadiag announce)` : row.label;
}

function cellText(c: CellStats): string {
  if (!c.n) return c.errors ? `error ×${c.errors}` : '–';
  const lower = c.unrecovered ? ` (${c.unrecovered} ≥)` : '';
  return `${secs(c.medianMs)}${lower}`;
}

/** One line per (row, profile): median, p95, max, share within deadline, how the client learned. */
export function renderTable(r: CompareResult): string {
  const t = new Table({
    head: ['row', 'profile', 'n', 'median', 'p95', 'max', `≤ ${secs(r.deadlineMs)}`, 'client learned by'],
    style: { head: [], border: [] },
  });
  for (const row of r.rows) {
    for (const profile of r.profiles) {
      const c = r.cells.find((x) => x.row === row.label && x.profile === profile)!;
      t.push([rowLabel(row), profile, String(c.n) + (c.errors ? ` (+${c.errors} err)` : ''), cellText(c), secs(c.p95Ms), secs(c.maxMs), pct(c.withinShare), c.learnedBy ?? '–']);
    }
  }
  return t.toString();
}

/** Rows × profiles, medians only: the compact view. */
export function renderMatrix(r: CompareResult): string {
  const t = new Table({ head: ['median outage', ...r.profiles], style: { head: [], border: [] } });
  for (const row of r.rows) {
    t.push([rowLabel(row, r.family === 6 ? r.defaultStrategy?.strategy : undefined), ...r.profiles.map((p) => cellText(r.cells.find((x) => x.row === row.label && x.profile === p)!))]);
  }
  return t.toString();
}

export function renderRecommendations(r: CompareResult): string {
  const lines = [`Recommendation per client profile (bar: deadtime ${secs(r.deadtimeMs)} + 100 ms = ${secs(r.deadlineMs)}):`];
  for (const rec of r.recommendations) {
    if (!rec.strategy) {
      lines.push(`  ${rec.profile}: no strategy row measured`);
      continue;
    }
    const anchor = rec.bestAnchor ? `; best anchor ${rec.bestAnchor} ${secs(rec.bestAnchorMedianMs)}` : '';
    lines.push(`  ${rec.profile}: ${rec.strategy} — median ${secs(rec.medianMs)}, ${Math.round((rec.withinShare ?? 0) * 100)} % within the bar${rec.meetsDeadline ? '' : ' (MISSES the bar)'}${anchor}`);
  }
  const d = r.defaultStrategy;
  if (d && 'profiles' in d) {
    const per = d.profiles.map((p) => `${p.profile} ${secs(p.medianMs)}${p.ok ? '' : ' MISSES'}`).join(', ');
    lines.push(`run-node's IPv${r.family} default ${d.strategy}: ${per} — ${d.ok ? 'every profile within the bar' : 'NOT within the bar on every profile'}`);
    if (r.bestSelfContained) lines.push(`Best self-contained strategy in this run: ${r.bestSelfContained.strategy} — worst profile median ${secs(r.bestSelfContained.worstMedianMs)}`);
  } else if (r.family === 6) {
    lines.push("run-node's IPv6 default was not among the rows: add --strategy default to measure it");
    if (r.bestSelfContained) lines.push(`Best self-contained strategy in this run: ${r.bestSelfContained.strategy} — worst profile median ${secs(r.bestSelfContained.worstMedianMs)}`);
  } else if (d) {
    lines.push(`Default for run-node (needs nothing but the node): ${d.strategy} — worst profile median ${secs(d.worstMedianMs)}, ${Math.round(d.worstWithin * 100)} % within the bar on every profile`);
  }
  return lines.join('\n');
}

/** Each NAME+announce row against its bar: the manager's linux-default median + 100 ms. */
export function renderSidecars(r: CompareResult): string {
  const lines = ['hadiag announce next to each manager (bar: the stock client\'s median in the same failovers + 100 ms):'];
  for (const v of r.sidecars) {
    const per = v.profiles.map((p) => `${p.profile} ${secs(p.medianMs)}${p.ok ? '' : ' MISSES'}`).join(', ');
    const alone = v.aloneMedianMs !== undefined ? `; ${v.manager} alone, stock client: ${secs(v.aloneMedianMs)}` : '';
    lines.push(`  ${v.row}: ${per} — bar ${secs(v.baselineMedianMs === undefined ? undefined : v.baselineMedianMs + 100)} (${v.baselineRow} on linux-default${alone})${v.ok ? '' : ' — NOT MET'}`);
  }
  return lines.join('\n');
}
