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

/**
 * The IPv6 side of one interface (net.ipv6.conf.IF.* and net.ipv6.neigh.IF.*). The kernel reads each of these
 * per interface (idev->cnf): conf/all is not combined with them (writing conf/all/forwarding sets every
 * interface's).
 */
export interface NdSysctls {
  iface: string;
  disableIpv6: boolean;
  forwarding: boolean;
  dropUnsolicitedNa: boolean;
  /** undefined: this kernel has no accept_untracked_na (< 5.18) */
  acceptUntrackedNa?: number;
  /** send an unsolicited NA when the link comes up or an address is added (a server-side setting) */
  ndiscNotify: boolean;
  acceptDad: number;
  dadTransmits: number;
  /** NAs the kernel sends carry a target link-layer option even when solicited by unicast */
  forceTllao: boolean;
  baseReachableTimeMs: number;
  delayFirstProbeTimeMs: number;
  retransTimeMs: number;
  ucastSolicit: number;
  mcastSolicit: number;
  mcastResolicit: number;
  gcStaleTimeMs: number;
}

export interface Ipv6Addr {
  ip: string;
  prefixLen: number;
  tentative?: boolean;
  dadfailed?: boolean;
  nodad?: boolean;
  scope?: string;
}

const NUD6 = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'INCOMPLETE', 'PERMANENT', 'NOARP', 'NONE']);
const TS = /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\]\s*/;

/**
 * One line of `ip -ts monitor neigh` (TZ=UTC) about an IPv6 address (IPv4 lines are the measure layer's):
 *   [2026-12-07T23:40:01.123456] 2001:db8::20 dev eth0 lladdr 02:48:44:00:00:12 router STALE
 * undefined for anything else.
 */
export function parseNeigh6Line(line: string, arrivalTsMs: number): { ip: string; state: NeighState; mac?: string; router: boolean; deleted: boolean; tsMs: number } | undefined {
  let text = line.trim();
  let tsMs = arrivalTsMs;
  const m = TS.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, us] = m;
    tsMs = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!) + Number(us) / 1000;
    text = text.slice(m[0].length);
  }
  const tokens = text.split(/\s+/).filter(Boolean);
  let deleted = false;
  while (tokens[0] === 'Deleted' || tokens[0] === 'miss' || tokens[0] === 'delete') {
    if (tokens[0] !== 'miss') deleted = true;
    tokens.shift();
  }
  const ip = tokens[0];
  if (!ip || !ip.includes(':') || !/^[0-9a-fA-F:.]+$/.test(ip)) return undefined;
  let mac: string | undefined;
  let state: NeighState | undefined;
  let router = false;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === 'lladdr' && tokens[i + 1]) mac = tokens[++i]!.toLowerCase();
    else if (t === 'dev') i++;
    else if (t === 'router') router = true;
    else if (!state && NUD6.has(t)) state = t as NeighState;
  }
  return { ip: ip.toLowerCase(), state: deleted ? 'NONE' : (state ?? 'NONE'), mac: deleted ? undefined : mac, router, deleted, tsMs };
}
