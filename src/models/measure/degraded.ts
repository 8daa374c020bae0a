/**
 * Loss handled as loss. Runs of unanswered probes that lie close together (each within `joinMs` of the
 * previous one's end) form a cluster; a cluster with several scattered runs is a degraded period — one
 * finding with its window and loss rate — and inside it a run is an outage only when the loss rate cannot
 * explain it: longer than the longest run random loss at that rate would give among the cluster's probes (a
 * chance below `alpha`), and at least `minOutageMs` long. A cluster with fewer scattered runs keeps the plain
 * outage rules of outages.ts. Fed one probe at a time (sequence order, answer final), like OutageTracker;
 * outages come out when their cluster closes, so they stay disjoint and sorted.
 */
import type { Probe } from './events.js';
import { OutageTracker, type OutageRules, type ProbeOutage } from './outages.js';

/** A stretch of scattered loss: one finding, not outages. */
export interface DegradedPeriod {
  /** send time of the first unanswered probe of the period */
  fromTsMs: number;
  /** reply time of the answered probe after its last unanswered one (or that probe's send time at the end of a run) */
  toTsMs: number;
  firstSeq: number;
  lastSeq: number;
  /** probes sent from the first unanswered one to the last (outages' probes included) */
  probes: number;
  /** unanswered probes outside outages */
  lost: number;
  /** lost / (probes − the outages' lost probes) */
  lossRate: number;
  /** runs of unanswered probes outside outages */
  lossRuns: number;
  /** the longest of those runs (probes) */
  longestRun: number;
  /** the outages inside the period (their `firstLostSeq`) */
  outageSeqs: number[];
}

export interface LossRules {
  /** a run of loss joins the cluster when it begins within this long of the previous run's end (ms) */
  joinMs: number;
  /** a degraded period needs at least this many runs of loss outside outages… */
  minRuns: number;
  /** …and this many unanswered probes outside outages */
  minLost: number;
  /** a cluster is closed (and judged) once it spans this long, so a days-long lossy link stays bounded */
  maxSpanMs: number;
  /** inside a degraded period an outage lasts at least this long (ms) */
  minOutageMs: number;
  /** the chance of random loss making a run as long, below which a run is an outage */
  alpha: number;
}

export const defaultLossRules: LossRules = { joinMs: 1000, minRuns: 3, minLost: 5, maxSpanMs: 60_000, minOutageMs: 200, alpha: 0.01 };

/** One run of unanswered probes as the inner tracker reported it, with its last lost probe's send time. */
interface Run extends ProbeOutage {
  lastLostTsMs: number;
}

export interface LossJudgement {
  outages: ProbeOutage[];
  degraded: DegradedPeriod[];
}

/**
 * The shortest run (probes) that random loss at rate `p` makes among `n` probes with a chance below `alpha`:
 * about n·(1−p)·p^k runs of length ≥ k start among n probes.
 */
export function longestRandomRun(p: number, n: number, alpha: number): number {
  if (p <= 0) return 1;
  if (p >= 1) return Infinity;
  const k = Math.log(alpha / Math.max(1, n * (1 - p))) / Math.log(p);
  return Math.max(1, Math.ceil(k));
}

/** Judge one closed cluster of runs: which are outages, and the degraded period if the rest is scattered loss. */
export function judgeCluster(runs: readonly Run[], plain: OutageRules, rules: LossRules): LossJudgement {
  const dur = (r: Run) => (r.endTsMs ?? r.lastLostTsMs) - r.startTsMs;
  const qualifies = (r: Run) => r.lostProbes >= plain.minLost || dur(r) >= plain.minDurationMs;
  const plainOutages = { outages: runs.filter(qualifies).map(strip), degraded: [] };
  if (runs.length < rules.minRuns) return plainOutages;
  const first = runs[0]!;
  const last = runs[runs.length - 1]!;
  const n = (last.firstOkSeq ?? last.firstLostSeq + last.lostProbes) - first.firstLostSeq;
  const lostAll = runs.reduce((a, r) => a + r.lostProbes, 0);
  // start from every run long enough to be an outage, then drop those the remaining loss rate explains
  let out = new Set(runs.filter((r) => qualifies(r) && dur(r) >= rules.minOutageMs));
  for (let i = 0; i < 8; i++) {
    const lostOut = [...out].reduce((a, r) => a + r.lostProbes, 0);
    const p = (lostAll - lostOut) / Math.max(1, n - lostOut);
    const k = longestRandomRun(p, n - lostOut, rules.alpha);
    const next = new Set(runs.filter((r) => qualifies(r) && r.lostProbes >= k && dur(r) >= rules.minOutageMs));
    const same = next.size === out.size && [...next].every((r) => out.has(r));
    out = next;
    if (same) break;
  }
  const scattered = runs.filter((r) => !out.has(r));
  const lost = scattered.reduce((a, r) => a + r.lostProbes, 0);
  if (scattered.length < rules.minRuns || lost < rules.minLost) return plainOutages;
  const lostOut = lostAll - lost;
  const period: DegradedPeriod = {
    fromTsMs: first.startTsMs,
    toTsMs: last.endTsMs ?? last.lastLostTsMs,
    firstSeq: first.firstLostSeq,
    lastSeq: last.firstLostSeq + last.lostProbes - 1,
    probes: n,
    lost,
    lossRate: lost / Math.max(1, n - lostOut),
    lossRuns: scattered.length,
    longestRun: Math.max(...scattered.map((r) => r.lostProbes)),
    outageSeqs: runs.filter((r) => out.has(r)).map((r) => r.firstLostSeq),
  };
  return { outages: runs.filter((r) => out.has(r)).map(strip), degraded: [period] };
}

