/**
 * The host audit garp-check prints first: what decides acceptance and recovery on this interface, and the
 * worst case this host keeps a dead MAC (`buildAudit` for ARP, `buildAudit6` for IPv6 neighbour discovery).
 * Pure: built from what effects/io/host-neigh.ts read.
 */
import { deadMacBound, type ArpFirewall, type IfaceInfo, type Ipv6Addr, type NdSysctls, type NeighEntry, type NeighSysctls, type RecoveryBound } from './host-state.js';
import { buildGarp } from '../../codecs/arp.js';
import { decodeFrame } from '../../codecs/decode.js';
import { describeRuleset, evaluateArpFilter, type FilterVerdict } from './nft-arp-filter.js';

export interface HostAudit {
  iface: string;
  mac: string;
  addresses: string[];
  up: boolean;
  sysctls: NeighSysctls;
  firewall: { available: boolean; note?: string; rules: string[]; garpRequest?: FilterVerdict; garpReply?: FilterVerdict };
  vip?: string;
  entry?: NeighEntry;
  deadMac: RecoveryBound;
  /** things that make a failover slow or make this host ignore announcements */
  risks: string[];
  notes: string[];
}

export function buildAudit(a: { sysctls: NeighSysctls; iface: IfaceInfo; firewall: ArpFirewall; vip?: string; entry?: NeighEntry }): HostAudit {
  const s = a.sysctls;
  const risks: string[] = [];
  const notes: string[] = [];
  const deadMac = deadMacBound(s);
  const sec = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
  const fw: HostAudit['firewall'] = { available: a.firewall.available, note: a.firewall.note, rules: describeRuleset(a.firewall.ruleset) };
  if (a.vip) {
    const probeMac = '02:00:00:00:00:fd';
    for (const [key, form] of [['garpRequest', 'request'], ['garpReply', 'reply']] as const) {
      const f = decodeFrame(buildGarp(form, { vip: a.vip, mac: probeMac }));
      const v = evaluateArpFilter(a.firewall.ruleset, f.arp!, f.eth!, a.iface.iface);
      fw[key] = v;
      if (v.verdict !== 'accept') risks.push(`the ARP firewall ${v.verdict === 'drop' ? 'drops' : 'may drop'} a GARP ${form} for ${a.vip} (${v.rule}): announcements cannot reach the kernel`);
    }
  } else if (fw.rules.length) {
    notes.push('ARP firewall rules exist; give --vip to check whether they drop announcements for it');
  }
  if (s.dropGratuitousArp) risks.push('drop_gratuitous_arp=1: every frame with sender IP = target IP is ignored; only directed requests and unicast replies update entries');
  if (s.arpAccept === 0) notes.push('arp_accept=0: an announcement updates an existing entry but never creates one (a client that has talked to the VIP has one)');
  if (s.arpAccept === 2) notes.push('arp_accept=2: announcements create entries only for senders on a subnet of this interface');
  if (s.arpIgnore === 8) risks.push('arp_ignore=8: this host answers no ARP request, so a directed request teaches it nothing');
  risks.push(`if no announcement is accepted this host keeps a dead MAC for up to ${sec(deadMac.maxMs)} (${deadMac.explain})`);
  if (s.locktimeMs > 1000) notes.push(`locktime ${sec(s.locktimeMs)}: replies within it of the last update are ignored unless target MAC = sender MAC`);
  if (a.entry) {
    if (a.entry.state === 'PERMANENT' || a.entry.state === 'NOARP') risks.push(`the entry for ${a.vip} is ${a.entry.state} (static): no ARP ever changes it`);
    if (a.entry.state === 'NONE') notes.push(`no entry for ${a.vip}: ${s.arpAccept === 0 ? 'an announcement will not create one (arp_accept=0); the first packet to it will resolve it' : 'an announcement creates one'}`);
  }
  if (!a.iface.up) risks.push(`${a.iface.iface} is down`);
  return {
    iface: a.iface.iface,
    mac: a.iface.mac,
    addresses: a.iface.ipv4.map((x) => `${x.ip}/${x.prefixLen}`),
    up: a.iface.up,
    sysctls: s,
    firewall: fw,
    vip: a.vip,
    entry: a.entry,
    deadMac,
    risks,
    notes,
  };
}

