/**
 * measure-failover's analysis as a stream: wire events (and neighbour events) go in one at a time, in capture
 * order; each outage's report comes out once it has ended and its announcement tail has passed. State is
 * bounded by what is open: the probes waiting for replies (echo-matcher.ts), the outage tracker's current
 * run (outages.ts), the outages waiting for their tail, and a window of recent events (RETAIN_MS, reaching back
 * to the start of an outage that is still open) that each report is judged on. `analyze()` (analyze.ts) is the
 * same judgement over a whole run held in memory.
 */
import type { NeighEvent, Probe, WireEvent } from './events.js';
import { defaultRules, type OutageRules, type ProbeOutage } from './outages.js';
import { ANNOUNCEMENT_TAIL_MS, degradedOf, echoRepliesFrom, reportOutage, summarize, type RunView } from './analyze.js';
import type { ClusterTimers } from './takeover.js';
import { LossFilter, type DegradedPeriod, type LossJudgement } from './degraded.js';
import { ProbeMatcher } from './echo-matcher.js';
import { findVipConflicts, type VipConflict } from './conflicts.js';
import type { Analysis, AnalysisInput, OutageReport } from './report.js';

/** events kept behind the newest one when no outage needs older ones */
export const RETAIN_MS = 30_000;
/** how far before an outage cluster traffic is looked at (see reportOutage) plus slack */
const LEAD_MS = 15_000;
/** gaps between requests needed before the probe interval (and the outage rules that depend on it) is fixed */
const GAPS_FOR_INTERVAL = 32;
/** events around an outage kept for --svg / --json (per side) */
export const NEAR_MS = 2000;

export interface StreamOptions {
  vip: string;
  /** the probe interval when the capture does not show it */
  intervalMs: number;
  iface?: string;
  expectMs?: number;
  rules?: Partial<OutageRules>;
  acceptWindowMs?: number;
  client?: { ip?: string; mac?: string };
  sysctls?: Record<string, number>;
  /** the cluster's configured timers (--hacf) */
  timers?: ClusterTimers;
  /** keep the events near each outage (at most this many outages) for a picture or the JSON's events */
  keepNear?: number;
  onOutage?: (report: OutageReport) => void;
}

/** Events near the outages (for --svg and the JSON's `events`). */
export interface NearEvents {
  probes: Probe[];
  wire: WireEvent[];
  neigh: NeighEvent[];
}

export class MeasureStream {
  private readonly probes: ProbeMatcher;
  private tracker: LossFilter | undefined;
  private readonly degraded: DegradedPeriod[] = [];
  private readonly held: Probe[] = [];
  private readonly win = new Window<WireEvent>();
  private readonly recent = new Window<Probe>();
  private readonly neigh = new Window<NeighEvent>();
  private readonly pending: ProbeOutage[] = [];
  private readonly reports: OutageReport[] = [];
  private readonly conflicts: VipConflict[] = [];
  private readonly near: NearEvents = { probes: [], wire: [], neigh: [] };
  private nearUntil = -Infinity;
  private conflictsUntil = -Infinity;
  private conflictsScanned = -Infinity;
  private firstTs = Infinity;
  private lastTs = -Infinity;
  private horizon = -Infinity;
  private sent = 0;
  private answered = 0;
  private wireCount = 0;
  private neighCount = 0;
  private nextTrim = -Infinity;
  private arpClient: { ip: string; mac: string } | undefined;

  constructor(private readonly opts: StreamOptions) {
    this.probes = new ProbeMatcher(opts.vip);
  }

  addWire(e: WireEvent): void {
    this.wireCount++;
    if (e.tsMs < this.firstTs) this.firstTs = e.tsMs;
    if (e.tsMs > this.lastTs) this.lastTs = e.tsMs;
    if (!this.arpClient && e.kind === 'arp' && e.op === 'request' && e.targetIp === this.opts.vip && e.senderIp !== this.opts.vip && e.senderIp !== '0.0.0.0') this.arpClient = { ip: e.senderIp, mac: e.senderMac };
    this.win.push(e, e.tsMs);
    for (const p of this.probes.add(e)) this.onProbe(p);
    this.reportReady(false);
    if (e.tsMs >= this.nextTrim) this.trim();
  }

