/** ICMPv6 neighbour discovery: NS (135) and NA (136) with their link-layer address options. */
import { ipv6FromBytes, ipv6ToBytes, macFromBytes, macToBytes } from './addr.js';
import { inetChecksum } from './checksum.js';
import { IPPROTO_ICMPV6 } from './ipv4.js';

export const ICMPV6_NS = 135;
export const ICMPV6_NA = 136;

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
}

export interface Icmpv6Message {
  type: number;
  code: number;
}

export type NdDecode = { ok: true; icmp6: Icmpv6Message; nd?: NdMessage } | { ok: false; error: string };

export function decodeIcmpv6(buf: Buffer, off = 0): NdDecode {
  if (buf.length - off < 4) return { ok: false, error: `truncated ICMPv6 header (${buf.length - off} bytes)` };
  const icmp6 = { type: buf[off]!, code: buf[off + 1]! };
  if (icmp6.type !== ICMPV6_NS && icmp6.type !== ICMPV6_NA) return { ok: true, icmp6 };
  if (buf.length - off < 24) return { ok: false, error: 'truncated neighbour discovery message' };
  const nd: NdMessage = { kind: icmp6.type === ICMPV6_NA ? 'na' : 'ns', target: ipv6FromBytes(buf, off + 8) };
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
    if (len === 0 || p + len > buf.length) break;
    if (len >= 8 && type === 1) nd.sourceLinkAddr = macFromBytes(buf, p + 2);
    if (len >= 8 && type === 2) nd.targetLinkAddr = macFromBytes(buf, p + 2);
    p += len;
  }
  return { ok: true, icmp6, nd };
}

/** An unsolicited NA as send_ua writes it: flags override only, target link-layer option. */
export function encodeNa(h: { src: string; dst: string; target: string; mac: string; router?: boolean; solicited?: boolean; override?: boolean }): Buffer {
  const out = Buffer.alloc(32);
  out[0] = ICMPV6_NA;
  out[4] = (h.router ? 0x80 : 0) | (h.solicited ? 0x40 : 0) | (h.override ?? true ? 0x20 : 0);
  ipv6ToBytes(h.target).copy(out, 8);
  out[24] = 2;
  out[25] = 1;
  macToBytes(h.mac).copy(out, 26);
  const pseudo = Buffer.alloc(40);
  ipv6ToBytes(h.src).copy(pseudo, 0);
  ipv6ToBytes(h.dst).copy(pseudo, 16);
  pseudo.writeUInt32BE(out.length, 32);
  pseudo[39] = IPPROTO_ICMPV6;
  out.writeUInt16BE(inetChecksum(pseudo, out), 2);
  return out;
}
