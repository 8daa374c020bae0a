import { decodeFrame, LINKTYPE_ETHERNET, type Frame } from '../../codecs/decode.js';
import { decodeEthernet } from '../../codecs/ethernet.js';
import { decodeIpv4 } from '../../codecs/ipv4.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST } from '../../codecs/nd.js';
import { BROADCAST, type CookedPacketType, type Probe, type VrrpAdvert, type WireEvent } from './events.js';
import { ProbeMatcher, type EchoStream, type ProbeMatcherOptions } from './echo-matcher.js';

export { ProbeMatcher, type EchoStream, type ProbeMatcherOptions } from './echo-matcher.js';

export const HEARTBEAT_PORT = 694;
export const IPPROTO_VRRP = 112;

/** The BPF filter of what measure-failover captures: ARP, ICMP, ICMPv6 (echo and ND), Heartbeat (UDP 694) and VRRP. */
export const CAPTURE_FILTER = 'arp or icmp or icmp6 or udp port 694 or ip proto 112';

/** Reduce one captured frame to the event the analysis needs, or undefined for anything else. */
export function wireEventOf(data: Buffer, tsMs: number, linktype = LINKTYPE_ETHERNET, heartbeatPort = HEARTBEAT_PORT): WireEvent | undefined {
  const f = decodeFrame(data, linktype);
  const srcMac = f.eth?.src ?? '';
  const dstMac = f.eth?.dst ?? '';
  const pktType = cookedPacketType(f);
  if (f.arp && (f.arp.op === 1 || f.arp.op === 2)) {
    const a = f.arp;
    const e: WireEvent = { kind: 'arp', tsMs, op: a.op === 1 ? 'request' : 'reply', srcMac, dstMac, senderMac: a.senderMac, senderIp: a.senderIp, targetMac: a.targetMac, targetIp: a.targetIp };
    if (pktType) e.pktType = pktType;
    return e;
  }
  if (f.ipv6) return ipv6EventOf(f, tsMs, pktType);
  if (!f.ipv4) return undefined;
  if (f.icmp && (f.icmp.type === 8 || f.icmp.type === 0)) {
    const e: WireEvent = { kind: 'icmp', tsMs, type: f.icmp.type === 8 ? 'echo-request' : 'echo-reply', srcMac, dstMac, srcIp: f.ipv4.src, dstIp: f.ipv4.dst };
    if (f.icmp.id !== undefined) e.id = f.icmp.id;
    if (f.icmp.seq !== undefined) e.seq = f.icmp.seq;
    if (pktType) e.pktType = pktType;
    return e;
  }
  if (f.udp && (f.udp.srcPort === heartbeatPort || f.udp.dstPort === heartbeatPort)) {
    return { kind: 'cluster', tsMs, proto: 'heartbeat', srcMac, srcIp: f.ipv4.src, dstIp: f.ipv4.dst };
  }
  if (f.ipv4.proto === IPPROTO_VRRP) {
    const e: WireEvent = { kind: 'cluster', tsMs, proto: 'vrrp', srcMac, srcIp: f.ipv4.src, dstIp: f.ipv4.dst };
    const v = vrrpAdvertOf(data, linktype);
    if (v) e.vrrp = v;
    return e;
  }
  return undefined;
}

/**
 * IPv6: an ICMPv6 echo as an `icmp` event; a neighbour-discovery message as its ARP counterpart, so the
 * outage model reads both families alike — an NA is a reply from its target (the MAC it announces: the target
 * link-layer option, else the Ethernet source), "gratuitous" (sender = target) when unsolicited to a group; an
 * NS is a request from its source for its target (a DAD probe's source is ::). A multicast destination MAC
 * (33:33:…) is read as broadcast; the frame itself rides along in `nd`.
 */
