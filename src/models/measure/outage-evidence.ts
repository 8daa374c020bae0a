/**
 * The ARP side of one outage, from the capture and the neighbour events: who announced the VIP, what this host
 * asked, when it switched to the new MAC and what made it switch.
 */
import { ARP_REPLY, ARP_REQUEST, type ArpPacket } from '../../codecs/arp.js';
import { predictArp, type HostArpState } from '../resolution/accept-model.js';
import { BROADCAST, dstMacOf, sentByHost, type ArpEvent, type NeighEvent, type WireEvent } from './events.js';
import { neighStateOf } from './neigh-events.js';
import { ndVerdict, type NdContext } from './nd-evidence.js';
import type { Announcement, AnnouncementForm, Announcer, OutageReport } from './report.js';

type Client = { ip?: string; mac?: string };

/** The stretch of time one outage is judged on: [from, to], announcements looked for until annTo. */
export interface OutageWindow {
  from: number;
  to: number;
  annTo: number;
}

const isGratuitous = (e: ArpEvent) => e.senderIp === e.targetIp;

/** retrans_time_ms (default 1 s): a reply this soon after this host's request for the VIP answers it */
export const RESOLUTION_WINDOW_MS = 1000;
/** ucast_solicit (default 3): unicast probes to the cached MAC before the kernel asks by broadcast */
const UCAST_SOLICIT = 3;

export const inWindow = (w: OutageWindow, t: number) => t >= w.from && t <= w.to;

/** ARP frames inside the window. */
export function arpsIn(wire: readonly WireEvent[], w: OutageWindow): ArpEvent[] {
  return wire.filter((e): e is ArpEvent => e.kind === 'arp' && inWindow(w, e.tsMs));
}

function classifyAnnouncement(e: ArpEvent, client: Client): AnnouncementForm {
  if (e.nd) return e.nd.msg.kind === 'ns' ? 'directed-ns' : isGratuitous(e) ? 'unsolicited-na' : 'directed-na';
  if (isGratuitous(e)) return e.op === 'request' ? 'garp-request' : 'garp-reply';
  const dst = dstMacOf(e, client.mac);
  if (e.op === 'request' && client.ip && e.targetIp === client.ip) return 'directed-request'; // broadcast or unicast to this host
  if (e.op === 'reply' && client.mac && dst === client.mac) return 'unicast-reply';
  return 'other';
}

/** This host's ARP requests for the VIP (duplicate-address probes from 0.0.0.0 included: replies to them are answers too). */
function ownRequests(vip: string, wire: readonly WireEvent[], from: number, to: number, client: Client): ArpEvent[] {
  return wire.filter((e): e is ArpEvent => e.kind === 'arp' && e.tsMs >= from && e.tsMs <= to && e.op === 'request' && e.targetIp === vip && e.senderIp !== vip && sentByHost(e, client.mac));
}

/**
 * Resolution, not announcement: a reply to this host that answers one of its requests for the VIP — sent by
 * broadcast (or to a destination the capture does not show), or unicast to the replying MAC — within the
 * request's retransmission window.
 */
function answersOwnRequest(e: ArpEvent, own: readonly ArpEvent[], client: Client): boolean {
  if (e.op !== 'reply' || isGratuitous(e) || sentByHost(e, client.mac)) return false;
  const dst = dstMacOf(e, client.mac);
  if (dst && client.mac && dst !== client.mac) return false;
  return own.some((r) => r.tsMs <= e.tsMs && e.tsMs - r.tsMs <= RESOLUTION_WINDOW_MS && [BROADCAST, '', e.senderMac].includes(dstMacOf(r, client.mac)));
}

/** What this host's kernel would do with the frame if no filter dropped it (models/resolution/accept-model.ts). */
function wouldMoveEntry(e: ArpEvent, entryMac: string | undefined, client: Client): boolean {
  if (e.pktType === 'otherhost') return false;
  const host: HostArpState = {
    hostMac: client.mac ?? '',
    hostIps: client.ip ? [client.ip] : [],
    arpAccept: 0,
    dropGratuitousArp: false,
    // an unknown MAC before the outage: assume the entry exists (this host was talking to the VIP)
    entry: { state: 'STALE', ...(entryMac ? { mac: entryMac } : {}) },
  };
  const packet = { op: e.op === 'request' ? ARP_REQUEST : ARP_REPLY, senderMac: e.senderMac, senderIp: e.senderIp, targetMac: e.targetMac, targetIp: e.targetIp } as ArpPacket;
  const outcome = predictArp(packet, dstMacOf(e, client.mac), host).outcome;
  return outcome === 'update' || outcome === 'create';
}

/**
 * Announcements: ARP from the VIP, not sent by this host, that moves (or, unfiltered, would move) this host's
 * entry for the VIP to a new MAC — whatever its form: gratuitous request or reply, a request from the VIP to
 * this host (directed), an unsolicited unicast reply. The reply to this host's own request is resolution, and
 * after it the entry holds the resolved MAC (so the VIP's host asking back for this host announces nothing). A
 * gratuitous frame counts against the MAC before the outage even after that: it was sent to announce, if late.
 * Also looked for a little after the outage: late ones explain a self-resolved outage.
 */
