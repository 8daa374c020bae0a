import type { NdMessage } from '../../codecs/nd.js';
/**
 * Event types of measure-failover. Every timestamp is `tsMs`: epoch milliseconds as a float (µs resolution).
 * Where a timestamp came from is part of the event (`src`), so reports can state their precision.
 */

/** One line of `ping -D -O -n` output that matters. */
export type PingLine =
  | { kind: 'reply'; tsMs: number; seq: number; rttMs?: number; from: string; dup: boolean }
  | { kind: 'pending'; tsMs: number; seq: number } // "no answer yet for icmp_seq=N" (may still be answered late)
  | { kind: 'error'; tsMs: number; seq: number; from: string; text: string }; // "From X icmp_seq=N Destination Host Unreachable"

/** One `ip monitor neigh` event for an IPv4 or IPv6 neighbour. */
export interface NeighEvent {
  tsMs: number;
  /** 'ip-ts': `ip -ts` stamp (ip's gettimeofday when it read the netlink message); 'arrival': stamped by hadiag on reading the line. */
  src: 'ip-ts' | 'arrival';
  ip: string;
  dev?: string;
  lladdr?: string;
  /** Upper-case NUD states as printed, e.g. ['REACHABLE'], ['STALE'], ['FAILED'], ['INCOMPLETE']. */
  states: string[];
  deleted: boolean;
  /** IPv6: the entry's router flag */
  router?: boolean;
  raw: string;
}

export type NeighState = 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'INCOMPLETE' | 'PERMANENT' | 'NOARP' | 'NONE';

/**
 * Linux cooked captures (`tcpdump -i any`) carry no destination MAC; instead the kernel's packet type says who
 * the frame was for ('host': this host's MAC), or 'outgoing': this host sent it.
 */
export type CookedPacketType = 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing';

/** What the capture saw, reduced to what the analysis needs. */
export type WireEvent =
  | {
      kind: 'arp';
      tsMs: number;
      op: 'request' | 'reply';
      srcMac: string; // Ethernet source
      dstMac: string; // Ethernet destination
      senderMac: string;
      senderIp: string;
      targetMac: string;
      targetIp: string;
      /** Linux cooked captures only (dstMac is then '' unless broadcast) */
      pktType?: CookedPacketType;
      /**
       * IPv6: this event is a neighbour-discovery message read as its ARP counterpart (an NA as a reply whose
       * sender is the NA's target, an NS as a request; a multicast destination MAC as broadcast). The ND
       * message and its IPv6 header, for the kernel's verdict (models/resolution/nd-accept-model.ts).
       */
      nd?: NdFrame;
    }
  | {
      kind: 'icmp';
      tsMs: number;
      type: 'echo-request' | 'echo-reply';
      srcMac: string;
      dstMac: string;
      srcIp: string;
      dstIp: string;
      id?: number;
      seq?: number;
      /** Linux cooked captures only (dstMac is then '' unless broadcast) */
      pktType?: CookedPacketType;
    }
  | { kind: 'cluster'; tsMs: number; proto: 'heartbeat' | 'vrrp'; srcMac: string; srcIp: string; dstIp: string; vrrp?: VrrpAdvert };

/** A neighbour-discovery message as captured (IPv6 runs). */
export interface NdFrame {
  msg: NdMessage;
  src: string;
  dst: string;
  hopLimit: number;
  /** the Ethernet destination as sent ('' in a cooked capture) */
  ethDst: string;
}

/** What a VRRP advertisement says about its sender's timers (RFC 3768 v2: seconds; RFC 5798 v3: centiseconds). */
export interface VrrpAdvert {
  version: number;
  vrid: number;
  priority: number;
  /** the advertisement interval it announces (ms) */
  intervalMs: number;
}

/** One probe as the analysis sees it, whatever produced it (ping output or captured echo pairs). */
export interface Probe {
  seq: number; // unwrapped (monotonic) sequence number
  sentTsMs?: number; // known (capture, or reply time − rtt) or estimated
  sentEstimated?: boolean;
  replyTsMs?: number;
  replyMac?: string;
  /** 'capture': a time was replaced by the kernel timestamp of the captured echo request/reply */
  timesFrom?: 'capture';
}

/** The Ethernet broadcast address, as WireEvent MACs spell it. */
export const BROADCAST = 'ff:ff:ff:ff:ff:ff';

export type ArpEvent = Extract<WireEvent, { kind: 'arp' }>;
export type IcmpEvent = Extract<WireEvent, { kind: 'icmp' }>;

/** Did this host send the frame? A cooked capture says so; otherwise the source MAC is this host's. */
export function sentByHost(e: ArpEvent | IcmpEvent, hostMac: string | undefined): boolean {
  if (e.pktType !== undefined) return e.pktType === 'outgoing';
  return hostMac !== undefined && e.srcMac === hostMac;
}

/** The destination MAC as far as the capture tells it ('' = unknown: a frame this host sent, in a cooked capture). */
export function dstMacOf(e: ArpEvent | IcmpEvent, hostMac: string | undefined): string {
  if (e.dstMac) return e.dstMac;
  if (e.pktType === 'host' && hostMac) return hostMac;
  return '';
}
