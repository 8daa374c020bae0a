/**
 * This host's ARP state as garp-check tracks it while watching: sysctls, own addresses, ARP firewall and the
 * neighbour table. `predict` asks the acceptance model about a frame *before* applying it; `apply` moves the
 * tracked entry the way the prediction says; `observe` replaces it with what the kernel reported. Pure.
 */
import { predictArp, type HostArpState, type NeighState, type Prediction } from './accept-model.js';
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
}

export interface TrackedEntry {
  state: NeighState;
  mac?: string;
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
  observe(ip: string, e: { state: NeighState; mac?: string }, readMs: number, sinceMs?: number): void {
    const prev = this.entries.get(ip);
    const changed = !prev || prev.state !== e.state || prev.mac !== e.mac;
    // keep our own, more precise change time while the entry is as we tracked it
    const changedMs = !changed && prev?.changedMs !== undefined ? prev.changedMs : sinceMs !== undefined ? readMs - sinceMs : undefined;
    this.entries.set(ip, { state: e.state, mac: e.mac, changedMs, readMs });
  }

  private onLink(ip: string): boolean {
    return this.facts.ipv4.some((a) => {
      const mask = a.prefixLen === 0 ? 0 : (0xffffffff << (32 - a.prefixLen)) >>> 0;
      return ((ipNum(ip) & mask) >>> 0) === ((ipNum(a.ip) & mask) >>> 0);
    });
  }

  /** The kernel's expected reaction to this frame, from the tracked state before it. */
  predict(f: Frame, tsMs: number): Prediction | undefined {
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

  /** Move the tracked entry as predicted. */
  apply(ip: string, p: Prediction, tsMs: number): void {
    if (p.outcome === 'ignore') return;
    const prev = this.entry(ip);
    const changed = prev.state !== p.stateAfter || prev.mac !== p.macAfter;
    this.entries.set(ip, { state: p.stateAfter, mac: p.macAfter, changedMs: changed ? tsMs : prev.changedMs, readMs: prev.readMs });
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
