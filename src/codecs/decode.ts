/**
 * decodeFrame: one captured frame (Ethernet with VLAN tags or LLC/SNAP, Linux cooked SLL or SLL2, raw IPv4/IPv6)
 * into its layers. Never throws: a malformed or truncated layer stops decoding there and is described in
 * `error`; layers decoded before it are kept.
 */
import { decodeArp, type ArpPacket } from './arp.js';
import { macFromBytes } from './addr.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, decodeEthernet, type EthernetHeader } from './ethernet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP, decodeIpv4, type Ipv4Header } from './ipv4.js';
import { decodeUdp } from './udp.js';
import { decodeIcmp, type IcmpMessage } from './icmp.js';
import { decodeIpv6, type Ipv6Header } from './ipv6.js';
import { decodeIcmpv6, type Icmpv6Message, type NdMessage } from './nd.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;
/** IP with no link layer: the version nibble says IPv4 or IPv6 (12 and 14 are DLT_RAW as some systems number it) */
export const LINKTYPE_RAW = 101;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
const RAW_IP_LINK_TYPES = new Set([LINKTYPE_RAW, 12, 14, LINKTYPE_IPV4, LINKTYPE_IPV6]);

export const isRawIpLinkType = (linktype: number): boolean => RAW_IP_LINK_TYPES.has(linktype);

/** The LINKTYPE_ names of the link types one meets in captures (tcpdump.org/linktypes.html). */
export const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL, BSD loopback',
  1: 'ETHERNET',
  6: 'IEEE802_5, Token Ring',
  7: 'ARCNET_BSD',
  8: 'SLIP',
  9: 'PPP',
  10: 'FDDI',
  12: 'RAW',
  14: 'RAW',
  50: 'PPP_HDLC',
  51: 'PPP_ETHER, PPPoE',
  101: 'RAW',
  104: 'C_HDLC, Cisco HDLC',
  105: 'IEEE802_11, Wi-Fi',
  107: 'FRELAY, Frame Relay',
  108: 'LOOP, OpenBSD loopback',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIOTAP, Wi-Fi monitor mode',
  129: 'ARCNET_LINUX',
  189: 'USB_LINUX',
  192: 'PPI',
  197: 'ERF',
  220: 'USB_LINUX_MMAPPED',
  228: 'IPV4',
  229: 'IPV6',
  253: 'NETLINK',
  276: 'LINUX_SLL2',
};

/** Linux cooked-capture packet types (`tcpdump -i any`), by number. */
export const SLL_PACKET_TYPES = ['host', 'broadcast', 'multicast', 'otherhost', 'outgoing'] as const;
export const SLL_OUTGOING = 4;

/**
 * Whether the capturing host sent this frame, when the capture says so (Linux cooked: packet type "outgoing");
 * undefined when the link layer does not tell (Ethernet, raw IP: compare the source MAC or IP instead).
 */
export function sentByCapturingHost(f: Frame): boolean | undefined {
  return f.cooked ? f.cooked.pktType === SLL_OUTGOING : undefined;
}

export interface CookedHeader {
  kind: 'sll' | 'sll2';
  /** 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us */
  pktType: number;
  pktTypeName: string;
  ifindex?: number;
}

export interface Frame {
  linktype: number;
  /** captured length */
  len: number;
  /**
   * Ethernet header. In a cooked capture (SLL/SLL2) only the source is known: `dst` is ff:ff:ff:ff:ff:ff for
   * broadcast packet types and '' otherwise; see `cooked`. Absent in a raw IP capture (no link layer).
   */
  eth?: EthernetHeader;
  cooked?: CookedHeader;
  arp?: ArpPacket;
  ipv4?: Ipv4Header;
  udp?: { srcPort: number; dstPort: number; payload: Buffer };
  icmp?: IcmpMessage;
  ipv6?: Ipv6Header;
  icmp6?: Icmpv6Message;
  nd?: NdMessage;
  error?: string;
}

