/** compare-garp's run: every trial of the matrix (a few labs at a time), then statistics and recommendations. */
import { performance } from 'node:perf_hooks';
import { requireRoot } from '../../core/errors.js';
import { parseTimers } from '../lab/timers.js';
import type { NeighOverrides } from '../../models/lab/profiles.js';
import { planMatrix, etaMs, type Matrix, type MatrixOptions, type Row } from '../../models/compare/matrix.js';
import { runTrial, type TrialResult } from './trial.js';
import { cellStats, defaultStrategy, defaultVerdict, incompleteAnchorCells, recommend, sidecarVerdicts, type CellStats, type DefaultVerdict, type Recommendation, type SidecarVerdict } from '../../models/compare/stats.js';
import type { Family } from '../../models/strategy/spec-language.js';
import { isExternal, usesVmac } from '../../models/strategy/forms.js';
import { parseStrategy } from '../../models/strategy/language.js';

export interface CompareOptions extends MatrixOptions {
  timers?: string;
  neigh?: NeighOverrides;
  /** labs at once (default 3) */
  concurrency?: number;
  maxWaitMs?: number;
  settleMs?: number;
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  done: number;
  total: number;
  running: { index: number; row: string; text: string }[];
  etaMs?: number;
}

export interface CompareResult {
  /** the VIP's family */
  family: Family;
  timers: string;
  keepaliveMs: number;
  deadtimeMs: number;
  /** deadtime + 100 ms: the bar a strategy must meet */
  deadlineMs: number;
  profiles: string[];
  rows: Row[];
  reps: number;
  cells: CellStats[];
  recommendations: Recommendation[];
  /** announce rows: does the sidecar make every profile as fast as a stock client with that manager? */
  sidecars: SidecarVerdict[];
  /** the run-node default this evidence supports (no set-up beyond the node: not vmac, not external) */
  defaultStrategy?: { strategy: string; worstWithin: number; worstMedianMs: number } | DefaultVerdict;
  /** family 6: the self-contained strategy this run's evidence would pick (defaultStrategy is run-node's own default) */
  bestSelfContained?: { strategy: string; worstWithin: number; worstMedianMs: number };
  /** anchor cells with no number or a failed measurement */
  incompleteAnchors: { row: string; profile: string; n: number; errors: number }[];
  trials: TrialResult[];
  failedTrials: { row: string; rep: number; error: string }[];
  durationMs: number;
}

/** A strategy row run-node can use with no set-up of its own (no macvlan, no external program). */
export function selfContained(spec: string): boolean {
  try {
    const s = parseStrategy(spec);
    return !usesVmac(s) && !isExternal(s);
  } catch {
    return false;
  }
}

export async function runCompare(o: CompareOptions): Promise<CompareResult> {
  requireRoot('hadiag compare-garp');
  const t0 = performance.now();
  const m: Matrix = planMatrix(o);
  const timers = parseTimers(o.timers ?? 'classic');
  const deadlineMs = timers.deadtimeMs + 100;
  const concurrency = Math.max(1, o.concurrency ?? 3);
  const results: { row: Row; rep: number; res: TrialResult }[] = [];
  const failed: CompareResult['failedTrials'] = [];
  const durations: number[] = [];
  const running = new Map<number, { index: number; row: string; text: string }>();
  let next = 0;
  const report = () =>
    o.onProgress?.({ done: results.length + failed.length, total: m.trials.length, running: [...running.values()], etaMs: etaMs(durations, m.trials.length - results.length - failed.length, concurrency) });
  const worker = async () => {
    while (next < m.trials.length) {
      const index = next++;
      const t = m.trials[index]!;
      running.set(index, { index: index + 1, row: t.row.label, text: 'starting' });
      report();
      const started = performance.now();
      try {
        const res = await runTrial({
          row: t.row,
          family: m.family,
          profiles: m.profiles,
          timers: o.timers ?? 'classic',
          ...(o.neigh ? { neigh: o.neigh } : {}),
          ...(o.maxWaitMs ? { maxWaitMs: o.maxWaitMs } : {}),
          ...(o.settleMs ? { settleMs: o.settleMs } : {}),
          onProgress: (text) => {
            running.set(index, { index: index + 1, row: t.row.label, text });
            report();
          },
        });
        results.push({ row: t.row, rep: t.rep, res });
      } catch (err) {
        failed.push({ row: t.row.label, rep: t.rep, error: (err as Error).message });
      } finally {
        durations.push(performance.now() - started);
        running.delete(index);
        report();
      }
      // let the previous lab's processes go before the next build (2 cores)
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, m.trials.length) }, (_, i) => new Promise((r) => setTimeout(r, i * 1500)).then(worker)));

  const cells: CellStats[] = [];
  for (const row of m.rows) {
    for (const profile of m.profiles) {
      const outcomes = results.filter((r) => r.row === row).map((r) => r.res.clients[profile]);
      cells.push(cellStats(row, profile, outcomes, deadlineMs));
    }
  }
  const out: CompareResult = {
    family: m.family,
    timers: timers.text,
    keepaliveMs: timers.keepaliveMs,
    deadtimeMs: timers.deadtimeMs,
    deadlineMs,
    profiles: m.profiles,
    rows: m.rows,
    reps: m.reps,
    cells,
    recommendations: m.rows.some((r) => r.kind === 'strategy') ? recommend(cells, m.profiles, deadlineMs) : [],
    sidecars: sidecarVerdicts(cells, m.rows),
    incompleteAnchors: incompleteAnchorCells(cells),
    trials: results.map((r) => r.res),
    failedTrials: failed,
    durationMs: performance.now() - t0,
  };
  const def = defaultStrategy(cells, m.profiles, (row) => !selfContained(row));
  if (m.family === 6) {
    // the default is run-node's own (measured as its row when the matrix has it); the evidence's pick beside it
    const nodeDefault = m.defaultSpec ? defaultVerdict(cells, m.profiles, m.defaultSpec, deadlineMs) : undefined;
    if (nodeDefault) out.defaultStrategy = nodeDefault;
    if (def) out.bestSelfContained = def;
  } else if (def) out.defaultStrategy = def;
  return out;
}
