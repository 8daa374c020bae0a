/** What compare-garp keeps of one client's measurement (pure; from measure-failover's Analysis). */
import type { Analysis } from '../measure/analyze.js';

export interface ClientOutcome {
  /** fault (or the first lost probe, if earlier) → first answered probe (ms); a lower bound when not recovered */
  outageMs?: number;
  recovered: boolean;
  /** no outage at all after the fault (the VIP kept answering) */
  noOutage?: boolean;
  learnedBy?: 'announcement' | 'own-resolution' | 'unknown';
  cause?: string;
  unicastProbesToOld: number;
  broadcastRequests: number;
  macBefore?: string;
  macAfter?: string;
  probesSent: number;
  probesAnswered: number;
}

/** The outage that the fault caused: the first one whose last answered probe is not after the fault. */
export function summarizeClient(a: Analysis, faultTsMs: number | undefined): ClientOutcome {
  const base = { probesSent: a.probesSent, probesAnswered: a.probesAnswered };
  const o = faultTsMs === undefined ? a.outages[0] : a.outages.find((x) => (x.endTsMs ?? Infinity) > faultTsMs && (x.lastOkTsMs ?? x.startTsMs) <= faultTsMs + 1000);
  if (!o) return { ...base, recovered: true, noOutage: true, outageMs: 0, unicastProbesToOld: 0, broadcastRequests: 0 };
  // the link went down at most one probe interval before the first lost probe; the fault's own stamp is
  // taken after `ip link set` returned, which can be late on a busy machine: the earlier of the two
  const from = Math.min(faultTsMs ?? Infinity, o.startTsMs);
  const out: ClientOutcome = {
    ...base,
    recovered: o.recovered,
    learnedBy: o.learnedBy,
    cause: o.diagnosis.cause,
    unicastProbesToOld: o.unicastProbesToOld.length,
    broadcastRequests: o.broadcastRequests.length,
  };
  if (o.recovered) out.outageMs = Math.max(0, o.endTsMs! - from);
  else if (a.runEndTsMs !== undefined) out.outageMs = Math.max(0, a.runEndTsMs - from);
  if (o.macBefore) out.macBefore = o.macBefore;
  if (o.macAfter) out.macAfter = o.macAfter;
  return out;
}
