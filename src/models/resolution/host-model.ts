/**
 * This host's ARP and neighbour-discovery state as garp-check tracks it while watching: sysctls, own
 * addresses, ARP firewall and the neighbour table (IPv4 and IPv6 entries by address). `predict` asks the acceptance model about a frame *before* applying it; `apply` moves the
 * tracked entry the way the prediction says; `observe` replaces it with what the kernel reported. Pure.
 */
import { predictArp, type HostArpState, type NeighState, type Prediction } from './accept-model.js';
import { inPrefix6, predictNd, type HostNdState, type NdPrediction } from './nd-accept-model.js';
import { evaluateArpFilter, type ArpRuleset } from './nft-arp-filter.js';
import type { Frame } from '../../codecs/decode.js';

export interface HostFacts {
  iface: string;
  mac: string;
  ipv4: { ip: string; prefixLen: number }[];
  arpAccept: number;
  arpIgnore: number;
  dropGratuitousArp: boolean;
  locktimeMs: number;
  ruleset?: ArpRuleset;
  /** IPv6 addresses of the interface (tentative: still in DAD) */
  ipv6?: { ip: string; prefixLen: number; tentative?: boolean }[];
  /** the interface's IPv6 neighbour-discovery sysctls (absent: IPv6 predictions are not made) */
  nd?: { forwarding: boolean; dropUnsolicitedNa: boolean; acceptUntrackedNa?: number };
}

export interface TrackedEntry {
  state: NeighState;
  mac?: string;
  /** IPv6: the entry's router flag */
  router?: boolean;
  /** epoch ms of the last change, when known */
  changedMs?: number;
  /** ms since the last change at the time it was read (kernel whole seconds, may be undefined) */
  sinceMsAtRead?: number;
  readMs?: number;
}

const ipNum = (ip: string) => ip.split('.').reduce((a, x) => ((a << 8) | Number(x)) >>> 0, 0);

export class HostModel {
  readonly facts: HostFacts;
  private readonly entries = new Map<string, TrackedEntry>();

  constructor(facts: HostFacts) {
    this.facts = facts;
  }

  entry(ip: string): TrackedEntry {
    return this.entries.get(ip) ?? { state: 'NONE' };
  }

  /** Set an entry as read from the kernel at `readMs` (`sinceMs` = its age then, if known). */
  observe(ip: string, e: { state: NeighState; mac?: string; router?: boolean }, readMs: number, sinceMs?: number): void {
    const prev = this.entries.get(ip);
    const changed = !prev || prev.state !== e.state || prev.mac !== e.mac;
    // keep our own, more precise change time while the entry is as we tracked it
    const changedMs = !changed && prev?.changedMs !== undefined ? prev.changedMs : sinceMs !== undefined ? readMs - sinceMs : undefined;
    const router = e.router ?? (changed ? undefined : prev?.router);
    this.entries.set(ip, { state: e.state, mac: e.mac, ...(router !== undefined ? { router } : {}), changedMs, readMs });
  }

  /** The address whose entry a frame is about: an ARP sender, an NA's target, an NS's source. */
  subjectOf(f: Frame): string | undefined {
    if (f.arp) return f.arp.senderIp;
    if (f.nd && f.ipv6) return f.nd.kind === 'na' ? f.nd.target : f.ipv6.src;
    return undefined;
  }

  private onLink(ip: string): boolean {
    return this.facts.ipv4.some((a) => {
      const mask = a.prefixLen === 0 ? 0 : (0xffffffff << (32 - a.prefixLen)) >>> 0;
      return ((ipNum(ip) & mask) >>> 0) === ((ipNum(a.ip) & mask) >>> 0);
    });
  }

  /** The kernel's expected reaction to this frame, from the tracked state before it. */
  predict(f: Frame, tsMs: number): Prediction | undefined {
    if (f.nd) return this.predictNd(f);
    if (!f.arp || !f.eth) return undefined;
    if (f.eth.src === this.facts.mac) return undefined; // sent by this host: its own kernel does not process it
    const e = this.entry(f.arp.senderIp);
    const state: HostArpState = {
      hostMac: this.facts.mac,
      hostIps: this.facts.ipv4.map((a) => a.ip),
      arpAccept: this.facts.arpAccept,
      arpIgnore: this.facts.arpIgnore,
      dropGratuitousArp: this.facts.dropGratuitousArp,
      firewall: this.facts.ruleset ? evaluateArpFilter(this.facts.ruleset, f.arp, f.eth, this.facts.iface) : undefined,
      senderOnLink: this.onLink(f.arp.senderIp),
      entry: { state: e.state, mac: e.mac },
      msSinceUpdate: e.changedMs !== undefined ? tsMs - e.changedMs : undefined,
      locktimeMs: this.facts.locktimeMs,
    };
    return predictArp(f.arp, f.eth.dst, state);
  }

