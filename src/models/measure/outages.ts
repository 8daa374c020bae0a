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
  const tracker = new OutageTracker(rules);
  for (const p of probes) {
    const o = tracker.add(p);
    if (o) out.push(o);
  }
  const last = tracker.finish(runEndTsMs ?? tracker.lastTsMs);
  if (last) out.push(last);
  return out;
}

/**
 * The outage finder fed one probe at a time, in sequence order: its state is the last answered probe and the
 * current run of unanswered ones (its first probe, its length, and the few probes near its end that may still
 * be in flight when the run stops). An outage is returned when the answered probe that ends it arrives.
 */
export class OutageTracker {
  private lastOk: Probe | undefined;
  private first: Probe | undefined;
  private lost = 0;
  /** the run's newest probes, back to `inFlightMs` before the newest one (all the run's probes may be in flight at the end) */
  private tail: Probe[] = [];
  /** the newest probe dropped from `tail` */
  private beforeTail: Probe | undefined;
  /** where the last outage ended: the next one cannot begin before it (a late answer can arrive after the next probe went out) */
  private lastEndTsMs = -Infinity;
  /** the latest reply or send time seen */
  lastTsMs = -Infinity;

  constructor(private readonly rules: OutageRules) {}

  /** Add the next probe (its answer final); returns the outage it ended, if any. */
  add(p: Probe): ProbeOutage | undefined {
    const t = p.replyTsMs ?? p.sentTsMs;
    if (t !== undefined && t > this.lastTsMs) this.lastTsMs = t;
    if (p.replyTsMs === undefined) {
      this.addLost(p);
      return undefined;
    }
    const o = this.lost > 0 ? this.outageOf(this.first!, this.lost, this.lastLost()!, p) : undefined;
    if (o?.endTsMs !== undefined) this.lastEndTsMs = o.endTsMs;
    this.resetRun();
    this.lastOk = p;
    return o;
  }

  /** The run of unanswered probes at the end, if it is an outage (probes sent within inFlightMs of `runEndTsMs` left out). */
  finish(runEndTsMs: number): ProbeOutage | undefined {
    if (this.lost === 0) return undefined;
    const cutoff = runEndTsMs - this.rules.inFlightMs;
    const settled = (q: Probe) => q.sentTsMs === undefined || q.sentTsMs <= cutoff;
    let inFlight = 0;
    let lastSettled = this.beforeTail;
    for (const q of this.tail) {
      if (settled(q)) lastSettled = q;
      else inFlight++;
    }
    const lost = this.lost - inFlight;
    if (lost <= 0) return undefined;
    const first = settled(this.first!) ? this.first! : undefined;
    return first && lastSettled ? this.outageOf(first, lost, lastSettled, undefined) : undefined;
  }

  /** The open run when it already counts as an outage: the time its window starts (the last answer before it). */
  get openOutageFromTsMs(): number | undefined {
    if (this.lost === 0 || !this.qualifies(this.lost, this.first!, this.lastLost()!.sentTsMs)) return undefined;
    return this.lastOk?.replyTsMs ?? this.first!.sentTsMs;
  }

  /** unanswered probes in the open run */
  get openLost(): number {
    return this.lost;
  }

  private addLost(p: Probe): void {
    if (this.lost === 0) this.first = p;
    this.lost++;
    this.tail.push(p);
    const newest = p.sentTsMs;
    if (newest === undefined) return;
    while (this.tail.length > 1 && this.tail[0]!.sentTsMs !== undefined && this.tail[0]!.sentTsMs < newest - this.rules.inFlightMs) this.beforeTail = this.tail.shift();
  }

  private lastLost(): Probe | undefined {
    return this.tail[this.tail.length - 1] ?? this.beforeTail;
  }

  private resetRun(): void {
    this.first = undefined;
    this.lost = 0;
    this.tail = [];
    this.beforeTail = undefined;
  }

  /** send time of the run's first probe, not before the previous outage's end */
  private startOf(first: Probe): number {
    const sent = first.sentTsMs ?? this.lastOk?.replyTsMs ?? NaN;
    return sent < this.lastEndTsMs ? this.lastEndTsMs : sent;
  }

  private qualifies(lost: number, first: Probe, spanEnd: number | undefined): boolean {
    const startTsMs = this.startOf(first);
    return lost >= this.rules.minLost || (spanEnd ?? startTsMs) - startTsMs >= this.rules.minDurationMs;
  }

  private outageOf(first: Probe, lost: number, lastLost: Probe, next: Probe | undefined): ProbeOutage | undefined {
    const startTsMs = this.startOf(first);
    const o: ProbeOutage = { firstLostSeq: first.seq, startTsMs, lostProbes: lost };
    if (this.lastOk) {
      o.lastOkTsMs = this.lastOk.replyTsMs;
      o.lastOkSeq = this.lastOk.seq;
    }
    if (next) {
      o.endTsMs = next.replyTsMs;
      o.firstOkSeq = next.seq;
    }
    return this.qualifies(lost, first, o.endTsMs ?? lastLost.sentTsMs) ? o : undefined;
  }
}
