import type { NeighEvent, Probe, WireEvent } from './events.js';
import { defaultRules, findOutages, type OutageRules, type ProbeOutage } from './outages.js';
import { neighStateOf } from './neigh-events.js';
import { fillSendTimes } from './ping-lines.js';
import { findVipConflicts, type VipConflict } from './conflicts.js';
import { diagnose, type Diagnosis } from './diagnose.js';

export const BROADCAST = 'ff:ff:ff:ff:ff:ff';
/** how long after an outage announcements are still attributed to it */
export const ANNOUNCEMENT_TAIL_MS = 5000;

export interface AnalysisInput {
  vip: string;
  intervalMs: number;
  probes: Probe[];
  wire: WireEvent[];
  neigh: NeighEvent[];
  /** this host (the client): inferred from the capture when not given */
  client?: { ip?: string; mac?: string };
  iface?: string;
  triggerTsMs?: number;
  runStartTsMs?: number;
  runEndTsMs?: number;
  /** an announcement counts as taken when the client switches to its MAC within this many ms (default 1000) */
  acceptWindowMs?: number;
  /** outage durations above this are a problem (exit 1) */
  expectMs?: number;
  rules?: Partial<OutageRules>;
  /** client sysctls read during the run, e.g. { drop_gratuitous_arp: 1, arp_accept: 0, base_reachable_time_ms: 30000 } */
  sysctls?: Record<string, number>;
  /** sysctls sampled during the run; each outage is judged by the sample in effect when it began */
  sysctlSamples?: { tsMs: number; values: Record<string, number> }[];
}

export type TimelineKind =
  | 'trigger'
  | 'last-reply'
  | 'outage-start'
  | 'cluster-stop'
  | 'cluster-start'
  | 'announcement'
  | 'switch'
  | 'neigh'
  | 'unicast-probe'
  | 'broadcast-request'
  | 'arp-answer'
  | 'outage-end';

export interface TimelineEntry {
  tsMs: number;
  /** ms relative to the outage's reference point (the trigger when given, else the first lost probe) */
  relMs: number;
  kind: TimelineKind;
  text: string;
  mac?: string;
}

export type AnnouncementForm = 'garp-request' | 'garp-reply' | 'directed-request' | 'unicast-reply' | 'other';

export interface Announcement {
  tsMs: number;
  mac: string;
  form: AnnouncementForm;
}

export interface OutageReport extends ProbeOutage {
  index: number;
  recovered: boolean;
  durationMs?: number;
  /** reply-to-reply gap: last answered probe before to first answered after */
  replyGapMs?: number;
  refTsMs: number;
  macBefore?: string;
  macAfter?: string;
  announcements: Announcement[];
  /** when and how this host started using the new MAC */
  switchTsMs?: number;
  switchEvidence?: string;
  learnedBy: 'announcement' | 'own-resolution' | 'unknown';
  /** ms from the announcement that preceded the switch to the switch */
  acceptLatencyMs?: number;
  unicastProbesToOld: number[];
  broadcastRequests: number[];
  broadcastAnswer?: { tsMs: number; mac: string };
  neighChanges: { tsMs: number; state: string; lladdr?: string }[];
  clusterStops: { tsMs: number; srcIp: string; proto: string; silentMs: number }[];
  clusterStarts: { tsMs: number; srcIp: string; proto: string }[];
  timeline: TimelineEntry[];
  diagnosis: Diagnosis;
  /** where the start/end times came from: the capture's kernel stamps, or ping's own lines (start interpolated) */
  timesFrom: { start: 'capture' | 'ping'; end?: 'capture' | 'ping' };
}

export interface Analysis {
  vip: string;
  iface?: string;
  intervalMs: number;
  client: { ip?: string; mac?: string };
  probesSent: number;
  probesAnswered: number;
  runStartTsMs?: number;
  runEndTsMs?: number;
  triggerTsMs?: number;
  outages: OutageReport[];
  /** moments when two MACs owned the VIP (split brain) */
  conflicts: VipConflict[];
  /** a problem beyond detection time was found, or an outage exceeded --expect, or the VIP never recovered */
  problem: boolean;
  summary: string;
}

