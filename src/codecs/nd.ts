/**
 * ICMPv6 neighbour discovery (RFC 4861): NS (135) and NA (136) with their link-layer address options, and
 * whole Ethernet frames of both (`buildNa`, `buildNs`) with the IPv6 header ND requires (hop limit 255) and the
 * ICMPv6 checksum over the pseudo-header.
 */
import { ipv6FromBytes, ipv6ToBytes, macFromBytes, macToBytes } from './addr.js';
import { inetChecksum } from './checksum.js';
import { ETHERTYPE_IPV6, encodeEthernet } from './ethernet.js';
import { IPPROTO_ICMPV6 } from './ipv4.js';
import { encodeIpv6 } from './ipv6.js';

export const ICMPV6_NS = 135;
export const ICMPV6_NA = 136;
/** ND option types: source / target link-layer address */
export const ND_OPT_SOURCE_LL = 1;
export const ND_OPT_TARGET_LL = 2;
export const ALL_NODES = 'ff02::1';
export const UNSPECIFIED = '::';

export interface NdMessage {
  kind: 'ns' | 'na';
  target: string;
  /** NA flags */
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
  /** source / target link-layer address options */
  sourceLinkAddr?: string;
  targetLinkAddr?: string;
  /** an option of length 0 or running past the end: the kernel drops the whole message (ndisc_parse_options) */
  badOptions?: boolean;
  /** the ICMPv6 code (ND messages with a code other than 0 are dropped) */
  code?: number;
}

export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

export interface Icmpv6Message {
  type: number;
  code: number;
  /** echo request (128) / reply (129): identifier and sequence number */
  id?: number;
  seq?: number;
}

export type NdDecode = { ok: true; icmp6: Icmpv6Message; nd?: NdMessage } | { ok: false; error: string };

export function decodeIcmpv6(buf: Buffer, off = 0): NdDecode {
  if (buf.length - off < 4) return { ok: false, error: `truncated ICMPv6 header (${buf.length - off} bytes)` };
  const icmp6: Icmpv6Message = { type: buf[off]!, code: buf[off + 1]! };
  if (icmp6.type === ICMPV6_ECHO_REQUEST || icmp6.type === ICMPV6_ECHO_REPLY) {
    if (buf.length - off < 8) return { ok: false, error: 'truncated ICMPv6 echo header' };
    icmp6.id = buf.readUInt16BE(off + 4);
    icmp6.seq = buf.readUInt16BE(off + 6);
    return { ok: true, icmp6 };
  }
  if (icmp6.type !== ICMPV6_NS && icmp6.type !== ICMPV6_NA) return { ok: true, icmp6 };
  if (buf.length - off < 24) return { ok: false, error: 'truncated neighbour discovery message' };
  const nd: NdMessage = { kind: icmp6.type === ICMPV6_NA ? 'na' : 'ns', target: ipv6FromBytes(buf, off + 8) };
  if (icmp6.code !== 0) nd.code = icmp6.code;
  if (nd.kind === 'na') {
    const flags = buf[off + 4]!;
    nd.router = Boolean(flags & 0x80);
    nd.solicited = Boolean(flags & 0x40);
    nd.override = Boolean(flags & 0x20);
  }
  let p = off + 24;
  while (p + 2 <= buf.length) {
    const type = buf[p]!;
    const len = buf[p + 1]! * 8;
    if (len === 0 || p + len > buf.length) {
      nd.badOptions = true;
      break;
    }
    if (len >= 8 && type === ND_OPT_SOURCE_LL) nd.sourceLinkAddr = macFromBytes(buf, p + 2);
    if (len >= 8 && type === ND_OPT_TARGET_LL) nd.targetLinkAddr = macFromBytes(buf, p + 2);
    p += len;
  }
  return { ok: true, icmp6, nd };
}

/** The ICMPv6 checksum of `msg` (its checksum field taken as written: 0 when computing, the sum when checking). */
export function icmpv6Checksum(src: string, dst: string, msg: Buffer): number {
  const pseudo = Buffer.alloc(40);
  ipv6ToBytes(src).copy(pseudo, 0);
  ipv6ToBytes(dst).copy(pseudo, 16);
  pseudo.writeUInt32BE(msg.length, 32);
  pseudo[39] = IPPROTO_ICMPV6;
  return inetChecksum(pseudo, msg);
}

/** Does an ICMPv6 message carry a correct checksum for these addresses? */
export function icmpv6ChecksumOk(src: string, dst: string, msg: Buffer): boolean {
  return icmpv6Checksum(src, dst, msg) === 0;
}

/** Which link-layer option an NA carries: the target's (RFC 4861), the source's (a known sender bug), or none. */
export type NaLinkOption = 'target' | 'source' | 'none';

export interface NaFields {
  src: string;
  dst: string;
  target: string;
  mac: string;
  router?: boolean;
  solicited?: boolean;
  /** default true */
  override?: boolean;
  /** default 'target' */
  option?: NaLinkOption;
}

