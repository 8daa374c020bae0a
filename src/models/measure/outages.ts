import type { Probe } from './events.js';

/** A run of unanswered probes between answered ones: the VIP was unreachable from this host. */
export interface ProbeOutage {
  firstLostSeq: number;
  /** send time of the first unanswered probe (the outage began between the last answered probe and this) */
  startTsMs: number;
  /** reply time of the last answered probe before the gap (undefined when the run began unanswered) */
  lastOkTsMs?: number;
  lastOkSeq?: number;
  /** reply time of the first answered probe after the gap (undefined: never recovered while measuring) */
  endTsMs?: number;
  firstOkSeq?: number;
  lostProbes: number;
}

export interface OutageRules {
  /** an outage needs at least this many consecutive unanswered probes… */
  minLost: number;
  /** …or to last at least this long (ms) */
  minDurationMs: number;
  /** unanswered probes sent this close to the end of the run may still be in flight and are not counted */
  inFlightMs: number;
}

export const defaultRules = (intervalMs: number): OutageRules => ({
  minLost: 3,
  minDurationMs: Math.max(50, 3 * intervalMs),
  inFlightMs: 1000,
});

/**
 * Find outages in probes sorted by sequence. Duration = reply time of the first answered probe after the gap
 * − send time of the first unanswered probe: it misses at most one probe interval at the start.
 */
export function findOutages(probes: Probe[], rules: OutageRules, runEndTsMs?: number): ProbeOutage[] {
  const out: ProbeOutage[] = [];
  const end = runEndTsMs ?? Math.max(...probes.map((p) => p.replyTsMs ?? p.sentTsMs ?? -Infinity));
  let lastOk: Probe | undefined;
  let run: Probe[] = [];
  const flush = (next: Probe | undefined) => {
    if (run.length === 0) return;
    let lost = run;
    if (!next) lost = run.filter((p) => p.sentTsMs === undefined || p.sentTsMs <= end - rules.inFlightMs);
    if (lost.length === 0) {
      run = [];
      return;
    }
    const first = lost[0]!;
    const startTsMs = first.sentTsMs ?? (lastOk?.replyTsMs ?? NaN);
    const o: ProbeOutage = { firstLostSeq: first.seq, startTsMs, lostProbes: lost.length };
    if (lastOk) {
      o.lastOkTsMs = lastOk.replyTsMs;
      o.lastOkSeq = lastOk.seq;
    }
    if (next) {
      o.endTsMs = next.replyTsMs;
      o.firstOkSeq = next.seq;
    }
    const spanEnd = o.endTsMs ?? lost[lost.length - 1]!.sentTsMs ?? startTsMs;
    if (lost.length >= rules.minLost || spanEnd - startTsMs >= rules.minDurationMs) out.push(o);
    run = [];
  };
  for (const p of probes) {
    if (p.replyTsMs !== undefined) {
      flush(p);
      lastOk = p;
    } else {
      run.push(p);
    }
  }
  flush(undefined);
  return out;
}