function strip(r: Run): ProbeOutage {
  const { lastLostTsMs: _, ...o } = r;
  return o;
}

/**
 * The loss-aware outage finder: an OutageTracker that reports every run of unanswered probes (one or more),
 * runs grouped into clusters, each cluster judged when it closes (`judgeCluster`).
 */
export class LossFilter {
  private readonly inner: OutageTracker;
  private cluster: Run[] = [];
  private lastLostTsMs: number | undefined;
  private readonly interval: number;

  constructor(
    private readonly plain: OutageRules,
    intervalMs: number,
    private readonly rules: LossRules = defaultLossRules,
  ) {
    this.inner = new OutageTracker({ ...plain, minLost: 1, minDurationMs: 0 });
    this.interval = intervalMs;
  }

  /** Add the next probe; returns what a cluster that closed on it holds (outages and degraded periods). */
  add(p: Probe): LossJudgement | undefined {
    let closed: LossJudgement | undefined;
    const t = p.replyTsMs ?? p.sentTsMs;
    // only between runs: an answer that ends a run belongs with it
    const between = this.inner.openLost === 0;
    if (this.cluster.length && t !== undefined && between && this.tooFar(t)) closed = this.close();
    if (p.replyTsMs === undefined && p.sentTsMs !== undefined) this.lastLostTsMs = p.sentTsMs;
    const run = this.inner.add(p);
    if (run) this.cluster.push({ ...run, lastLostTsMs: this.lastLostTsMs ?? run.startTsMs });
    return closed;
  }

  /** The end of the run: the open run (in-flight probes left out) joins its cluster, and every cluster is judged. */
  finish(runEndTsMs: number): LossJudgement {
    const tail = this.inner.finish(runEndTsMs);
    if (tail) {
      const lastLost = Math.min(this.lastLostTsMs ?? tail.startTsMs, tail.startTsMs + (tail.lostProbes - 1) * this.interval);
      if (this.cluster.length && this.tooFar(tail.startTsMs)) {
        const a = this.close();
        this.cluster.push({ ...tail, lastLostTsMs: lastLost });
        const b = this.close();
        return { outages: [...a.outages, ...b.outages], degraded: [...a.degraded, ...b.degraded] };
      }
      this.cluster.push({ ...tail, lastLostTsMs: lastLost });
    }
    return this.close();
  }

  /** a cluster of runs is waiting to be judged */
  get clusterOpen(): boolean {
    return this.cluster.length > 0;
  }

  /** unanswered probes in the open run */
  get openLost(): number {
    return this.inner.openLost;
  }

  /** The open run's window start (its last answer) once it has as many probes as a plain outage needs. */
  get openRunFromTsMs(): number | undefined {
    return this.inner.openLost >= this.plain.minLost ? this.inner.openOutageFromTsMs : undefined;
  }

  /** Where the earliest outage still to come can begin its window (the last answer before it), if anything is open. */
  get openFromTsMs(): number | undefined {
    const c = this.cluster[0];
    if (c) return c.lastOkTsMs ?? c.startTsMs;
    return this.inner.openOutageFromTsMs;
  }

  private tooFar(t: number): boolean {
    const first = this.cluster[0]!;
    const last = this.cluster[this.cluster.length - 1]!;
    const lastEnd = last.endTsMs ?? last.lastLostTsMs;
    return t - lastEnd > this.rules.joinMs || t - first.startTsMs > this.rules.maxSpanMs;
  }

  private close(): LossJudgement {
    const runs = this.cluster;
    this.cluster = [];
    return runs.length ? judgeCluster(runs, this.plain, this.rules) : { outages: [], degraded: [] };
  }
}

/** Outages and degraded periods of a whole run of probes sorted by sequence. */
export function judgeLoss(probes: readonly Probe[], plain: OutageRules, intervalMs: number, runEndTsMs: number, rules: LossRules = defaultLossRules): LossJudgement {
  const f = new LossFilter(plain, intervalMs, rules);
  const all: LossJudgement = { outages: [], degraded: [] };
  const take = (j: LossJudgement | undefined) => {
    if (!j) return;
    all.outages.push(...j.outages);
    all.degraded.push(...j.degraded);
  };
  for (const p of probes) take(f.add(p));
  take(f.finish(runEndTsMs));
  return all;
}