export interface HostAudit6 {
  iface: string;
  mac: string;
  addresses: string[];
  up: boolean;
  sysctls: NdSysctls;
  vip?: string;
  entry?: NeighEntry;
  /** how long this host keeps a dead MAC for an IPv6 neighbour when no NA is accepted */
  deadMac: RecoveryBound;
  risks: string[];
  notes: string[];
}

/**
 * The IPv6 side of the host audit: what decides whether this host takes an NA (drop_unsolicited_na,
 * accept_untracked_na — only when the interface forwards —, the entry's state), what it sends as a server
 * (forwarding → the router flag, ndisc_notify, DAD on the VIP), and the dead-MAC worst case with its ND timers.
 */
export function buildAudit6(a: { sysctls: NdSysctls; iface: IfaceInfo; addrs: Ipv6Addr[]; vip?: string; entry?: NeighEntry }): HostAudit6 {
  const s = a.sysctls;
  const risks: string[] = [];
  const notes: string[] = [];
  const deadMac = deadMacBound(s);
  const sec = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
  if (s.disableIpv6) risks.push(`disable_ipv6=1: ${a.iface.iface} has no IPv6`);
  if (s.dropUnsolicitedNa) risks.push('drop_unsolicited_na=1: every NA without the solicited flag is dropped; only a solicited NA (unicast-reply, answer-probes) or an NS from the VIP (directed) moves an entry');
  if (s.acceptUntrackedNa === undefined) notes.push('no accept_untracked_na on this kernel (< 5.18): an NA never creates an entry');
  else if (s.acceptUntrackedNa > 0 && !s.forwarding) notes.push(`accept_untracked_na=${s.acceptUntrackedNa} has no effect here: the kernel applies it only when the interface forwards (forwarding=0)`);
  else if (s.acceptUntrackedNa > 0) notes.push(`accept_untracked_na=${s.acceptUntrackedNa} with forwarding=1: an NA with a target link-layer option creates a STALE entry${s.acceptUntrackedNa === 2 ? ' when its source is on a prefix of this interface' : ''}`);
  else notes.push('accept_untracked_na=0: an NA updates an existing entry but never creates one (a client that has talked to the VIP has one)');
  if (s.forwarding) notes.push('forwarding=1: this host is a router on the interface; NAs it sends must carry the router flag (hadiag sets it), or its neighbours drop the routes through it');
  if (!s.ndiscNotify) notes.push('ndisc_notify=0: as a server, the kernel sends no NA of its own when the VIP is added or the link comes up (the HA manager must)');
  risks.push(`if no NA is accepted this host keeps a dead MAC for up to ${sec(deadMac.maxMs)} (${deadMac.explain})`);
  for (const x of a.addrs) {
    if (x.dadfailed) risks.push(`${x.ip} is dadfailed: another host has it (split brain?); it is unusable until removed and added again`);
    else if (x.tentative) risks.push(`${x.ip} is tentative (DAD for ${s.dadTransmits} × ${sec(s.retransTimeMs)}): unusable until DAD ends; add a VIP with nodad`);
  }
  if (a.vip && a.entry) {
    const e = a.entry;
    if (e.state === 'PERMANENT' || e.state === 'NOARP') risks.push(`the entry for ${a.vip} is ${e.state} (static): no NA ever changes it`);
    if (e.state === 'FAILED') risks.push(`the entry for ${a.vip} is FAILED: no NA repairs it; the next packet to it starts a new resolution (an NS from the VIP repairs it at once)`);
    if (e.state === 'NONE') notes.push(`no entry for ${a.vip}: an unsolicited NA will not create one; the first packet to it resolves it`);
    if (e.router) notes.push(`the entry for ${a.vip} has the router flag: an NA without it makes this host drop the routes through ${a.vip}`);
  }
  return {
    iface: a.iface.iface,
    mac: a.iface.mac,
    addresses: a.addrs.map((x) => `${x.ip}/${x.prefixLen}${x.tentative ? ' tentative' : ''}${x.dadfailed ? ' dadfailed' : ''}`),
    up: a.iface.up,
    sysctls: s,
    vip: a.vip,
    entry: a.entry,
    deadMac,
    risks,
    notes,
  };
}
