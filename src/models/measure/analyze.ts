/**
 * measure-failover's analysis: outages from the probes, and for each outage the ARP evidence, a timeline and
 * a diagnosis; split-brain conflicts and a one-line summary for the run.
 */
import type { IcmpEvent, NeighEvent, Probe, WireEvent } from './events.js';
import { defaultRules, type OutageRules, type ProbeOutage } from './outages.js';
import { judgeLoss, type DegradedPeriod } from './degraded.js';
import { neighStateOf } from './neigh-events.js';
import { fillSendTimes } from './ping-lines.js';
import { findVipConflicts, type VipConflict } from './conflicts.js';
import { diagnose } from './diagnose.js';
import { refineSendTimes } from './send-times.js';
import { clusterChanges, spanOf } from './cluster-changes.js';
import { takeoverEvidence } from './takeover.js';
import { buildTimeline } from './timeline.js';
import { announcersOf, arpsIn, clientAsks, findAnnouncements, findSwitch, inWindow, whatMadeItSwitch, type OutageWindow } from './outage-evidence.js';
import type { Analysis, AnalysisInput, OutageReport } from './report.js';

export { BROADCAST } from './events.js';
export { fmtMs } from './timeline.js';
export { refineSendTimes } from './send-times.js';
export type { Analysis, AnalysisInput, Announcement, AnnouncementForm, OutageReport, TimelineEntry, TimelineKind } from './report.js';

/** how long after an outage announcements are still attributed to it */
export const ANNOUNCEMENT_TAIL_MS = 5000;

/** Who is the client? The host sending echo requests to the VIP, or asking for it by ARP (not the VIP itself). */
export function inferClient(vip: string, wire: readonly WireEvent[]): { ip?: string; mac?: string } {
  for (const e of wire) if (e.kind === 'icmp' && e.type === 'echo-request' && e.dstIp === vip) return { ip: e.srcIp, mac: e.srcMac };
  for (const e of wire) if (e.kind === 'arp' && e.op === 'request' && e.targetIp === vip && e.senderIp !== vip && e.senderIp !== '0.0.0.0') return { ip: e.senderIp, mac: e.senderMac };
  return {};
}

/** What every outage is judged on: the events around it (the whole run, or a streaming window) and the run's facts. */
export interface RunView {
  input: AnalysisInput;
  /** the capture's events, time-ordered: all of them, or a window holding every outage's surroundings */
  wire: readonly WireEvent[];
  client: { ip?: string; mac?: string };
  vipNeigh: readonly NeighEvent[];
  bySeq: ReadonlyMap<number, Probe>;
  /** echo replies from the VIP by 16-bit sequence */
  replies: Map<number, IcmpEvent[]>;
  runEnd: number;
  /** first and last capture time of the whole run */
  capture: { start: number; end: number };
  acceptWindowMs: number;
  haveCapture: boolean;
  haveNeigh: boolean;
  /** split-brain moments found so far (each outage names those inside its window) */
  conflicts?: readonly VipConflict[];
}

export function analyze(input: AnalysisInput): Analysis {
  const rules: OutageRules = { ...defaultRules(input.intervalMs), ...input.rules };
  const wire = [...input.wire].sort((a, b) => a.tsMs - b.tsMs);
  const probes = input.probes.map((p) => ({ ...p })).sort((a, b) => a.seq - b.seq);
  fillSendTimes(probes, input.intervalMs);
  refineSendTimes(probes, input.vip, wire, input.intervalMs);
  const runEnd = input.runEndTsMs ?? lastTimeOf(probes, wire);
  const run: RunView = {
    input,
    wire,
    client: { ...inferClient(input.vip, wire), ...stripUndefined(input.client ?? {}) },
    vipNeigh: input.neigh.filter((n) => n.ip === input.vip).sort((a, b) => a.tsMs - b.tsMs),
    bySeq: new Map(probes.map((p) => [p.seq, p])),
    replies: echoRepliesFrom(input.vip, wire),
    runEnd,
    capture: spanOf(wire),
    acceptWindowMs: input.acceptWindowMs ?? 1000,
    haveCapture: wire.length > 0,
    haveNeigh: input.neigh.length > 0,
  };
  const { outages: found, degraded } = judgeLoss(probes, rules, input.intervalMs, runEnd);
  const conflicts = findVipConflicts(input.vip, wire);
  run.conflicts = conflicts;
  const outages = found.map((o, index) => reportOutage(run, o, index, announcementsUntil(found[index + 1]), degradedOf(degraded, o)));
  let answered = 0;
  for (const p of probes) if (p.replyTsMs !== undefined) answered++;
  return summarize(input, run.client, { sent: probes.length, answered }, outages, conflicts, degraded);
}

/** The degraded period an outage lies in, if any. */
export function degradedOf(periods: readonly DegradedPeriod[], o: ProbeOutage): DegradedPeriod | undefined {
  return periods.find((d) => d.outageSeqs.includes(o.firstLostSeq));
}