const isGratuitous = (e: Extract<WireEvent, { kind: 'arp' }>) => e.senderIp === e.targetIp;

/** Who is the client? The host sending echo requests to the VIP, or asking for it by ARP (not the VIP itself). */
export function inferClient(vip: string, wire: WireEvent[]): { ip?: string; mac?: string } {
  for (const e of wire) if (e.kind === 'icmp' && e.type === 'echo-request' && e.dstIp === vip) return { ip: e.srcIp, mac: e.srcMac };
  for (const e of wire) if (e.kind === 'arp' && e.op === 'request' && e.targetIp === vip && e.senderIp !== vip && e.senderIp !== '0.0.0.0') return { ip: e.senderIp, mac: e.senderMac };
  return {};
}

function classifyAnnouncement(e: Extract<WireEvent, { kind: 'arp' }>, client: { ip?: string; mac?: string }): AnnouncementForm {
  if (isGratuitous(e)) return e.op === 'request' ? 'garp-request' : 'garp-reply';
  if (e.op === 'request' && client.ip && e.targetIp === client.ip && e.dstMac === BROADCAST) return 'directed-request';
  if (e.op === 'reply' && client.mac && e.dstMac === client.mac) return 'unicast-reply';
  return 'other';
}

/** The MAC that sent the echo reply for probe `p` (matched by 16-bit sequence, nearest in time). */
function replyMacFor(p: Probe | undefined, replies: Map<number, Extract<WireEvent, { kind: 'icmp' }>[]>): string | undefined {
  if (!p) return undefined;
  if (p.replyMac) return p.replyMac;
  const list = replies.get(p.seq & 0xffff);
  if (!list || p.replyTsMs === undefined) return undefined;
  let best: (typeof list)[number] | undefined;
  for (const r of list) if (!best || Math.abs(r.tsMs - p.replyTsMs) < Math.abs(best.tsMs - p.replyTsMs)) best = r;
  return best && Math.abs(best.tsMs - p.replyTsMs) < 1000 ? best.srcMac : undefined;
}

/** Cluster sources (heartbeat/VRRP senders) that fell silent or began during [from, to]. */
function clusterChanges(wire: WireEvent[], from: number, to: number) {
  const bySrc = new Map<string, { proto: string; ts: number[] }>();
  for (const e of wire) {
    if (e.kind !== 'cluster') continue;
    const k = `${e.proto} ${e.srcIp}`;
    let s = bySrc.get(k);
    if (!s) bySrc.set(k, (s = { proto: e.proto, ts: [] }));
    s.ts.push(e.tsMs);
  }
  const stops: OutageReport['clusterStops'] = [];
  const starts: OutageReport['clusterStarts'] = [];
  const captureStart = Math.min(...wire.map((e) => e.tsMs));
  const captureEnd = Math.max(...wire.map((e) => e.tsMs));
  for (const [k, s] of bySrc) {
    const srcIp = k.split(' ')[1]!;
    const gaps = s.ts.slice(1).map((t, i) => t - s.ts[i]!).sort((a, b) => a - b);
    const median = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 1000;
    const silentAfter = Math.max(3 * median, 1500);
    for (let i = 0; i < s.ts.length; i++) {
      const t = s.ts[i]!;
      const next = s.ts[i + 1] ?? captureEnd;
      if (next - t >= silentAfter && t >= from && t <= to) stops.push({ tsMs: t, srcIp, proto: s.proto, silentMs: next - t });
    }
    const first = s.ts[0]!;
    if (first >= from && first <= to && first - captureStart > silentAfter) starts.push({ tsMs: first, srcIp, proto: s.proto });
  }
  return { stops, starts };
}

