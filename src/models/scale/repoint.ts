/**
 * The scale bench's truth, independent of hadiag: from one capture on the lab's bridge, the moment each client
 * re-pointed a VIP at the new holder — its first frame to the new holder's MAC after the fault: IPv4 traffic to
 * the VIP, or an ARP reply to a request the new holder sent from the VIP (a directed request updates the
 * client's entry and is answered at once). Also counted: the ARP frames the new holder sent after the fault
 * (its announcements, directed requests and answers), and the largest cluster datagram each server sent
 * (udp/694: Heartbeat's messages and run-node's client book). Fed one decoded frame at a time; bounded by the
 * number of clients.
 */
import type { Frame } from '../../codecs/decode.js';

export interface RepointOptions {
  /** the new holder's MAC (lower case) */
  newMac: string;
  /** the VIPs the clients talk to */
  vips: readonly string[];
  /** the clients measured (IPv4 addresses) */
  clients: readonly string[];
  /** cluster messages are counted on this UDP port */
  clusterPort?: number;
}

export interface RepointSummary {
  faultMs: number;
  clients: number;
  repointed: number;
  /** ms from the fault, per client that re-pointed, in client order */
  repointMs: Map<string, number>;
  /** ARP frames from the new holder after the fault */
  framesSent: number;
  /** ms from the fault to the new holder's first ARP frame (detection and the takeover up to its first announcement) */
  firstFrameMs?: number;
  /** the largest udp/694 payload seen per source MAC */
  clusterMaxDatagram: Map<string, number>;
}

export class RepointTracker {
  private faultMs?: number;
  private readonly clients: Set<string>;
  private readonly vips: Set<string>;
  private readonly firstMs = new Map<string, number>();
  private framesSent = 0;
  private firstFrameMs?: number;
  private readonly clusterMax = new Map<string, number>();

  constructor(private readonly o: RepointOptions) {
    this.clients = new Set(o.clients);
    this.vips = new Set(o.vips);
  }

  /** The fault happened at `tsMs` (epoch ms): frames before it do not count. */
  fault(tsMs: number): void {
    this.faultMs = tsMs;
  }

  get done(): boolean {
    return this.firstMs.size === this.clients.size;
  }

  feed(f: Frame, tsMs: number): void {
    const eth = f.eth;
    if (!eth) return;
    if (f.udp && (f.udp.srcPort === (this.o.clusterPort ?? 694) || f.udp.dstPort === (this.o.clusterPort ?? 694))) {
      const len = f.udp.payload.length;
      if (len > (this.clusterMax.get(eth.src) ?? 0)) this.clusterMax.set(eth.src, len);
    }
    if (this.faultMs === undefined || tsMs < this.faultMs) return;
    if (eth.src === this.o.newMac) {
      if (f.arp) {
        this.framesSent++;
        this.firstFrameMs ??= tsMs - this.faultMs;
      }
      return;
    }
    if (eth.dst !== this.o.newMac) return;
    const client = f.ipv4 && this.vips.has(f.ipv4.dst) ? f.ipv4.src : f.arp && f.arp.op === 2 && this.vips.has(f.arp.targetIp) ? f.arp.senderIp : undefined;
    if (client && this.clients.has(client) && !this.firstMs.has(client)) this.firstMs.set(client, tsMs - this.faultMs);
  }

  summary(): RepointSummary {
    const repointMs = new Map<string, number>();
    for (const c of this.o.clients) {
      const t = this.firstMs.get(c);
      if (t !== undefined) repointMs.set(c, t);
    }
    return { faultMs: this.faultMs ?? NaN, clients: this.clients.size, repointed: repointMs.size, repointMs, framesSent: this.framesSent, ...(this.firstFrameMs !== undefined ? { firstFrameMs: this.firstFrameMs } : {}), clusterMaxDatagram: new Map(this.clusterMax) };
  }
}