/** Announcements after an outage are attributed to it until the next outage's window begins. */
export function announcementsUntil(next: ProbeOutage | undefined): number {
  return next ? (next.lastOkTsMs ?? next.startTsMs) : Infinity;
}

export function echoRepliesFrom(vip: string, wire: readonly WireEvent[]): Map<number, IcmpEvent[]> {
  const replies = new Map<number, IcmpEvent[]>();
  for (const e of wire) {
    if (e.kind === 'icmp' && e.type === 'echo-reply' && e.srcIp === vip && e.seq !== undefined) {
      const l = replies.get(e.seq) ?? [];
      l.push(e);
      replies.set(e.seq, l);
    }
  }
  return replies;
}

/** The report of outage number `index` (0-based); `nextFrom`: where the next outage's window begins. */
export function reportOutage(run: RunView, o: ProbeOutage, index: number, nextFrom: number, degraded?: DegradedPeriod): OutageReport {
  const { input, wire, client } = run;
  const w = outageWindow(run, o, nextFrom);
  const macBefore = replyMacFor(o.lastOkSeq !== undefined ? run.bySeq.get(o.lastOkSeq) : undefined, run.replies) ?? lastNeighMac(run.vipNeigh, w.from);
  const macAfter = replyMacFor(o.firstOkSeq !== undefined ? run.bySeq.get(o.firstOkSeq) : undefined, run.replies);
  const arps = arpsIn(wire as WireEvent[], w);
  const announcements = findAnnouncements(input.vip, wire as WireEvent[], arps, w, macBefore, client, { sysctls: sysctlsAt(input, o.startTsMs), vipNeigh: run.vipNeigh });
  const asked = clientAsks(input.vip, arps, macBefore, client);
  const newMac = macAfter ?? asked.broadcastAnswer?.mac ?? announcements[0]?.mac;
  const sw = findSwitch(input.vip, o, { macBefore, macAfter, newMac }, w, wire as WireEvent[], run.vipNeigh as NeighEvent[], asked.asks);
  const { learnedBy, acceptLatencyMs } = whatMadeItSwitch(sw, announcements, asked.broadcastAnswer, newMac);
  const { stops: clusterStops, starts: clusterStarts } = clusterChanges(wire, w.from - 10_000, w.to, run.capture);
  const report: OutageReport = {
    ...o,
    index: index + 1,
    recovered: o.endTsMs !== undefined,
    refTsMs: input.triggerTsMs !== undefined && input.triggerTsMs <= o.startTsMs && index === 0 ? input.triggerTsMs : o.startTsMs,
    announcements,
    announcers: announcersOf(announcements),
    learnedBy,
    unicastProbesToOld: asked.unicastProbesToOld,
    broadcastRequests: asked.broadcastRequests,
    neighChanges: run.vipNeigh.filter((e) => inWindow(w, e.tsMs)).map((e) => ({ tsMs: e.tsMs, state: neighStateOf(e), ...(e.lladdr ? { lladdr: e.lladdr } : {}) })),
    clusterStops,
    clusterStarts,
    timeline: [],
    diagnosis: undefined as unknown as OutageReport['diagnosis'],
    timesFrom: timesFrom(run, o),
  };
  if (o.endTsMs !== undefined) {
    report.durationMs = o.endTsMs - o.startTsMs;
    if (o.lastOkTsMs !== undefined) report.replyGapMs = o.endTsMs - o.lastOkTsMs;
  }
  if (macBefore) report.macBefore = macBefore;
  if (macAfter) report.macAfter = macAfter;
  if (asked.broadcastAnswer) report.broadcastAnswer = asked.broadcastAnswer;
  if (sw) {
    report.switchTsMs = sw.tsMs;
    report.switchEvidence = sw.why;
  }
  if (acceptLatencyMs !== undefined) report.acceptLatencyMs = acceptLatencyMs;
  if (degraded) report.degraded = degraded;
  const dad = arps.filter((e) => e.nd?.msg.kind === 'ns' && e.senderIp === '::' && e.targetIp === input.vip);
  if (dad.length) report.dadProbes = dad.map((e) => ({ tsMs: e.tsMs, mac: e.srcMac }));
  const takeover = takeoverEvidence(wire, o, macBefore, newMac, input.timers);
  if (takeover.expected || takeover.newHolder || takeover.oldSilentTsMs !== undefined) report.takeover = takeover;
  const conflicts = (run.conflicts ?? []).filter((c) => c.tsMs >= w.from && c.tsMs <= w.to);
  if (conflicts.length) report.conflicts = conflicts;
  report.timeline = buildTimeline(report, input, newMac);
  report.diagnosis = diagnose(report, { vip: input.vip, iface: input.iface, expectMs: input.expectMs, acceptWindowMs: run.acceptWindowMs, sysctls: sysctlsAt(input, o.startTsMs), haveCapture: run.haveCapture, haveNeigh: run.haveNeigh });
  return report;
}