export function analyze(input: AnalysisInput): Analysis {
  const rules: OutageRules = { ...defaultRules(input.intervalMs), ...input.rules };
  const acceptWindowMs = input.acceptWindowMs ?? 1000;
  const wire = [...input.wire].sort((a, b) => a.tsMs - b.tsMs);
  const client = { ...inferClient(input.vip, wire), ...stripUndefined(input.client ?? {}) };
  const vipNeigh = input.neigh.filter((n) => n.ip === input.vip).sort((a, b) => a.tsMs - b.tsMs);
  const probes = input.probes.map((p) => ({ ...p })).sort((a, b) => a.seq - b.seq);
  fillSendTimes(probes, input.intervalMs);
  refineSendTimes(probes, input.vip, wire, input.intervalMs);
  const replies = new Map<number, Extract<WireEvent, { kind: 'icmp' }>[]>();
  for (const e of wire) {
    if (e.kind === 'icmp' && e.type === 'echo-reply' && e.srcIp === input.vip && e.seq !== undefined) {
      const l = replies.get(e.seq) ?? [];
      l.push(e);
      replies.set(e.seq, l);
    }
  }
  const bySeq = new Map(probes.map((p) => [p.seq, p]));
  const runEnd = input.runEndTsMs ?? Math.max(...probes.map((p) => p.replyTsMs ?? p.sentTsMs ?? -Infinity), ...wire.map((e) => e.tsMs));
  const found = findOutages(probes, rules, runEnd);

  const outages: OutageReport[] = found.map((o, index) => {
    const recovered = o.endTsMs !== undefined;
    const refTsMs = input.triggerTsMs !== undefined && input.triggerTsMs <= o.startTsMs && (index === 0) ? input.triggerTsMs : o.startTsMs;
    const from = o.lastOkTsMs ?? o.startTsMs - 1000;
    const to = o.endTsMs ?? runEnd;
    const macBefore = replyMacFor(o.lastOkSeq !== undefined ? bySeq.get(o.lastOkSeq) : undefined, replies) ?? lastNeighMac(vipNeigh, from);
    const macAfter = replyMacFor(o.firstOkSeq !== undefined ? bySeq.get(o.firstOkSeq) : undefined, replies);
    const inWindow = (t: number) => t >= from && t <= to;

    const arps = wire.filter((e): e is Extract<WireEvent, { kind: 'arp' }> => e.kind === 'arp' && inWindow(e.tsMs));
    const clientAskTimes = arps.filter((e) => e.op === 'request' && e.targetIp === input.vip && e.senderIp !== input.vip).map((e) => e.tsMs);
    const answersAsk = (e: Extract<WireEvent, { kind: 'arp' }>) =>
      e.op === 'reply' && !isGratuitous(e) && e.dstMac !== BROADCAST && clientAskTimes.some((t) => t <= e.tsMs && e.tsMs - t <= 1000);
    // Announcements are also looked for a little after the outage: late ones explain a self-resolved outage.
    const next = found[index + 1];
    const annTo = Math.min(to + ANNOUNCEMENT_TAIL_MS, next ? (next.lastOkTsMs ?? next.startTsMs) : Infinity);
    const announcements: Announcement[] = wire
      .filter((e): e is Extract<WireEvent, { kind: 'arp' }> => e.kind === 'arp' && e.tsMs >= from && e.tsMs <= annTo)
      .filter((e) => e.senderIp === input.vip && e.senderMac !== macBefore && e.srcMac !== client.mac && !answersAsk(e))
      .map((e) => ({ tsMs: e.tsMs, mac: e.senderMac, form: classifyAnnouncement(e, client) }));
    // (a request from 0.0.0.0 is a duplicate-address check, e.g. --check-duplicates, not the kernel resolving)
    const clientAsks = arps.filter((e) => e.op === 'request' && e.targetIp === input.vip && e.senderIp !== input.vip && e.senderIp !== '0.0.0.0' && (!client.mac || e.srcMac === client.mac));
    const unicastProbesToOld = clientAsks.filter((e) => macBefore && e.dstMac === macBefore).map((e) => e.tsMs);
    const broadcastRequests = clientAsks.filter((e) => e.dstMac === BROADCAST).map((e) => e.tsMs);
    let broadcastAnswer: OutageReport['broadcastAnswer'];
    if (broadcastRequests.length) {
      const ans = arps.find((e) => e.op === 'reply' && e.senderIp === input.vip && e.tsMs >= broadcastRequests[0]! && (!client.mac || e.dstMac === client.mac) && !isGratuitous(e));
      if (ans) broadcastAnswer = { tsMs: ans.tsMs, mac: ans.senderMac };
    }
    const newMac = macAfter ?? broadcastAnswer?.mac ?? announcements[0]?.mac;

    // When did this host start using the new MAC? The earliest of: its neighbour entry shows it, it sends to it.
    const switchCandidates: { tsMs: number; why: string }[] = [];
    if (newMac && newMac !== macBefore) {
      const n = vipNeigh.find((e) => inWindow(e.tsMs) && !e.deleted && e.lladdr === newMac);
      if (n) switchCandidates.push({ tsMs: n.tsMs, why: `neighbour entry → ${newMac} ${neighStateOf(n)}` });
      const echo = wire.find((e) => e.kind === 'icmp' && e.type === 'echo-request' && e.dstIp === input.vip && e.dstMac === newMac && inWindow(e.tsMs));
      if (echo) switchCandidates.push({ tsMs: echo.tsMs, why: `first echo request sent to ${newMac}` });
      const uprobe = clientAsks.find((e) => e.dstMac === newMac);
      if (uprobe) switchCandidates.push({ tsMs: uprobe.tsMs, why: `unicast ARP probe to ${newMac} (entry already holds it)` });
      if (o.endTsMs !== undefined && macAfter === newMac) switchCandidates.push({ tsMs: o.endTsMs, why: `first reply from ${newMac}` });
    }
    switchCandidates.sort((a, b) => a.tsMs - b.tsMs);
    const sw = switchCandidates[0];

    // What made it switch: the latest announcement or answer to its own broadcast request before the switch.
    let learnedBy: OutageReport['learnedBy'] = 'unknown';
    let acceptLatencyMs: number | undefined;
    if (sw) {
      const before = announcements.filter((a) => a.mac === newMac && a.tsMs <= sw.tsMs);
      const lastAnn = before[before.length - 1];
      const ownAnswer = broadcastAnswer && broadcastAnswer.tsMs <= sw.tsMs + 0.001 && broadcastAnswer.mac === newMac ? broadcastAnswer : undefined;
      if (ownAnswer && (!lastAnn || lastAnn.tsMs < ownAnswer.tsMs)) learnedBy = 'own-resolution';
      else if (lastAnn) {
        learnedBy = 'announcement';
        acceptLatencyMs = sw.tsMs - before[0]!.tsMs;
      }
    }

    const neighChanges = vipNeigh.filter((e) => inWindow(e.tsMs)).map((e) => ({ tsMs: e.tsMs, state: neighStateOf(e), ...(e.lladdr ? { lladdr: e.lladdr } : {}) }));
    const { stops: clusterStops, starts: clusterStarts } = clusterChanges(wire, from - 10_000, to);

    const report: OutageReport = {
      ...o,
      index: index + 1,
      recovered,
      refTsMs,
      announcements,
      learnedBy,
      unicastProbesToOld,
      broadcastRequests,
      neighChanges,
      clusterStops,
      clusterStarts,
      timeline: [],
      diagnosis: undefined as unknown as Diagnosis,
      timesFrom: { start: 'ping' },
    };
    const srcOf = (seq: number | undefined): 'capture' | 'ping' => (seq !== undefined && bySeq.get(seq)?.timesFrom === 'capture' ? 'capture' : 'ping');
    report.timesFrom = { start: srcOf(o.firstLostSeq), ...(o.firstOkSeq !== undefined ? { end: srcOf(o.firstOkSeq) } : {}) };
    if (recovered) {
      report.durationMs = o.endTsMs! - o.startTsMs;
      if (o.lastOkTsMs !== undefined) report.replyGapMs = o.endTsMs! - o.lastOkTsMs;
    }
    if (macBefore) report.macBefore = macBefore;
    if (macAfter) report.macAfter = macAfter;
    if (broadcastAnswer) report.broadcastAnswer = broadcastAnswer;
    if (sw) {
      report.switchTsMs = sw.tsMs;
      report.switchEvidence = sw.why;
    }
    if (acceptLatencyMs !== undefined) report.acceptLatencyMs = acceptLatencyMs;
    report.timeline = buildTimeline(report, input, newMac);
    report.diagnosis = diagnose(report, { vip: input.vip, iface: input.iface, expectMs: input.expectMs, acceptWindowMs, sysctls: sysctlsAt(input, o.startTsMs), haveCapture: wire.length > 0, haveNeigh: input.neigh.length > 0 });
    return report;
  });

  const conflicts = findVipConflicts(input.vip, wire);
  const problem = outages.some((o) => o.diagnosis.problem) || conflicts.length > 0;
  const conflictText = conflicts.length ? ` Split brain: ${conflicts.length} time(s) two MACs owned ${input.vip} (first: ${conflicts[0]!.evidence}).` : '';
  const answered = probes.filter((p) => p.replyTsMs !== undefined).length;
  const a: Analysis = {
    vip: input.vip,
    intervalMs: input.intervalMs,
    client,
    probesSent: probes.length,
    probesAnswered: answered,
    outages,
    problem,
    conflicts,
    summary: (outages.length === 0 ? `no outage: ${answered} of ${probes.length} probes answered.` : outages.map((o) => `#${o.index}: ${o.diagnosis.sentence}`).join(' ')) + conflictText,
  };
  if (input.iface) a.iface = input.iface;
  if (input.runStartTsMs !== undefined) a.runStartTsMs = input.runStartTsMs;
  if (input.runEndTsMs !== undefined) a.runEndTsMs = input.runEndTsMs;
  if (input.triggerTsMs !== undefined) a.triggerTsMs = input.triggerTsMs;
  return a;
}