  /** The kernel's expected reaction to an NA or NS (undefined: no IPv6 facts, or sent by this host). */
  private predictNd(f: Frame): NdPrediction | undefined {
    const nd = this.facts.nd;
    if (!nd || !f.nd || !f.ipv6 || !f.eth || f.eth.src === this.facts.mac) return undefined;
    const v6 = this.facts.ipv6 ?? [];
    const ip = this.subjectOf(f)!;
    const e = this.entry(ip);
    const state: HostNdState = {
      hostMac: this.facts.mac,
      hostIps: v6.map((a) => a.ip),
      tentativeIps: v6.filter((a) => a.tentative).map((a) => a.ip),
      forwarding: nd.forwarding,
      dropUnsolicitedNa: nd.dropUnsolicitedNa,
      acceptUntrackedNa: nd.acceptUntrackedNa,
      sourceOnLink: v6.some((a) => inPrefix6(f.ipv6!.src, a.ip, a.prefixLen)),
      entry: { state: e.state, mac: e.mac, router: e.router },
    };
    return predictNd(f.nd, f.ipv6, f.eth.dst, state);
  }

  /** Move the tracked entry as predicted. */
  apply(ip: string, p: Prediction, tsMs: number): void {
    if (p.outcome === 'ignore') return;
    const prev = this.entry(ip);
    const changed = prev.state !== p.stateAfter || prev.mac !== p.macAfter;
    const router = 'routerAfter' in p ? (p as NdPrediction).routerAfter : prev.router;
    this.entries.set(ip, { state: p.stateAfter, mac: p.macAfter, ...(router !== undefined ? { router } : {}), changedMs: changed ? tsMs : prev.changedMs, readMs: prev.readMs });
  }
}

/** A stock Linux client (defaults) whose entry for the VIP points at another MAC, last updated long ago. */
export function stockClientFacts(clientMac = '02:00:00:00:00:fe', clientIp = '192.0.2.254'): HostFacts {
  return { iface: 'eth0', mac: clientMac, ipv4: [{ ip: clientIp, prefixLen: 24 }], arpAccept: 0, arpIgnore: 0, dropGratuitousArp: false, locktimeMs: 1000 };
}

/**
 * What a stock Linux client (arp_accept 0, no firewall) would do with a frame: with its entry for the sender IP
 * pointing at another MAC (the failover case, outside locktime) and with no entry. For a directed request or
 * a reply to one host, the client is that host.
 */
export function stockClientVerdicts(f: Frame): { withEntry: Prediction; noEntry: Prediction } | undefined {
  if (f.nd) return stockNdVerdicts(f);
  if (!f.arp || !f.eth) return undefined;
  const a = f.arp;
  const aimed = a.senderIp !== a.targetIp && a.targetIp !== '0.0.0.0';
  const unicast = (m: string) => m !== '' && m !== 'ff:ff:ff:ff:ff:ff' && m !== '00:00:00:00:00:00' && (parseInt(m.slice(0, 2), 16) & 1) === 0;
  const clientMac = unicast(f.eth.dst) ? f.eth.dst : aimed && unicast(a.targetMac) ? a.targetMac : '02:00:00:00:00:fe';
  const clientIp = aimed ? a.targetIp : '192.0.2.254';
  const base: HostArpState = {
    hostMac: clientMac,
    hostIps: [clientIp],
    arpAccept: 0,
    dropGratuitousArp: false,
    senderOnLink: true,
    entry: { state: 'REACHABLE', mac: a.senderMac === '02:00:00:00:00:fd' ? '02:00:00:00:00:fc' : '02:00:00:00:00:fd' },
    msSinceUpdate: 10_000,
    locktimeMs: 1000,
  };
  return { withEntry: predictArp(a, f.eth.dst, base), noEntry: predictArp(a, f.eth.dst, { ...base, entry: { state: 'NONE' } }) };
}

/**
 * The same for an NA or NS: a stock Linux client (forwarding 0, drop_unsolicited_na 0, accept_untracked_na 0)
 * whose entry for the advertised address points at another MAC (REACHABLE) and with no entry. For an NS, or an
 * NA sent to one host, the client is that host.
 */
function stockNdVerdicts(f: Frame): { withEntry: Prediction; noEntry: Prediction } | undefined {
  if (!f.nd || !f.ipv6 || !f.eth) return undefined;
  const nd = f.nd;
  const unicastEth = f.eth.dst !== '' && (parseInt(f.eth.dst.slice(0, 2), 16) & 1) === 0;
  const multicastDst = /^ff/i.test(f.ipv6.dst);
  const clientIp = nd.kind === 'ns' ? nd.target : !multicastDst ? f.ipv6.dst : '2001:db8::fe';
  const clientMac = unicastEth ? f.eth.dst : '02:00:00:00:00:fe';
  const taught = nd.kind === 'na' ? nd.targetLinkAddr : nd.sourceLinkAddr;
  const base: HostNdState = {
    hostMac: clientMac,
    hostIps: [clientIp],
    forwarding: false,
    dropUnsolicitedNa: false,
    acceptUntrackedNa: 0,
    entry: { state: 'REACHABLE', mac: taught === '02:00:00:00:00:fd' ? '02:00:00:00:00:fc' : '02:00:00:00:00:fd' },
  };
  return { withEntry: predictNd(nd, f.ipv6, f.eth.dst, base), noEntry: predictNd(nd, f.ipv6, f.eth.dst, { ...base, entry: { state: 'NONE' } }) };
}
