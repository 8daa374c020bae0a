/**
 * What an ARP frame is, in gratuitous-ARP terms, and what is wrong with it as an announcement.
 * Pure: works on a decoded Frame.
 */
import { MAC_BROADCAST, MAC_ZERO, isGroupMac } from '../../codecs/addr.js';
import { ARP_REPLY, ARP_REQUEST, type ArpPacket } from '../../codecs/arp.js';
import type { Frame } from '../../codecs/decode.js';

export type ArpKind =
  /** request, sender IP = target IP: a GARP / RFC 5227 announcement */
  | 'announce-request'
  /** reply, sender IP = target IP: a GARP reply */
  | 'announce-reply'
  /** broadcast request from an address (the VIP) asking for a host: updates that host's entry for the sender */
  | 'directed-request'
  /** RFC 5227 probe: sender IP 0.0.0.0 (duplicate address detection) */
  | 'acd-probe'
  /** ordinary broadcast request (address resolution) */
  | 'request'
  /** unicast request: a neighbour-unreachability probe to the MAC the sender has cached */
  | 'unicast-request'
  /** ordinary reply (unicast, or to a host) */
  | 'reply'
  | 'other-op';

export type TargetMacForm = 'bcast' | 'zero' | 'own' | 'other';

export interface ArpClass {
  kind: ArpKind;
  /** announcement forms (announce-request, announce-reply, directed-request) */
  gratuitous: boolean;
  /** the ARP target-MAC field, relative to the sender */
  targetMacForm: TargetMacForm;
  /** Ethernet destination: broadcast / multicast / unicast / unknown (cooked capture) */
  ethDst: 'broadcast' | 'multicast' | 'unicast' | 'unknown';
  /** what is wrong with it as an announcement (empty when nothing) */
  problems: string[];
  /** short human label, e.g. "GARP request (target MAC 00:00)" */
  label: string;
}

export function targetMacForm(arp: ArpPacket): TargetMacForm {
  if (arp.targetMac === MAC_BROADCAST) return 'bcast';
  if (arp.targetMac === MAC_ZERO) return 'zero';
  if (arp.targetMac === arp.senderMac) return 'own';
  return 'other';
}

const FORM_TEXT: Record<TargetMacForm, string> = { bcast: 'ff:ff', zero: '00:00', own: 'own MAC', other: 'other MAC' };

function ethDstKind(f: Frame): ArpClass['ethDst'] {
  const dst = f.eth?.dst ?? '';
  if (f.cooked) {
    const t = f.cooked.pktType;
    return t === 1 ? 'broadcast' : t === 2 ? 'multicast' : t === 0 || t === 3 ? 'unicast' : 'unknown';
  }
  if (!dst) return 'unknown';
  if (dst === MAC_BROADCAST) return 'broadcast';
  return isGroupMac(dst) ? 'multicast' : 'unicast';
}

/**
 * Classify an ARP frame. `vip`: the address being watched — a broadcast request whose sender IP is the VIP and
 * whose target is another host counts as a directed announcement to that host.
 */
export function classifyArp(f: Frame, opts: { vip?: string } = {}): ArpClass | undefined {
  const arp = f.arp;
  if (!arp) return undefined;
  const form = targetMacForm(arp);
  const ethDst = ethDstKind(f);
  const problems: string[] = [];
  let kind: ArpKind;
  if (arp.op === ARP_REQUEST) {
    if (arp.senderIp === '0.0.0.0') kind = 'acd-probe';
    else if (arp.senderIp === arp.targetIp) kind = 'announce-request';
    else if (ethDst === 'unicast') kind = 'unicast-request';
    else if ((opts.vip && arp.senderIp === opts.vip) || form === 'bcast' || form === 'own') kind = 'directed-request';
    else kind = 'request';
  } else if (arp.op === ARP_REPLY) {
    kind = arp.senderIp === arp.targetIp ? 'announce-reply' : 'reply';
  } else {
    kind = 'other-op';
  }
  const gratuitous = kind === 'announce-request' || kind === 'announce-reply' || kind === 'directed-request';

  if (gratuitous && ethDst === 'unicast') problems.push(`announcement sent to a unicast Ethernet address (${f.eth?.dst || 'one host'}): only that host sees it`);
  if (kind === 'reply' && ethDst === 'broadcast') problems.push(`broadcast reply whose target IP ${arp.targetIp} differs from its sender IP ${arp.senderIp}: a malformed announcement?`);
  if (f.eth?.src && arp.senderMac !== f.eth.src) problems.push(`ARP sender MAC ${arp.senderMac} differs from the Ethernet source ${f.eth.src}`);
  if (gratuitous && (arp.senderMac === MAC_BROADCAST || arp.senderMac === MAC_ZERO || isGroupMac(arp.senderMac))) problems.push(`announces a non-unicast MAC ${arp.senderMac}`);

  return { kind, gratuitous, targetMacForm: form, ethDst, problems, label: labelOf(kind, form, arp) };
}

function labelOf(kind: ArpKind, form: TargetMacForm, arp: ArpPacket): string {
  switch (kind) {
    case 'announce-request':
      return `GARP request (target MAC ${FORM_TEXT[form]})`;
    case 'announce-reply':
      return `GARP reply (target MAC ${FORM_TEXT[form]})`;
    case 'directed-request':
      return `directed request to ${arp.targetIp}`;
    case 'acd-probe':
      return `ACD probe for ${arp.targetIp}`;
    case 'request':
      return 'request';
    case 'unicast-request':
      return 'unicast request (probe of a cached MAC)';
    case 'reply':
      return 'reply';
    default:
      return `ARP op ${arp.op}`;
  }
}