function lastNeighMac(neigh: NeighEvent[], before: number): string | undefined {
  let mac: string | undefined;
  for (const n of neigh) if (n.tsMs <= before && n.lladdr && !n.deleted) mac = n.lladdr;
  return mac;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const FORM_TEXT: Record<AnnouncementForm, string> = {
  'garp-request': 'gratuitous ARP request',
  'garp-reply': 'gratuitous ARP reply',
  'directed-request': 'directed ARP request (target = this host)',
  'unicast-reply': 'unicast ARP reply to this host',
  other: 'ARP from the VIP',
};

function buildTimeline(o: OutageReport, input: AnalysisInput, newMac: string | undefined): TimelineEntry[] {
  const t: TimelineEntry[] = [];
  const add = (tsMs: number, kind: TimelineKind, text: string, mac?: string) => t.push({ tsMs, relMs: tsMs - o.refTsMs, kind, text, ...(mac ? { mac } : {}) });
  if (input.triggerTsMs !== undefined && o.refTsMs === input.triggerTsMs) add(input.triggerTsMs, 'trigger', 'trigger command started (t0)');
  if (o.lastOkTsMs !== undefined) add(o.lastOkTsMs, 'last-reply', `last reply before the outage (icmp_seq ${o.lastOkSeq})`, o.macBefore);
  add(o.startTsMs, 'outage-start', `first unanswered probe sent (icmp_seq ${o.firstLostSeq})`);
  for (const s of o.clusterStops) add(s.tsMs, 'cluster-stop', `${s.proto} traffic from ${s.srcIp} stopped (silent ${(s.silentMs / 1000).toFixed(1)} s)`);
  for (const s of o.clusterStarts) add(s.tsMs, 'cluster-start', `${s.proto} traffic from ${s.srcIp} began`);
  const anns = o.announcements.filter((a) => a.mac === newMac);
  if (anns.length) {
    const first = anns[0]!;
    const taken = o.learnedBy === 'announcement' ? `; this host took it (${o.switchEvidence}, ${fmtMs(o.acceptLatencyMs!)} later)` : '; this host did not switch to it';
    add(first.tsMs, 'announcement', `first announcement from ${first.mac}: ${FORM_TEXT[first.form]} (${anns.length} in all${countForms(anns)})${taken}`, first.mac);
  }
  for (const a of o.announcements.filter((a) => a.mac !== newMac).slice(0, 3)) add(a.tsMs, 'announcement', `announcement from ${a.mac}: ${FORM_TEXT[a.form]}`, a.mac);
  for (const n of o.neighChanges) add(n.tsMs, 'neigh', `neighbour entry ${n.state}${n.lladdr ? ` ${n.lladdr}` : ''}`, n.lladdr);
  o.unicastProbesToOld.forEach((ts, i) => add(ts, 'unicast-probe', `unicast ARP probe ${i + 1} to the old MAC ${o.macBefore}`, o.macBefore));
  o.broadcastRequests.slice(0, 3).forEach((ts) => add(ts, 'broadcast-request', `broadcast ARP request for ${input.vip}`));
  if (o.broadcastAnswer) add(o.broadcastAnswer.tsMs, 'arp-answer', `${o.broadcastAnswer.mac} answered the broadcast request`, o.broadcastAnswer.mac);
  if (o.switchTsMs !== undefined && o.learnedBy !== 'announcement') add(o.switchTsMs, 'switch', `this host switched: ${o.switchEvidence}`, newMac);
  if (o.endTsMs !== undefined) add(o.endTsMs, 'outage-end', `first answered probe (icmp_seq ${o.firstOkSeq})${o.macAfter ? ` from ${o.macAfter}` : ''}`, o.macAfter);
  return t.sort((a, b) => a.tsMs - b.tsMs);
}

function countForms(anns: Announcement[]): string {
  const c = new Map<AnnouncementForm, number>();
  for (const a of anns) c.set(a.form, (c.get(a.form) ?? 0) + 1);
  if (c.size < 2) return '';
  return ': ' + [...c].map(([f, n]) => `${n} ${f}`).join(', ');
}

export function fmtMs(ms: number): string {
  if (Math.abs(ms) < 1) return `${ms.toFixed(2)} ms`;
  if (Math.abs(ms) < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/**
 * Unanswered probes only have an interpolated send time; when the capture holds the echo request itself
 * (same 16-bit sequence, near the estimate), its kernel timestamp replaces the estimate.
 */
export function refineSendTimes(probes: Probe[], vip: string, wire: WireEvent[], intervalMs: number): void {
  const reqs = new Map<number, number[]>();
  const reps = new Map<number, number[]>();
  for (const e of wire) {
    if (e.kind !== 'icmp' || e.seq === undefined) continue;
    const m = e.type === 'echo-request' && e.dstIp === vip ? reqs : e.type === 'echo-reply' && e.srcIp === vip ? reps : undefined;
    if (!m) continue;
    const l = m.get(e.seq) ?? [];
    l.push(e.tsMs);
    m.set(e.seq, l);
  }
  if (reqs.size === 0 && reps.size === 0) return;
  const window = Math.max(50, 20 * intervalMs);
  const nearest = (list: number[] | undefined, t: number, notAfter = Infinity) => {
    let best: number | undefined;
    for (const x of list ?? []) if (x <= notAfter && Math.abs(x - t) <= window && (best === undefined || Math.abs(x - t) < Math.abs(best - t))) best = x;
    return best;
  };
  for (const p of probes) {
    if (p.replyTsMs !== undefined) {
      // ping prints a reply a little after the kernel received it: the capture's stamp is the earlier, truer one
      const r = nearest(reps.get(p.seq & 0xffff), p.replyTsMs, p.replyTsMs + 0.001);
      if (r !== undefined) {
        p.replyTsMs = r;
        p.timesFrom = 'capture';
      }
      continue;
    }
    if (!p.sentEstimated || p.sentTsMs === undefined) continue;
    const best = nearest(reqs.get(p.seq & 0xffff), p.sentTsMs);
    if (best !== undefined) {
      p.sentTsMs = best;
      p.sentEstimated = false;
      p.timesFrom = 'capture';
    }
  }
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
