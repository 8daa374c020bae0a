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

/** IPv6: an unsolicited neighbour advertisement (the IPv6 counterpart of a GARP, as send_ua sends it). */
export function classifyNd(f: Frame): { unsolicitedNa: boolean; override: boolean; target: string; problems: string[] } | undefined {
  if (!f.nd || f.nd.kind !== 'na' || !f.ipv6) return undefined;
  const unsolicitedNa = !f.nd.solicited && f.ipv6.dst.startsWith('ff02:');
  const problems: string[] = [];
  if (unsolicitedNa && !f.nd.override) problems.push('unsolicited NA without the override flag: clients keep their cached MAC');
  if (unsolicitedNa && !f.nd.targetLinkAddr) problems.push('unsolicited NA without a target link-layer address option');
  if (f.ipv6.hopLimit !== 255) problems.push(`hop limit ${f.ipv6.hopLimit} (receivers drop ND unless it is 255)`);
  return { unsolicitedNa, override: Boolean(f.nd.override), target: f.nd.target, problems };
}