/** The ICMPv6 NA message (flags as given, override by default, target link-layer option by default). */
export function encodeNa(h: NaFields): Buffer {
  const option = h.option ?? 'target';
  const out = Buffer.alloc(option === 'none' ? 24 : 32);
  out[0] = ICMPV6_NA;
  out[4] = (h.router ? 0x80 : 0) | (h.solicited ? 0x40 : 0) | ((h.override ?? true) ? 0x20 : 0);
  ipv6ToBytes(h.target).copy(out, 8);
  if (option !== 'none') {
    out[24] = option === 'target' ? ND_OPT_TARGET_LL : ND_OPT_SOURCE_LL;
    out[25] = 1;
    macToBytes(h.mac).copy(out, 26);
  }
  out.writeUInt16BE(icmpv6Checksum(h.src, h.dst, out), 2);
  return out;
}

/** The ICMPv6 NS message; the source link-layer option unless the source is :: (DAD, RFC 4862 forbids it). */
export function encodeNs(h: { src: string; dst: string; target: string; mac?: string }): Buffer {
  const withOption = h.src !== UNSPECIFIED && h.mac !== undefined;
  const out = Buffer.alloc(withOption ? 32 : 24);
  out[0] = ICMPV6_NS;
  ipv6ToBytes(h.target).copy(out, 8);
  if (withOption) {
    out[24] = ND_OPT_SOURCE_LL;
    out[25] = 1;
    macToBytes(h.mac!).copy(out, 26);
  }
  out.writeUInt16BE(icmpv6Checksum(h.src, h.dst, out), 2);
  return out;
}

/** The solicited-node multicast address of `ip` (ff02::1:ffXX:XXXX, RFC 4291 2.7.1). */
export function solicitedNode(ip: string): string {
  const b = ipv6ToBytes(ip);
  const out = Buffer.from(ipv6ToBytes('ff02::1:ff00:0'));
  b.copy(out, 13, 13, 16);
  return ipv6FromBytes(out);
}

/** The Ethernet multicast MAC of an IPv6 multicast address (33:33 + its low 32 bits, RFC 2464 7). */
export function ipv6MulticastMac(ip: string): string {
  const b = ipv6ToBytes(ip);
  return ['33', '33', ...[12, 13, 14, 15].map((i) => b[i]!.toString(16).padStart(2, '0'))].join(':');
}

const isMulticast6 = (ip: string) => ipv6ToBytes(ip)[0] === 0xff;

/** Ethernet + IPv6 (hop limit 255, as ND requires) + `msg`; a multicast destination gets its 33:33 MAC. */
function ndFrame(o: { src: string; dst: string; ethSrc: string; ethDst?: string; vlan?: number; hopLimit?: number }, msg: Buffer): Buffer {
  const ethDst = o.ethDst ?? (isMulticast6(o.dst) ? ipv6MulticastMac(o.dst) : undefined);
  if (!ethDst) throw new TypeError(`a frame to the unicast address ${o.dst} needs its MAC`);
  const ip = encodeIpv6({ src: o.src, dst: o.dst, nextHeader: IPPROTO_ICMPV6, hopLimit: o.hopLimit ?? 255 }, msg);
  return encodeEthernet({ dst: ethDst, src: o.ethSrc, ethertype: ETHERTYPE_IPV6, vlan: o.vlan }, ip);
}

export interface NaFrameOptions {
  /** the advertised address; also the IPv6 source unless `src` is given (as the kernel's own NAs) */
  vip: string;
  /** the MAC advertised (target link-layer option) and the Ethernet source */
  mac: string;
  /** IPv6 destination (default ff02::1, all nodes) */
  dst?: string;
  /** Ethernet destination (default: the multicast MAC of `dst`; a unicast `dst` needs it) */
  ethDst?: string;
  src?: string;
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
  option?: NaLinkOption;
  vlan?: number;
  hopLimit?: number;
}

/**
 * A whole NA frame. Defaults are RFC 4861 7.2.6's unsolicited NA: to all nodes (ff02::1, 33:33:00:00:00:01),
 * override set, solicited clear, router clear, target link-layer option, hop limit 255, from the VIP.
 */
export function buildNa(o: NaFrameOptions): Buffer {
  const src = o.src ?? o.vip;
  const dst = o.dst ?? ALL_NODES;
  const msg = encodeNa({ src, dst, target: o.vip, mac: o.mac, router: o.router, solicited: o.solicited, override: o.override, option: o.option });
  return ndFrame({ src, dst, ethSrc: o.mac, ethDst: o.ethDst, vlan: o.vlan, hopLimit: o.hopLimit }, msg);
}

/**
 * A whole NS frame from `src` (with our MAC in the source link-layer option) asking for `target`: to `dst`
 * (default the target's solicited-node group) at `ethDst` (default that group's MAC). `src` :: is a DAD probe.
 */
export function buildNs(o: { src: string; target: string; mac: string; dst?: string; ethDst?: string; vlan?: number }): Buffer {
  const dst = o.dst ?? solicitedNode(o.target);
  const msg = encodeNs({ src: o.src, dst, target: o.target, mac: o.mac });
  return ndFrame({ src: o.src, dst, ethSrc: o.mac, ethDst: o.ethDst, vlan: o.vlan }, msg);
}