function ipv6EventOf(f: Frame, tsMs: number, pktType: CookedPacketType | undefined): WireEvent | undefined {
  const ip6 = f.ipv6!;
  const srcMac = f.eth?.src ?? '';
  const ethDst = f.eth?.dst ?? '';
  const dstMac = ethDst.startsWith('33:33:') ? BROADCAST : ethDst;
  const extra = pktType ? { pktType } : {};
  const i6 = f.icmp6;
  if (i6 && (i6.type === ICMPV6_ECHO_REQUEST || i6.type === ICMPV6_ECHO_REPLY)) {
    const e: WireEvent = { kind: 'icmp', tsMs, type: i6.type === ICMPV6_ECHO_REQUEST ? 'echo-request' : 'echo-reply', srcMac, dstMac, srcIp: ip6.src, dstIp: ip6.dst, ...extra };
    if (i6.id !== undefined) e.id = i6.id;
    if (i6.seq !== undefined) e.seq = i6.seq;
    return e;
  }
  const nd = f.nd;
  if (!nd) return undefined;
  const frame = { msg: nd, src: ip6.src, dst: ip6.dst, hopLimit: ip6.hopLimit, ethDst };
  if (nd.kind === 'na') {
    const unsolicitedToGroup = !nd.solicited && /^ff/i.test(ip6.dst);
    return { kind: 'arp', tsMs, op: 'reply', srcMac, dstMac, senderMac: nd.targetLinkAddr ?? srcMac, senderIp: nd.target, targetMac: dstMac, targetIp: unsolicitedToGroup ? nd.target : ip6.dst, nd: frame, ...extra };
  }
  return { kind: 'arp', tsMs, op: 'request', srcMac, dstMac, senderMac: nd.sourceLinkAddr ?? srcMac, senderIp: ip6.src, targetMac: '00:00:00:00:00:00', targetIp: nd.target, nd: frame, ...extra };
}

/** The timers a VRRP advertisement carries (v2: interval in s at byte 5; v3: 12-bit centiseconds at bytes 4–5). */
export function vrrpAdvertOf(data: Buffer, linktype = LINKTYPE_ETHERNET): VrrpAdvert | undefined {
  let off = 0;
  if (linktype === LINKTYPE_ETHERNET) {
    const e = decodeEthernet(data);
    if (!e.ok) return undefined;
    off = e.payloadOffset;
  } else if (linktype === 113) off = 16;
  else if (linktype === 276) off = 20;
  const ip = decodeIpv4(data, off);
  if (!ip.ok || ip.payload.length < 8) return undefined;
  const b = ip.payload;
  const version = b[0]! >> 4;
  const type = b[0]! & 0x0f;
  if (type !== 1 || (version !== 2 && version !== 3)) return undefined;
  const intervalMs = version === 2 ? b[5]! * 1000 : (((b[4]! & 0x0f) << 8) | b[5]!) * 10;
  return { version, vrid: b[1]!, priority: b[2]!, intervalMs };
}

/** Decode a list of captured records (e.g. from readPcap) into time-ordered wire events. */
export function wireEventsOf(records: { tsMs: number; data: Buffer; linktype?: number }[], linktype = LINKTYPE_ETHERNET): WireEvent[] {
  const out: WireEvent[] = [];
  for (const r of records) {
    const e = wireEventOf(r.data, r.tsMs, r.linktype ?? linktype);
    if (e) out.push(e);
  }
  return out.sort((a, b) => a.tsMs - b.tsMs);
}

const COOKED_TYPES: readonly CookedPacketType[] = ['host', 'broadcast', 'multicast', 'otherhost', 'outgoing'];

/** A Linux cooked capture's packet type (who the frame was for, or sent by this host); undefined for other links. */
function cookedPacketType(f: Frame): CookedPacketType | undefined {
  return f.cooked ? COOKED_TYPES[f.cooked.pktType] : undefined;
}

export interface CaptureProbes {
  probes: Probe[];
  intervalMs: number;
  client?: { ip: string; mac: string };
  /** the pinger's echo stream (its sequence step tells Windows' ping from Linux's) */
  pinger?: EchoStream;
  /** echo requests to the VIP from other senders or identifiers (traceroute, a second ping, monitoring): set apart */
  otherEchoStreams: EchoStream[];
}

/**
 * Probes from a capture (for --read): the whole run through a ProbeMatcher (echo requests to the VIP paired
 * with replies by identifier and sequence; the steady sender is the pinger). Send and reply times are the
 * capture's (kernel) timestamps.
 */
export function probesFromCapture(vip: string, wire: Iterable<WireEvent>, opts: ProbeMatcherOptions = {}): CaptureProbes {
  const m = new ProbeMatcher(vip, opts);
  const probes: Probe[] = [];
  for (const e of wire) for (const p of m.push(e)) probes.push(p);
  for (const p of m.finish()) probes.push(p);
  const pinger = m.pinger;
  if (!pinger || probes.length === 0) return { probes: [], intervalMs: 0, otherEchoStreams: m.otherStreams() };
  return { probes, intervalMs: pinger.intervalMs, client: pinger.client, pinger: pinger.stream, otherEchoStreams: m.otherStreams() };
}
