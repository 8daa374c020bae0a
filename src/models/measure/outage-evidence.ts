/**
 * The ARP side of one outage, from the capture and the neighbour events: who announced the VIP, what this host
 * asked, when it switched to the new MAC and what made it switch.
 */
import { BROADCAST, type ArpEvent, type NeighEvent, type WireEvent } from './events.js';
import { neighStateOf } from './neigh-events.js';
import type { Announcement, AnnouncementForm, OutageReport } from './report.js';

type Client = { ip?: string; mac?: string };

/** The stretch of time one outage is judged on: [from, to], announcements looked for until annTo. */
export interface OutageWindow {
  from: number;
  to: number;
  annTo: number;
}

const isGratuitous = (e: ArpEvent) => e.senderIp === e.targetIp;

export const inWindow = (w: OutageWindow, t: number) => t >= w.from && t <= w.to;

/** ARP frames inside the window. */
export function arpsIn(wire: WireEvent[], w: OutageWindow): ArpEvent[] {
  return wire.filter((e): e is ArpEvent => e.kind === 'arp' && inWindow(w, e.tsMs));
}

function classifyAnnouncement(e: ArpEvent, client: Client): AnnouncementForm {
  if (isGratuitous(e)) return e.op === 'request' ? 'garp-request' : 'garp-reply';
  if (e.op === 'request' && client.ip && e.targetIp === client.ip && e.dstMac === BROADCAST) return 'directed-request';
  if (e.op === 'reply' && client.mac && e.dstMac === client.mac) return 'unicast-reply';
  return 'other';
}

/**
 * ARP from the VIP with a MAC other than the old one, not from this host and not an answer to someone's
 * request for the VIP. Also looked for a little after the outage: late ones explain a self-resolved outage.
 */
export function findAnnouncements(vip: string, wire: WireEvent[], arps: ArpEvent[], w: OutageWindow, macBefore: string | undefined, client: Client): Announcement[] {
  const askTimes = arps.filter((e) => e.op === 'request' && e.targetIp === vip && e.senderIp !== vip).map((e) => e.tsMs);
  const answersAsk = (e: ArpEvent) => e.op === 'reply' && !isGratuitous(e) && e.dstMac !== BROADCAST && askTimes.some((t) => t <= e.tsMs && e.tsMs - t <= 1000);
  return wire
    .filter((e): e is ArpEvent => e.kind === 'arp' && e.tsMs >= w.from && e.tsMs <= w.annTo)
    .filter((e) => e.senderIp === vip && e.senderMac !== macBefore && e.srcMac !== client.mac && !answersAsk(e))
    .map((e) => ({ tsMs: e.tsMs, mac: e.senderMac, form: classifyAnnouncement(e, client) }));
}

export interface ClientAsks {
  /** this host's requests for the VIP */
  asks: ArpEvent[];
  unicastProbesToOld: number[];
  broadcastRequests: number[];
  broadcastAnswer?: { tsMs: number; mac: string };
}

/** What this host asked for the VIP by ARP, and who answered its broadcast request. */
export function clientAsks(vip: string, arps: ArpEvent[], macBefore: string | undefined, client: Client): ClientAsks {
  // (a request from 0.0.0.0 is a duplicate-address check, e.g. --check-duplicates, not the kernel resolving)
  const asks = arps.filter((e) => e.op === 'request' && e.targetIp === vip && e.senderIp !== vip && e.senderIp !== '0.0.0.0' && (!client.mac || e.srcMac === client.mac));
  const out: ClientAsks = {
    asks,
    unicastProbesToOld: asks.filter((e) => macBefore && e.dstMac === macBefore).map((e) => e.tsMs),
    broadcastRequests: asks.filter((e) => e.dstMac === BROADCAST).map((e) => e.tsMs),
  };
  if (out.broadcastRequests.length) {
    const first = out.broadcastRequests[0]!;
    const ans = arps.find((e) => e.op === 'reply' && e.senderIp === vip && e.tsMs >= first && (!client.mac || e.dstMac === client.mac) && !isGratuitous(e));
    if (ans) out.broadcastAnswer = { tsMs: ans.tsMs, mac: ans.senderMac };
  }
  return out;
}

export interface MacChange {
  macBefore: string | undefined;
  macAfter: string | undefined;
  newMac: string | undefined;
}

/** When did this host start using the new MAC? The earliest of: its neighbour entry shows it, it sends to it. */
export function findSwitch(vip: string, o: { endTsMs?: number }, macs: MacChange, w: OutageWindow, wire: WireEvent[], vipNeigh: NeighEvent[], asks: ArpEvent[]): { tsMs: number; why: string } | undefined {
  const { newMac, macBefore, macAfter } = macs;
  if (!newMac || newMac === macBefore) return undefined;
  const candidates: { tsMs: number; why: string }[] = [];
  const n = vipNeigh.find((e) => inWindow(w, e.tsMs) && !e.deleted && e.lladdr === newMac);
  if (n) candidates.push({ tsMs: n.tsMs, why: `neighbour entry → ${newMac} ${neighStateOf(n)}` });
  const echo = wire.find((e) => e.kind === 'icmp' && e.type === 'echo-request' && e.dstIp === vip && e.dstMac === newMac && inWindow(w, e.tsMs));
  if (echo) candidates.push({ tsMs: echo.tsMs, why: `first echo request sent to ${newMac}` });
  const uprobe = asks.find((e) => e.dstMac === newMac);
  if (uprobe) candidates.push({ tsMs: uprobe.tsMs, why: `unicast ARP probe to ${newMac} (entry already holds it)` });
  if (o.endTsMs !== undefined && macAfter === newMac) candidates.push({ tsMs: o.endTsMs, why: `first reply from ${newMac}` });
  candidates.sort((a, b) => a.tsMs - b.tsMs);
  return candidates[0];
}

/** What made it switch: the latest announcement or answer to its own broadcast request before the switch. */
export function whatMadeItSwitch(
  sw: { tsMs: number } | undefined,
  announcements: Announcement[],
  broadcastAnswer: ClientAsks['broadcastAnswer'],
  newMac: string | undefined,
): { learnedBy: OutageReport['learnedBy']; acceptLatencyMs?: number } {
  if (!sw) return { learnedBy: 'unknown' };
  const before = announcements.filter((a) => a.mac === newMac && a.tsMs <= sw.tsMs);
  const lastAnn = before[before.length - 1];
  const ownAnswer = broadcastAnswer && broadcastAnswer.tsMs <= sw.tsMs + 0.001 && broadcastAnswer.mac === newMac ? broadcastAnswer : undefined;
  if (ownAnswer && (!lastAnn || lastAnn.tsMs < ownAnswer.tsMs)) return { learnedBy: 'own-resolution' };
  if (lastAnn) return { learnedBy: 'announcement', acceptLatencyMs: sw.tsMs - before[0]!.tsMs };
  return { learnedBy: 'unknown' };
}