  addNeigh(n: NeighEvent): void {
    this.neighCount++;
    if (n.ip === this.opts.vip) this.neigh.push(n, n.tsMs);
  }

  /** outages reported so far */
  get outages(): readonly OutageReport[] {
    return this.reports;
  }

  get probeCount(): number {
    return this.sent + this.held.length;
  }

  /** The end of the run: the open outage (if it counts) and the waiting ones are reported; the run's verdict. */
  finish(runEndTsMs?: number): Analysis {
    for (const p of this.probes.finish()) this.onProbe(p);
    this.startTracker();
    const end = runEndTsMs ?? this.lastTs;
    this.take(this.tracker!.finish(end));
    this.horizon = Infinity;
    this.reportReady(true, end);
    this.scanConflicts(Infinity);
    const analysis = summarize(this.input(), this.client(), { sent: this.sent, answered: this.answered }, this.reports, this.conflicts, this.degraded);
    const others = this.probes.otherStreams();
    if (others.length) analysis.otherEchoStreams = others;
    return analysis;
  }

  /** The start of the earliest outage still open or not yet reported (its last answer), if any. */
  get unreportedFromTsMs(): number | undefined {
    const waiting = this.pending[0];
    if (waiting) return waiting.lastOkTsMs ?? waiting.startTsMs;
    return this.tracker?.openFromTsMs;
  }

  nearEvents(): NearEvents {
    return this.near;
  }

  get intervalMs(): number {
    return this.probes.intervalMs || this.opts.intervalMs;
  }

  private client(): { ip?: string; mac?: string } {
    return { ...(this.probes.client ?? this.arpClient ?? {}), ...stripUndefined(this.opts.client ?? {}) };
  }

  private input(): AnalysisInput {
    const { opts } = this;
    const input: AnalysisInput = { vip: opts.vip, intervalMs: this.intervalMs, probes: [], wire: [], neigh: [] };
    if (opts.iface) input.iface = opts.iface;
    if (opts.expectMs !== undefined) input.expectMs = opts.expectMs;
    if (opts.sysctls) input.sysctls = opts.sysctls;
    if (opts.timers) input.timers = opts.timers;
    return input;
  }

  private onProbe(p: Probe): void {
    if (!this.tracker) {
      this.held.push(p);
      if (this.probes.gapsSeen >= GAPS_FOR_INTERVAL) this.startTracker();
      return;
    }
    this.track(p);
  }

  /** The outage rules depend on the probe interval: fixed once enough gaps are seen, then held probes go in. */
  private startTracker(): void {
    if (this.tracker) return;
    this.tracker = new LossFilter({ ...defaultRules(this.intervalMs), ...this.opts.rules }, this.intervalMs);
    for (const p of this.held.splice(0)) this.track(p);
  }

  private track(p: Probe): void {
    this.sent++;
    if (p.replyTsMs !== undefined) this.answered++;
    this.recent.push(p, p.sentTsMs ?? p.replyTsMs ?? this.lastTs);
    if (p.sentTsMs !== undefined && p.sentTsMs > this.horizon) this.horizon = p.sentTsMs;
    this.take(this.tracker!.add(p));
  }

  /** Outages of a judged cluster wait for their tail; its degraded period is a finding of the run. */
  private take(j: LossJudgement | undefined): void {
    if (!j) return;
    this.pending.push(...j.outages);
    this.degraded.push(...j.degraded);
  }

  /**
   * Report the waiting outages whose announcement tail is over: every probe sent before its end lies behind
   * the horizon, and no run of lost probes that began inside the tail may still turn into the next outage.
   */
  private reportReady(atEnd: boolean, runEnd = this.lastTs): void {
    while (this.pending.length) {
      const o = this.pending[0]!;
      const tailEnd = (o.endTsMs ?? runEnd) + ANNOUNCEMENT_TAIL_MS;
      const next = this.pending[1];
      let nextFrom = next ? (next.lastOkTsMs ?? next.startTsMs) : Infinity;
      if (!next && !atEnd) {
        if (this.horizon <= tailEnd) return;
        const t = this.tracker;
        if (t?.clusterOpen) return; // a cluster of loss not judged yet may still hold the next outage (bounded: maxSpanMs)
        const openFrom = t?.openRunFromTsMs;
        if (openFrom !== undefined) nextFrom = openFrom;
        else if ((t?.openLost ?? 0) > 0) return; // a short run that may still become an outage
      }
      this.pending.shift();
      this.emit(o, nextFrom, runEnd);
    }
  }