export function findAnnouncements(vip: string, wire: readonly WireEvent[], _arps: readonly ArpEvent[], w: OutageWindow, macBefore: string | undefined, client: Client, nd?: NdContext): Announcement[] {
  const own = ownRequests(vip, wire, w.from - RESOLUTION_WINDOW_MS, w.annTo, client);
  let entryMac = macBefore;
  const out: Announcement[] = [];
  for (const e of wire) {
    if (e.kind !== 'arp' || e.tsMs < w.from || e.tsMs > w.annTo || e.senderIp !== vip || sentByHost(e, client.mac)) continue;
    if (answersOwnRequest(e, own, client)) {
      entryMac = e.senderMac;
      continue;
    }
    if (e.nd) {
      // IPv6: every NA/NS from the VIP naming a new MAC is an announcement; the kernel's verdict says whether it took it
      if (e.pktType === 'otherhost' || e.senderMac === (isGratuitous(e) ? macBefore : entryMac)) continue;
      const verdict = ndVerdict(e, nd ?? { vipNeigh: [] }, client, macBefore);
      out.push({ tsMs: e.tsMs, mac: e.senderMac, form: classifyAnnouncement(e, client), ...(verdict ? { verdict } : {}) });
      continue;
    }
    if (!wouldMoveEntry(e, isGratuitous(e) ? macBefore : entryMac, client)) continue;
    out.push({ tsMs: e.tsMs, mac: e.senderMac, form: classifyAnnouncement(e, client) });
  }
  return out;
}

/** The MACs that announced the VIP, each with its forms and how often: the JSON's `announcers`. */
export function announcersOf(anns: readonly Announcement[]): Announcer[] {
  const by = new Map<string, Announcer>();
  for (const a of anns) {
    let x = by.get(a.mac);
    if (!x) by.set(a.mac, (x = { mac: a.mac, forms: [], count: 0, firstTsMs: a.tsMs }));
    x.count++;
    if (!x.forms.includes(a.form)) x.forms.push(a.form);
  }
  return [...by.values()];
}

export interface ClientAsks {
  /** this host's requests for the VIP (dstMac filled in where a cooked capture hides it, see `dstInferred`) */
  asks: ArpEvent[];
  unicastProbesToOld: number[];
  broadcastRequests: number[];
  broadcastAnswer?: { tsMs: number; mac: string };
  /** the capture did not show where this host's requests went (Linux cooked): told from the kernel's order */
  dstInferred: boolean;
}

/** What this host asked for the VIP by ARP, and who answered its broadcast request. */
export function clientAsks(vip: string, arps: readonly ArpEvent[], macBefore: string | undefined, client: Client): ClientAsks {
  // (a request from 0.0.0.0 is a duplicate-address check, e.g. --check-duplicates, not the kernel resolving)
  const sent = arps.filter((e) => e.op === 'request' && e.targetIp === vip && e.senderIp !== vip && e.senderIp !== '0.0.0.0' && e.senderIp !== '::' && (client.mac || e.pktType !== undefined ? sentByHost(e, client.mac) : true));
  const { asks, inferred } = withDestinations(sent, arps, macBefore, client);
  const out: ClientAsks = {
    asks,
    unicastProbesToOld: asks.filter((e) => macBefore && e.dstMac === macBefore).map((e) => e.tsMs),
    broadcastRequests: asks.filter((e) => e.dstMac === BROADCAST).map((e) => e.tsMs),
    dstInferred: inferred,
  };
  const broadcasts = asks.filter((e) => e.dstMac === BROADCAST);
  if (broadcasts.length) {
    const ans = arps.find((e) => e.tsMs >= broadcasts[0]!.tsMs && e.senderIp === vip && answersOwnRequest(e, broadcasts, client));
    if (ans) out.broadcastAnswer = { tsMs: ans.tsMs, mac: ans.senderMac };
  }
  return out;
}

/**
 * This host's requests with their Ethernet destination. A cooked capture does not show it for frames this host
 * sent; the kernel's order tells it: while its entry holds a MAC it sends ucast_solicit unicast probes to it,
 * then asks by broadcast; an answer puts the answering MAC in the entry.
 */
function withDestinations(sent: ArpEvent[], arps: readonly ArpEvent[], macBefore: string | undefined, client: Client): { asks: ArpEvent[]; inferred: boolean } {
  if (sent.every((e) => dstMacOf(e, client.mac) !== '')) return { asks: sent, inferred: false };
  let entry = macBefore;
  let unicastSent = 0;
  const asks: ArpEvent[] = [];
  for (const e of sent) {
    let dst = dstMacOf(e, client.mac);
    if (!dst) dst = entry && unicastSent < UCAST_SOLICIT ? entry : BROADCAST;
    if (dst === BROADCAST) entry = undefined;
    else unicastSent++;
    const ask = { ...e, dstMac: dst };
    asks.push(ask);
    const answer = arps.find((r) => r.tsMs >= e.tsMs && r.tsMs - e.tsMs <= RESOLUTION_WINDOW_MS && answersOwnRequest(r, [ask], client));
    if (answer) {
      entry = answer.senderMac;
      unicastSent = 0;
    }
  }
  return { asks, inferred: true };
}

export interface MacChange {
  macBefore: string | undefined;
  macAfter: string | undefined;
  newMac: string | undefined;
}

/** When did this host start using the new MAC? The earliest of: its neighbour entry shows it, it sends to it. */
export function findSwitch(vip: string, o: { endTsMs?: number }, macs: MacChange, w: OutageWindow, wire: readonly WireEvent[], vipNeigh: readonly NeighEvent[], asks: readonly ArpEvent[]): { tsMs: number; why: string } | undefined {
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
