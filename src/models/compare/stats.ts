/** Statistics of outages per (row, profile), and the recommendation per profile. Pure. */
import type { ClientOutcome } from './client-result.js';
import type { Row } from './matrix.js';

export interface CellStats {
  row: string;
  kind: Row['kind'];
  profile: string;
  n: number;
  /** measurements that failed (no number) */
  errors: number;
  medianMs?: number;
  p95Ms?: number;
  maxMs?: number;
  /** share of trials recovered within deadtime + 100 ms (0–1) */
  withinShare?: number;
  /** trials where the VIP was still silent when measuring stopped (their outage is a lower bound) */
  unrecovered: number;
  outagesMs: number[];
  /** most common way the client learned the new MAC */
  learnedBy?: string;
  /** most common diagnosis */
  cause?: string;
}

import { median, percentile } from '../../core/stats.js';
export { median, percentile };

function mode(values: (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

export const isOutcome = (x: ClientOutcome | { error: string } | undefined): x is ClientOutcome => !!x && !('error' in x);

export function cellStats(row: Row, profile: string, results: (ClientOutcome | { error: string } | undefined)[], deadlineMs: number): CellStats {
  const ok = results.filter(isOutcome).filter((r) => r.outageMs !== undefined);
  const sorted = ok.map((r) => r.outageMs!).sort((a, b) => a - b);
  const s: CellStats = { row: row.label, kind: row.kind, profile, n: ok.length, errors: results.length - ok.length, unrecovered: ok.filter((r) => !r.recovered).length, outagesMs: sorted };
  if (sorted.length) {
    s.medianMs = median(sorted);
    s.p95Ms = percentile(sorted, 95);
    s.maxMs = sorted[sorted.length - 1];
    s.withinShare = ok.filter((r) => r.recovered && r.outageMs! <= deadlineMs).length / ok.length;
  }
  const lb = mode(ok.map((r) => r.learnedBy));
  if (lb) s.learnedBy = lb;
  const c = mode(ok.map((r) => r.cause));
  if (c) s.cause = c;
  return s;
}

export interface Recommendation {
  profile: string;
  /** the best strategy row for this profile (undefined when no strategy row was measured) */
  strategy?: string;
  medianMs?: number;
  withinShare?: number;
  /** the best anchor for comparison */
  bestAnchor?: string;
  bestAnchorMedianMs?: number;
  /** true when the best strategy's median is within deadtime + 100 ms */
  meetsDeadline: boolean;
}

/** Order: more trials within the deadline, then lower median, then lower max; rows without numbers last. */
export function better(a: CellStats, b: CellStats): number {
  const wa = a.withinShare ?? -1;
  const wb = b.withinShare ?? -1;
  if (wa !== wb) return wb - wa;
  const ma = a.medianMs ?? Infinity;
  const mb = b.medianMs ?? Infinity;
  if (ma !== mb) return ma - mb;
  return (a.maxMs ?? Infinity) - (b.maxMs ?? Infinity);
}

export function recommend(cells: CellStats[], profiles: string[], deadlineMs: number): Recommendation[] {
  return profiles.map((profile) => {
    const strat = cells.filter((c) => c.profile === profile && c.kind === 'strategy' && c.n > 0).sort(better);
    const anch = cells.filter((c) => c.profile === profile && c.kind === 'anchor' && c.n > 0).sort(better);
    const r: Recommendation = { profile, meetsDeadline: false };
    const best = strat[0];
    if (best) {
      r.strategy = best.row;
      if (best.medianMs !== undefined) r.medianMs = best.medianMs;
      if (best.withinShare !== undefined) r.withinShare = best.withinShare;
      r.meetsDeadline = best.medianMs !== undefined && best.medianMs <= deadlineMs;
    }
    if (anch[0]) {
      r.bestAnchor = anch[0].row;
      if (anch[0].medianMs !== undefined) r.bestAnchorMedianMs = anch[0].medianMs;
    }
    return r;
  });
}

/**
 * One default for every profile: the strategy row whose worst profile is best (share within the deadline,
 * then median), among rows that need no set-up beyond the node (`exclude`: e.g. vmac, external senders).
 */
export function defaultStrategy(cells: CellStats[], profiles: string[], exclude: (row: string) => boolean = () => false): { strategy: string; worstWithin: number; worstMedianMs: number } | undefined {
  const rows = [...new Set(cells.filter((c) => c.kind === 'strategy' && !exclude(c.row)).map((c) => c.row))];
  const scored = rows
    .map((row) => {
      const mine = profiles.map((p) => cells.find((c) => c.row === row && c.profile === p));
      if (mine.some((c) => !c || c.n === 0)) return undefined;
      return {
        strategy: row,
        worstWithin: Math.min(...mine.map((c) => c!.withinShare ?? 0)),
        worstMedianMs: Math.max(...mine.map((c) => c!.medianMs ?? Infinity)),
        sumMedian: mine.reduce((a, c) => a + (c!.medianMs ?? 0), 0),
      };
    })
    .filter((x): x is NonNullable<typeof x> => !!x)
    .sort((a, b) => b.worstWithin - a.worstWithin || a.worstMedianMs - b.worstMedianMs || a.sumMedian - b.sumMedian);
  const best = scored[0];
  return best ? { strategy: best.strategy, worstWithin: best.worstWithin, worstMedianMs: best.worstMedianMs } : undefined;
}

export interface SidecarVerdict {
  /** the announce row, e.g. keepalived+announce */
  row: string;
  manager: string;
  /** the row whose linux-default median is the bar: the announce row itself (same failovers), else the manager alone */
  baselineRow: string;
  baselineMedianMs?: number;
  /** the manager alone on linux-default in the same run, for reference (another sample of its detection time) */
  aloneMedianMs?: number;
  profiles: { profile: string; medianMs?: number; limitMs?: number; ok: boolean }[];
  ok: boolean;
}

/**
 * What the sidecar is for: with `hadiag announce` next to a manager, every client profile recovers as fast as
 * a stock client does with that manager — its median ≤ the `linux-default` median + 100 ms. The bar is the
 * stock client of the same trials (the same failovers: the manager's detection time, which varies by a
 * second or more between failovers, cancels out); the manager-alone row's stock median is reported beside it.
 */
export function sidecarVerdicts(cells: CellStats[], rows: Row[], baselineProfile = 'linux-default', slackMs = 100): SidecarVerdict[] {
  const cell = (row: string, profile: string) => cells.find((c) => c.row === row && c.profile === profile && c.n > 0);
  return rows
    .filter((r) => r.kind === 'announce')
    .map((r) => {
      const alone = rows.find((a) => a.kind === 'anchor' && a.manager === r.manager);
      const aloneBase = alone && cell(alone.label, baselineProfile);
      const base = cell(r.label, baselineProfile) ?? aloneBase;
      const limitMs = base?.medianMs !== undefined ? base.medianMs + slackMs : undefined;
      const profiles = [...new Set(cells.filter((c) => c.row === r.label).map((c) => c.profile))].map((profile) => {
        const c = cell(r.label, profile);
        return {
          profile,
          ...(c?.medianMs !== undefined ? { medianMs: c.medianMs } : {}),
          ...(limitMs !== undefined ? { limitMs } : {}),
          ok: c?.medianMs !== undefined && limitMs !== undefined && c.medianMs <= limitMs,
        };
      });
      return {
        row: r.label,
        manager: r.manager!,
        baselineRow: base?.row ?? r.label,
        ...(base?.medianMs !== undefined ? { baselineMedianMs: base.medianMs } : {}),
        ...(aloneBase?.medianMs !== undefined ? { aloneMedianMs: aloneBase.medianMs } : {}),
        profiles,
        ok: profiles.length > 0 && profiles.every((p) => p.ok),
      };
    });
}

export interface DefaultVerdict {
  /** the row of run-node's default strategy */
  strategy: string;
  worstWithin: number;
  worstMedianMs: number;
  profiles: { profile: string; n: number; medianMs?: number; ok: boolean }[];
  /** every profile's median ≤ deadtime + 100 ms */
  ok: boolean;
}

/** How run-node's own default did on every profile (family 6: the default is the node's, not this run's pick). */
export function defaultVerdict(cells: CellStats[], profiles: string[], row: string, deadlineMs: number): DefaultVerdict | undefined {
  const mine = profiles.map((profile) => ({ profile, c: cells.find((x) => x.row === row && x.profile === profile) }));
  if (mine.every((m) => !m.c)) return undefined;
  const per = mine.map(({ profile, c }) => ({
    profile,
    n: c?.n ?? 0,
    ...(c?.medianMs !== undefined ? { medianMs: c.medianMs } : {}),
    ok: c?.medianMs !== undefined && c.medianMs <= deadlineMs,
  }));
  return {
    strategy: row,
    worstWithin: Math.min(...mine.map((m) => m.c?.withinShare ?? 0)),
    worstMedianMs: Math.max(...per.map((p) => p.medianMs ?? Infinity)),
    profiles: per,
    ok: per.every((p) => p.ok),
  };
}

/** Anchor cells without a number or with a failed measurement: the comparison is incomplete there. */
export function incompleteAnchorCells(cells: CellStats[]): { row: string; profile: string; n: number; errors: number }[] {
  return cells.filter((c) => c.kind === 'anchor' && (c.n < 1 || c.errors > 0)).map((c) => ({ row: c.row, profile: c.profile, n: c.n, errors: c.errors }));
}
