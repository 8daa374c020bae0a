/** The timeline of one outage: what happened around it, in order, relative to its reference point. */
import type { AnalysisInput, Announcement, AnnouncementForm, OutageReport, TimelineEntry, TimelineKind } from './report.js';

const FORM_TEXT: Record<AnnouncementForm, string> = {
  'garp-request': 'gratuitous ARP request',
  'garp-reply': 'gratuitous ARP reply',
  'directed-request': 'directed ARP request (target = this host)',
  'unicast-reply': 'unicast ARP reply to this host',
  'unsolicited-na': 'unsolicited NA',
  'directed-na': 'NA to this host',
  'directed-ns': 'NS from the VIP to this host',
  other: 'ARP from the VIP',
};

export function buildTimeline(o: OutageReport, input: AnalysisInput, newMac: string | undefined): TimelineEntry[] {
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
    const why = first.verdict && !first.verdict.accepted ? ` — ${first.verdict.reason}` : '';
    const taken = o.learnedBy === 'announcement' ? `; this host took it (${o.switchEvidence}, ${fmtMs(o.acceptLatencyMs!)} later)` : `; this host did not switch to it${why}`;
    add(first.tsMs, 'announcement', `first announcement from ${first.mac}: ${FORM_TEXT[first.form]} (${anns.length} in all${countForms(anns)})${taken}`, first.mac);
  }
  for (const a of o.announcements.filter((a) => a.mac !== newMac).slice(0, 3)) add(a.tsMs, 'announcement', `announcement from ${a.mac}: ${FORM_TEXT[a.form]}`, a.mac);
  for (const n of o.neighChanges) add(n.tsMs, 'neigh', `neighbour entry ${n.state}${n.lladdr ? ` ${n.lladdr}` : ''}`, n.lladdr);
  const v6 = input.vip.includes(':');
  o.unicastProbesToOld.forEach((ts, i) => add(ts, 'unicast-probe', `${v6 ? 'unicast NS (NUD probe)' : 'unicast ARP probe'} ${i + 1} to the old MAC ${o.macBefore}`, o.macBefore));
  o.broadcastRequests.slice(0, 3).forEach((ts) => add(ts, 'broadcast-request', `${v6 ? 'multicast NS' : 'broadcast ARP request'} for ${input.vip}`));
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