/** From the last answer before the outage to its end; announcements until a little later, but not into the next outage. */
function outageWindow(run: RunView, o: ProbeOutage, nextFrom: number): OutageWindow {
  const from = o.lastOkTsMs ?? o.startTsMs - 1000;
  const to = o.endTsMs ?? run.runEnd;
  const annTo = Math.min(to + ANNOUNCEMENT_TAIL_MS, nextFrom);
  return { from, to, annTo };
}

/** Where the start/end times came from: the capture's kernel stamps, or ping's own lines. */
function timesFrom(run: RunView, o: ProbeOutage): OutageReport['timesFrom'] {
  const srcOf = (seq: number | undefined): 'capture' | 'ping' => (seq !== undefined && run.bySeq.get(seq)?.timesFrom === 'capture' ? 'capture' : 'ping');
  return { start: srcOf(o.firstLostSeq), ...(o.firstOkSeq !== undefined ? { end: srcOf(o.firstOkSeq) } : {}) };
}

/** The run's verdict and one-line summary from its outage reports and conflicts. */
export function summarize(input: AnalysisInput, client: Analysis['client'], probes: { sent: number; answered: number }, outages: OutageReport[], conflicts: VipConflict[], degraded: DegradedPeriod[] = []): Analysis {
  const problem = outages.some((o) => o.diagnosis.problem) || conflicts.length > 0 || degraded.length > 0;
  const conflictText = conflicts.length ? ` Split brain: ${conflicts.length} time(s) two MACs owned ${input.vip} (first: ${conflicts[0]!.evidence}).` : '';
  const degradedText = degraded.map((d) => ` ${degradedSentence(d)}`).join('');
  const { sent, answered } = probes;
  const a: Analysis = {
    vip: input.vip,
    intervalMs: input.intervalMs,
    client,
    probesSent: sent,
    probesAnswered: answered,
    outages,
    problem,
    conflicts,
    degraded,
    summary: (outages.length === 0 ? `no outage: ${answered} of ${sent} probes answered.` : outages.map((o) => `#${o.index}: ${o.diagnosis.sentence}`).join(' ')) + conflictText + degradedText,
  };
  if (input.iface) a.iface = input.iface;
  if (input.runStartTsMs !== undefined) a.runStartTsMs = input.runStartTsMs;
  if (input.runEndTsMs !== undefined) a.runEndTsMs = input.runEndTsMs;
  if (input.triggerTsMs !== undefined) a.triggerTsMs = input.triggerTsMs;
  return a;
}

/** "Degraded path: 31 % of probes lost from 12:00:01.234 to 12:00:04.300 UTC (3.07 s, 298 runs, longest 9 probes)." */
export function degradedSentence(d: DegradedPeriod): string {
  const at = (ts: number) => new Date(ts).toISOString().slice(11, 23);
  return `Degraded path: ${(d.lossRate * 100).toFixed(1)} % of probes lost from ${at(d.fromTsMs)} to ${at(d.toTsMs)} UTC (${((d.toTsMs - d.fromTsMs) / 1000).toFixed(2)} s, ${d.lost} probes in ${d.lossRuns} runs, longest ${d.longestRun}).`;
}

/** The MAC that sent the echo reply for probe `p` (matched by 16-bit sequence, nearest in time). */
function replyMacFor(p: Probe | undefined, replies: Map<number, IcmpEvent[]>): string | undefined {
  if (!p) return undefined;
  if (p.replyMac) return p.replyMac;
  const list = replies.get(p.seq & 0xffff);
  if (!list || p.replyTsMs === undefined) return undefined;
  let best: IcmpEvent | undefined;
  for (const r of list) if (!best || Math.abs(r.tsMs - p.replyTsMs) < Math.abs(best.tsMs - p.replyTsMs)) best = r;
  return best && Math.abs(best.tsMs - p.replyTsMs) < 1000 ? best.srcMac : undefined;
}

function lastNeighMac(neigh: readonly NeighEvent[], before: number): string | undefined {
  let mac: string | undefined;
  for (const n of neigh) if (n.tsMs <= before && n.lladdr && !n.deleted) mac = n.lladdr;
  return mac;
}

/** The latest reply, send or capture time of the run (a loop: a spread of a long run overflows the stack). */
function lastTimeOf(probes: Probe[], wire: WireEvent[]): number {
  let end = -Infinity;
  for (const p of probes) end = Math.max(end, p.replyTsMs ?? p.sentTsMs ?? -Infinity);
  for (const e of wire) end = Math.max(end, e.tsMs);
  return end;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The client sysctls in effect at `tsMs`: the last sample taken before it, else the first, else the snapshot. */
function sysctlsAt(input: AnalysisInput, tsMs: number): Record<string, number> | undefined {
  const samples = input.sysctlSamples;
  if (!samples || samples.length === 0) return input.sysctls;
  let pick = samples[0]!;
  // a change is only seen at the next sample: one sampling period of slack (live.ts reads every 250 ms)
  for (const s of samples) if (s.tsMs <= tsMs + 300) pick = s;
  return pick.values;
}
