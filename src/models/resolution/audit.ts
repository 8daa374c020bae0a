/**
 * The host audit garp-check prints first: what decides acceptance and recovery on this interface, and the
 * worst case this host keeps a dead MAC. Pure: built from what effects/io/host-neigh.ts read.
 */
import { deadMacBound, type ArpFirewall, type IfaceInfo, type NeighEntry, type NeighSysctls, type RecoveryBound } from './host-state.js';
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
