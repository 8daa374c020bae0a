import { decodeFrame, LINKTYPE_ETHERNET } from '../../codecs/decode.js';
import type { Probe, WireEvent } from './events.js';
import { fillSendTimes } from './ping-lines.js';

export const HEARTBEAT_PORT = 694;
export const IPPROTO_VRRP = 112;

/** The BPF filter of what measure-failover captures: ARP, ICMP, Heartbeat (UDP 694) and VRRP. */
export const CAPTURE_FILTER = 'arp or icmp or udp port 694 or ip proto 112';

/** Reduce one captured frame to the event the analysis needs, or undefined for anything else. */
export function wireEventOf(data: Buffer, tsMs: number, linktype = LINKTYPE_ETHERNET, heartbeatPort = HEARTBEAT_PORT): WireEvent | undefined {
  const f = decodeFrame(data, linktype);
  const srcMac = f.eth?.src ?? '';
  const dstMac = f.eth?.dst ?? '';
  if (f.arp && (f.arp.op === 1 || f.arp.op === 2)) {
    const a = f.arp;
    return { kind: 'arp', tsMs, op: a.op === 1 ? 'request' : 'reply', srcMac, dstMac, senderMac: a.senderMac, senderIp: a.senderIp, targetMac: a.targetMac, targetIp: a.targetIp };
  }
  if (!f.ipv4) return undefined;
  if (f.icmp && (f.icmp.type === 8 || f.icmp.type === 0)) {
    const e: WireEvent = { kind: 'icmp', tsMs, type: f.icmp.type === 8 ? 'echo-request' : 'echo-reply', srcMac, dstMac, srcIp: f.ipv4.src, dstIp: f.ipv4.dst };
    if (f.icmp.id !== undefined) e.id = f.icmp.id;
    if (f.icmp.seq !== undefined) e.seq = f.icmp.seq;
    return e;
  }
  if (f.udp && (f.udp.srcPort === heartbeatPort || f.udp.dstPort === heartbeatPort)) {
    return { kind: 'cluster', tsMs, proto: 'heartbeat', srcMac, srcIp: f.ipv4.src, dstIp: f.ipv4.dst };
  }
  if (f.ipv4.proto === IPPROTO_VRRP) return { kind: 'cluster', tsMs, proto: 'vrrp', srcMac, srcIp: f.ipv4.src, dstIp: f.ipv4.dst };
  return undefined;
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

/**
 * Probes from a capture (for --read): echo requests from the client to the VIP paired with the replies of the
 * same id/seq. The busiest echo id toward the VIP is taken as the prober. Send and reply times are the
 * capture's (kernel) timestamps.
 */
export function probesFromCapture(vip: string, wire: WireEvent[]): { probes: Probe[]; intervalMs: number; client?: { ip: string; mac: string } } {
  const reqs = wire.filter((e): e is Extract<WireEvent, { kind: 'icmp' }> => e.kind === 'icmp' && e.type === 'echo-request' && e.dstIp === vip);
  if (reqs.length === 0) return { probes: [], intervalMs: 0 };
  const ids = new Map<number, number>();
  for (const r of reqs) ids.set(r.id ?? -1, (ids.get(r.id ?? -1) ?? 0) + 1);
  const id = [...ids].sort((a, b) => b[1] - a[1])[0]![0];
  const mine = reqs.filter((r) => (r.id ?? -1) === id);
  const replies = wire.filter((e): e is Extract<WireEvent, { kind: 'icmp' }> => e.kind === 'icmp' && e.type === 'echo-reply' && e.srcIp === vip && (e.id ?? -1) === id);
  const probes: Probe[] = [];
  const open = new Map<number, Probe>();
  let wraps = 0;
  let lastRaw = -1;
  for (const r of mine) {
    const raw = r.seq ?? 0;
    if (lastRaw >= 0 && raw < lastRaw && lastRaw - raw > 32768) wraps++;
    lastRaw = raw;
    const p: Probe = { seq: wraps * 65536 + raw, sentTsMs: r.tsMs, sentEstimated: false };
    probes.push(p);
    open.set(raw, p); // a retransmission of the same seq is not expected from ping; the newest wins
  }
  for (const r of replies) {
    const p = open.get(r.seq ?? 0);
    if (p && p.replyTsMs === undefined && r.tsMs >= p.sentTsMs!) {
      p.replyTsMs = r.tsMs;
      p.replyMac = r.srcMac;
    }
  }
  // Probes the kernel never put on the wire (dropped from a full unresolved-neighbour queue) leave seq holes.
  const full: Probe[] = [];
  for (const p of probes) {
    const prev = full[full.length - 1];
    if (prev) for (let s = prev.seq + 1; s < p.seq && p.seq - prev.seq < 100_000; s++) full.push({ seq: s });
    full.push(p);
  }
  const gaps = mine.slice(1).map((r, i) => r.tsMs - mine[i]!.tsMs).sort((a, b) => a - b);
  const intervalMs = gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 0;
  fillSendTimes(full, intervalMs);
  return { probes: full, intervalMs, client: { ip: mine[0]!.srcIp, mac: mine[0]!.srcMac } };
}
