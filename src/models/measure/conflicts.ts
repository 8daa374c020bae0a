import { BROADCAST, type ArpEvent, type WireEvent } from './events.js';

/** Sent to everyone; in a cooked capture a request this host sent shows no destination and is taken as broadcast. */
const isBroadcast = (e: ArpEvent) => e.dstMac === BROADCAST || (e.dstMac === '' && e.pktType === 'outgoing');

/** Two MACs claiming the VIP at the same time (split brain / duplicate address), as this host saw it. */
export interface VipConflict {
  tsMs: number;
  macs: string[];
  evidence: string;
}

/**
 * Find moments when the VIP had two owners: one ARP request for the VIP answered by two different MACs, or
 * VRRP advertisements from two routers interleaving (only the master advertises, so two at once = two masters).
 * Heartbeat's own traffic is not used: both nodes always send it.
 */
export function findVipConflicts(vip: string, wire: readonly WireEvent[], windowMs = 1000): VipConflict[] {
  const out: VipConflict[] = [];
  const arps = wire.filter((e): e is Extract<WireEvent, { kind: 'arp' }> => e.kind === 'arp');
  let lastReported = -Infinity;
  for (let i = 0; i < arps.length; i++) {
    const req = arps[i]!;
    if (req.op !== 'request' || req.targetIp !== vip || req.senderIp === vip || !isBroadcast(req)) continue;
    const macs = new Set<string>();
    // time-ordered: only the replies within the window after the request are looked at
    for (let j = i + 1; j < arps.length && arps[j]!.tsMs <= req.tsMs + windowMs; j++) {
      const r = arps[j]!;
      if (r.tsMs >= req.tsMs && r.op === 'reply' && r.senderIp === vip && r.targetIp === req.senderIp) macs.add(r.senderMac);
    }
    if (macs.size >= 2 && req.tsMs - lastReported > windowMs) {
      out.push({ tsMs: req.tsMs, macs: [...macs].sort(), evidence: `ARP request for ${vip} from ${req.senderIp} answered by ${[...macs].sort().join(' and ')}` });
      lastReported = req.tsMs;
    }
  }
  const vrrp = wire.filter((e): e is Extract<WireEvent, { kind: 'cluster' }> => e.kind === 'cluster' && e.proto === 'vrrp').sort((a, b) => a.tsMs - b.tsMs);
  // alternating sources within the window, three times in a row: both send adverts, not a handover
  let alternations = 0;
  for (let i = 1; i < vrrp.length; i++) {
    const a = vrrp[i - 1]!;
    const b = vrrp[i]!;
    if (a.srcIp !== b.srcIp && b.tsMs - a.tsMs <= windowMs) alternations++;
    else if (a.srcIp === b.srcIp && b.tsMs - a.tsMs <= windowMs) alternations = Math.max(0, alternations - 1);
    if (alternations >= 3) {
      if (b.tsMs - lastReported > 5 * windowMs) {
        out.push({ tsMs: b.tsMs, macs: [a.srcMac, b.srcMac].sort(), evidence: `VRRP advertisements from both ${a.srcIp} and ${b.srcIp}: two masters` });
        lastReported = b.tsMs;
      }
      alternations = 0;
    }
  }
  return out.sort((x, y) => x.tsMs - y.tsMs);
}