export function decodeFrame(data: Buffer, linktype = LINKTYPE_ETHERNET): Frame {
  const f: Frame = { linktype, len: data.length };
  try {
    let off: number;
    let ethertype: number;
    if (linktype === LINKTYPE_ETHERNET) {
      const e = decodeEthernet(data);
      if (!e.ok) return fail(f, e.error);
      f.eth = e.eth;
      off = e.payloadOffset;
      ethertype = e.eth.ethertype;
    } else if (linktype === LINKTYPE_LINUX_SLL || linktype === LINKTYPE_LINUX_SLL2) {
      const c = decodeCooked(data, linktype);
      if ('error' in c) return fail(f, c.error);
      f.cooked = c.cooked;
      f.eth = { src: c.src, dst: c.cooked.pktType === 1 ? 'ff:ff:ff:ff:ff:ff' : '', ethertype: c.ethertype };
      off = c.offset;
      ethertype = c.ethertype;
    } else if (isRawIpLinkType(linktype)) {
      off = 0;
      ethertype = rawIpEthertype(data, linktype);
    } else {
      return fail(f, `link type ${linktype} is not supported (Ethernet 1, Linux cooked 113/276, raw IP 101/228/229 are)`);
    }
    decodeNetwork(f, data, off, ethertype);
  } catch (err) {
    // Defensive: the decoders check lengths, but a malformed frame must never escape as an exception.
    f.error = `malformed frame: ${(err as Error).message}`;
  }
  return f;
}

/** The ethertype a raw IP frame would have carried: fixed by LINKTYPE_IPV4/IPV6, else the IP version nibble. */
function rawIpEthertype(data: Buffer, linktype: number): number {
  if (linktype === LINKTYPE_IPV4) return ETHERTYPE_IPV4;
  if (linktype === LINKTYPE_IPV6) return ETHERTYPE_IPV6;
  const version = data.length > 0 ? data[0]! >> 4 : 0;
  return version === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
}

function fail(f: Frame, error: string): Frame {
  f.error = error;
  return f;
}

function decodeCooked(data: Buffer, linktype: number): { cooked: CookedHeader; src: string; ethertype: number; offset: number } | { error: string } {
  if (linktype === LINKTYPE_LINUX_SLL) {
    if (data.length < 16) return { error: `truncated Linux cooked header (${data.length} of 16 bytes)` };
    const pktType = data.readUInt16BE(0);
    const addrLen = data.readUInt16BE(4);
    const src = addrLen === 6 ? macFromBytes(data, 6) : '';
    return { cooked: { kind: 'sll', pktType, pktTypeName: SLL_PACKET_TYPES[pktType] ?? String(pktType) }, src, ethertype: data.readUInt16BE(14), offset: 16 };
  }
  if (data.length < 20) return { error: `truncated Linux cooked v2 header (${data.length} of 20 bytes)` };
  const ethertype = data.readUInt16BE(0);
  const ifindex = data.readUInt32BE(4);
  const pktType = data[10]!;
  const addrLen = data[11]!;
  const src = addrLen === 6 ? macFromBytes(data, 12) : '';
  return { cooked: { kind: 'sll2', pktType, pktTypeName: SLL_PACKET_TYPES[pktType] ?? String(pktType), ifindex }, src, ethertype, offset: 20 };
}

function decodeNetwork(f: Frame, data: Buffer, off: number, ethertype: number): void {
  if (ethertype === ETHERTYPE_ARP) {
    const a = decodeArp(data, off);
    if (a.ok) f.arp = a.arp;
    else f.error = a.error;
    return;
  }
  if (ethertype === ETHERTYPE_IPV4) {
    const ip = decodeIpv4(data, off);
    if (!ip.ok) return void (f.error = ip.error);
    f.ipv4 = ip.ip;
    if (ip.ip.fragOffset !== 0) return; // a later fragment carries no transport header
    if (ip.ip.proto === IPPROTO_UDP) {
      const u = decodeUdp(ip.payload);
      if (u.ok) f.udp = { srcPort: u.udp.srcPort, dstPort: u.udp.dstPort, payload: u.udp.payload };
      else f.error = u.error;
    } else if (ip.ip.proto === IPPROTO_ICMP) {
      const i = decodeIcmp(ip.payload);
      if (i.ok) f.icmp = i.icmp;
      else f.error = i.error;
    }
    return;
  }
  if (ethertype === ETHERTYPE_IPV6) {
    const ip6 = decodeIpv6(data, off);
    if (!ip6.ok) return void (f.error = ip6.error);
    f.ipv6 = ip6.ip6;
    if (ip6.ip6.nextHeader === IPPROTO_ICMPV6) {
      const n = decodeIcmpv6(ip6.payload);
      if (!n.ok) return void (f.error = n.error);
      f.icmp6 = n.icmp6;
      if (n.nd) f.nd = n.nd;
    }
  }
}