  private emit(o: ProbeOutage, nextFrom: number, runEnd: number): void {
    this.scanConflicts(this.lastTs);
    const wire = this.win.items();
    const recent = this.recent.items();
    const run: RunView = {
      input: this.input(),
      wire,
      client: this.client(),
      vipNeigh: this.neigh.items(),
      bySeq: new Map(recent.map((p) => [p.seq, p])),
      replies: echoRepliesFrom(this.opts.vip, wire),
      runEnd,
      capture: { start: this.firstTs, end: this.lastTs },
      acceptWindowMs: this.opts.acceptWindowMs ?? 1000,
      haveCapture: this.wireCount > 0,
      haveNeigh: this.neighCount > 0,
      conflicts: this.conflicts,
    };
    const report = reportOutage(run, o, this.reports.length, nextFrom, degradedOf(this.degraded, o));
    this.reports.push(report);
    this.keepNear(report, runEnd);
    this.opts.onOutage?.(report);
  }

  private keepNear(o: OutageReport, runEnd: number): void {
    if (!this.opts.keepNear || this.reports.length > this.opts.keepNear) return;
    const from = Math.max(this.nearUntil, (o.lastOkTsMs ?? o.startTsMs) - NEAR_MS);
    const to = (o.endTsMs ?? runEnd) + NEAR_MS;
    const inside = (t: number | undefined) => t !== undefined && t > from && t <= to;
    for (const e of this.win.items()) if (inside(e.tsMs)) this.near.wire.push(e);
    for (const p of this.recent.items()) if (inside(p.sentTsMs ?? p.replyTsMs)) this.near.probes.push(p);
    for (const n of this.neigh.items()) if (inside(n.tsMs)) this.near.neigh.push(n);
    this.nearUntil = to;
  }

  /** Drop what no report can need any more; first look for split brain in what is about to go. */
  private trim(): void {
    const open = this.tracker?.openFromTsMs;
    const waiting = this.pending[0] ? (this.pending[0].lastOkTsMs ?? this.pending[0].startTsMs) : undefined;
    let keepFrom = this.lastTs - RETAIN_MS;
    for (const t of [open, waiting]) if (t !== undefined) keepFrom = Math.min(keepFrom, t - LEAD_MS);
    this.scanConflicts(keepFrom);
    this.win.dropBefore(keepFrom);
    this.recent.dropBefore(keepFrom);
    this.neigh.dropBefore(keepFrom);
    this.nextTrim = this.lastTs + RETAIN_MS / 3;
  }

  /** Split brain in the window: conflicts before `until` (their 1 s answer window complete) not reported yet. */
  private scanConflicts(until: number): void {
    const cutoff = until === Infinity ? Infinity : this.lastTs - 2000;
    // requests up to 1 s before the last one reported may still be answered inside the part not yet scanned
    for (const c of findVipConflicts(this.opts.vip, this.win.itemsSince(this.conflictsScanned - 2000))) {
      if (c.tsMs > this.conflictsUntil && c.tsMs < cutoff) {
        this.conflicts.push(c);
        this.conflictsUntil = c.tsMs;
      }
    }
    this.conflictsScanned = Math.min(cutoff, this.lastTs);
  }
}

/** Items in time order with their times; old ones dropped from the front without copying each time. */
class Window<T> {
  private list: T[] = [];
  private times: number[] = [];
  private head = 0;

  push(item: T, tsMs: number): void {
    this.list.push(item);
    this.times.push(tsMs);
  }

  items(): T[] {
    if (this.head > 0) this.compact();
    return this.list;
  }

  /** The items from `tsMs` on (a copy). */
  itemsSince(tsMs: number): T[] {
    let lo = this.head;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! < tsMs) lo = mid + 1;
      else hi = mid;
    }
    return this.list.slice(lo);
  }

  dropBefore(tsMs: number): void {
    while (this.head < this.list.length && this.times[this.head]! < tsMs) this.head++;
    if (this.head > 4096 && this.head * 2 > this.list.length) this.compact();
  }

  private compact(): void {
    this.list = this.list.slice(this.head);
    this.times = this.times.slice(this.head);
    this.head = 0;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