export type NdKind =
  /** NA to a multicast address, solicited flag clear: the IPv6 GARP (RFC 4861 7.2.6) */
  | 'unsolicited-na'
  /** NA to one host (unicast), solicited flag clear: hadiag's directed:…,via=na */
  | 'directed-na'
  /** NA with the solicited flag: an answer to an NS (or, nobody having asked, hadiag's unicast-reply) */
  | 'solicited-na'
  /** NS from :: (duplicate address detection) */
  | 'dad-ns'
  /** NS from the watched VIP asking for a host: teaches that host VIP → the sender's MAC (hadiag's directed) */
  | 'directed-ns'
  /** NS to a unicast MAC: a neighbour-unreachability probe of the MAC the sender has cached */
  | 'unicast-ns'
  /** NS to a solicited-node group: address resolution */
  | 'ns';

export interface NdClass {
  kind: NdKind;
  /** announcement forms (unsolicited-na, directed-na, directed-ns) */
  gratuitous: boolean;
  unsolicitedNa: boolean;
  override: boolean;
  target: string;
  /** the MAC the frame teaches (NA: target link-layer option; NS: source link-layer option) */
  mac?: string;
  /** R S O as tcpdump prints them, '-' for none; '' for an NS */
  flags: string;
  problems: string[];
  label: string;
}

/**
 * Classify an NA or NS. `vip`: the watched address — an NS whose source is the VIP is a directed announcement.
 * Problems are what makes an announcement fail on Linux (docs/ipv6.md): no override flag, no target
 * link-layer option (or the source's instead), a hop limit other than 255, the solicited flag on a multicast NA.
 */
export function classifyNd(f: Frame, opts: { vip?: string } = {}): NdClass | undefined {
  const nd = f.nd;
  if (!nd || !f.ipv6) return undefined;
  const ip6 = f.ipv6;
  const multicastDst = ip6.dst.toLowerCase().startsWith('ff');
  const ethUnicast = Boolean(f.eth?.dst) && !isGroupMac(f.eth!.dst) && f.eth!.dst !== MAC_BROADCAST;
  const problems: string[] = [];
  let kind: NdKind;
  let label: string;
  if (nd.kind === 'na') {
    kind = nd.solicited ? 'solicited-na' : multicastDst ? 'unsolicited-na' : 'directed-na';
    label = kind === 'unsolicited-na' ? `unsolicited NA for ${nd.target}` : kind === 'directed-na' ? `directed NA for ${nd.target} to ${ip6.dst}` : `solicited NA for ${nd.target}`;
    if (kind !== 'solicited-na' && !nd.override) problems.push('NA without the override flag: a client keeps its cached MAC (a REACHABLE entry goes STALE on it)');
    if (!nd.targetLinkAddr) problems.push(nd.sourceLinkAddr ? 'NA with a source link-layer option instead of the target link-layer option: Linux learns no MAC from it' : 'NA without a target link-layer option: Linux learns no MAC from it');
    if (nd.solicited && multicastDst) problems.push('solicited flag on an NA to a multicast address: receivers drop it');
    if (nd.targetLinkAddr && f.eth?.src && nd.targetLinkAddr !== f.eth.src) problems.push(`target link-layer address ${nd.targetLinkAddr} differs from the Ethernet source ${f.eth.src}`);
  } else {
    if (ip6.src === '::') kind = 'dad-ns';
    else if (opts.vip && ip6.src === opts.vip) kind = 'directed-ns';
    else if (ethUnicast) kind = 'unicast-ns';
    else kind = 'ns';
    label = kind === 'dad-ns' ? `DAD probe for ${nd.target}` : kind === 'directed-ns' ? `NS from the VIP to ${nd.target}` : kind === 'unicast-ns' ? `unicast NS for ${nd.target} (probe of a cached MAC)` : `NS for ${nd.target}`;
    if (kind === 'directed-ns' && !nd.sourceLinkAddr) problems.push('NS from the VIP without a source link-layer option: the host learns no MAC from it');
  }
  if (ip6.hopLimit !== 255) problems.push(`hop limit ${ip6.hopLimit} (receivers drop ND unless it is 255)`);
  if (nd.code) problems.push(`ICMPv6 code ${nd.code} (receivers drop ND unless it is 0)`);
  if (nd.badOptions) problems.push('an option of length 0 or past the end (receivers drop the message)');
  const flags = nd.kind === 'na' ? `${nd.router ? 'R' : ''}${nd.solicited ? 'S' : ''}${nd.override ? 'O' : ''}` || '-' : '';
  return {
    kind,
    gratuitous: kind === 'unsolicited-na' || kind === 'directed-na' || kind === 'directed-ns',
    unsolicitedNa: kind === 'unsolicited-na',
    override: Boolean(nd.override),
    target: nd.target,
    mac: nd.kind === 'na' ? nd.targetLinkAddr : nd.sourceLinkAddr,
    flags,
    problems,
    label: nd.kind === 'na' ? `${label} [${flags}]` : label,
  };
}
