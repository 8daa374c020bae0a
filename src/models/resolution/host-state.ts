/**
 * What decides ARP acceptance and recovery on one interface of a host, as data: sysctls, neighbour entries,
 * the interface, the ARP firewall; and the arithmetic on them (how long a dead MAC is kept). Pure: the
 * effects layer (effects/io/host-neigh.ts) reads these from /proc/sys, `ip -json` and `nft -j`.
 */
import type { NeighState } from './accept-model.js';
import type { ArpRuleset } from './nft-arp-filter.js';
import { inSubnet } from '../../codecs/ipv4-address.js';

export interface NeighSysctls {
  iface: string;
  /** effective values (the kernel combines conf/all and conf/IF: max for arp_accept/ignore/announce, or for drop_gratuitous_arp) */
  arpAccept: number;
  arpIgnore: number;
  arpAnnounce: number;
  dropGratuitousArp: boolean;
  baseReachableTimeMs: number;
  delayFirstProbeTimeMs: number;
  retransTimeMs: number;
  ucastSolicit: number;
  mcastSolicit: number;
  mcastResolicit: number;
  locktimeMs: number;
  gcStaleTimeMs: number;
}

export interface RecoveryBound {
  /** reachable time is base × random[0.5, 1.5) */
  reachableMinMs: number;
  reachableMaxMs: number;
  /** the range of time a client keeps a dead MAC when no ARP is accepted */
  minMs: number;
  maxMs: number;
  explain: string;
}

/**
 * How long this host keeps using a dead MAC if no announcement is accepted: the entry stays REACHABLE for
 * up to 1.5 × base_reachable_time, then DELAY (delay_first_probe_time), then ucast_solicit unicast probes
 * retrans_time apart, then a broadcast the new owner answers at once. Pure.
 */
export function deadMacBound(s: Pick<NeighSysctls, 'baseReachableTimeMs' | 'delayFirstProbeTimeMs' | 'ucastSolicit' | 'retransTimeMs'>): RecoveryBound {
  const reachableMinMs = s.baseReachableTimeMs * 0.5;
  const reachableMaxMs = s.baseReachableTimeMs * 1.5;
  const tail = s.delayFirstProbeTimeMs + s.ucastSolicit * s.retransTimeMs;
  const sec = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
  return {
    reachableMinMs,
    reachableMaxMs,
    minMs: tail,
    maxMs: reachableMaxMs + tail,
    explain: `reachable up to ${sec(reachableMaxMs)} (1.5 × base_reachable_time ${sec(s.baseReachableTimeMs)}) + delay_first_probe ${sec(s.delayFirstProbeTimeMs)} + ucast_solicit ${s.ucastSolicit} × retrans ${sec(s.retransTimeMs)}`,
  };
}

export interface NeighEntry {
  ip: string;
  state: NeighState;
  mac?: string;
  /** seconds since the entry last changed, as the kernel reports it (whole seconds) */
  updatedS?: number;
  confirmedS?: number;
  usedS?: number;
  probes?: number;
  router?: boolean;
}

/**
 * ms since the entry last changed, from the kernel's whole-second counter: exact enough outside locktime;
 * `undefined` when it cannot tell (1 s reported: between 1000 and 2000 ms).
 */
export function msSinceUpdateEstimate(e: NeighEntry, locktimeMs = 1000): number | undefined {
  if (e.updatedS === undefined) return undefined;
  const lo = e.updatedS * 1000;
  const hi = lo + 1000;
  if (hi <= locktimeMs) return lo + 500; // surely inside
  if (lo > locktimeMs) return lo + 500; // surely outside
  return undefined;
}

export interface IfaceInfo {
  iface: string;
  mac: string;
  up: boolean;
  ipv4: { ip: string; prefixLen: number }[];
}

export interface ArpFirewall {
  /** nft is installed and could be read */
  available: boolean;
  ruleset: ArpRuleset;
  /** why it could not be read */
  note?: string;
}

/** Is `ip` inside one of the interface's IPv4 subnets? (arp_accept=2 only accepts those) */
export function onLink(ip: string, info: IfaceInfo): boolean {
  return info.ipv4.some((a) => inSubnet(ip, a.ip, a.prefixLen));
}
