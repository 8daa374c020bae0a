/** IPv4 header decode/encode. */
import { ipv4FromBytes, ipv4ToBytes } from './addr.js';
import { inetChecksum } from './checksum.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export interface Ipv4Header {
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  tos: number;
  id: number;
  totalLength: number;
  /** fragment offset in bytes, and more-fragments flag */
  fragOffset: number;
  moreFragments: boolean;
}

export type Ipv4Decode = { ok: true; ip: Ipv4Header; payload: Buffer } | { ok: false; error: string };

export function decodeIpv4(buf: Buffer, off = 0): Ipv4Decode {
  if (buf.length - off < 20) return { ok: false, error: `truncated IPv4 header (${buf.length - off} bytes)` };
  const vihl = buf[off]!;
  if (vihl >> 4 !== 4) return { ok: false, error: `IP version ${vihl >> 4} in an IPv4 frame` };
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20 || buf.length - off < ihl) return { ok: false, error: `bad IPv4 header length ${ihl}` };
  const totalLength = buf.readUInt16BE(off + 2);
  if (totalLength < ihl) return { ok: false, error: `IPv4 total length ${totalLength} below header length ${ihl}` };
  const end = Math.min(buf.length, off + totalLength);
  const frag = buf.readUInt16BE(off + 6);
  return {
    ok: true,
    ip: {
      src: ipv4FromBytes(buf, off + 12),
      dst: ipv4FromBytes(buf, off + 16),
      proto: buf[off + 9]!,
      ttl: buf[off + 8]!,
      tos: buf[off + 1]!,
      id: buf.readUInt16BE(off + 4),
      totalLength,
      fragOffset: (frag & 0x1fff) * 8,
      moreFragments: Boolean(frag & 0x2000),
    },
    payload: buf.subarray(off + ihl, end),
  };
}

export function encodeIpv4(h: { src: string; dst: string; proto: number; ttl?: number; tos?: number; id?: number; dontFragment?: boolean }, payload: Buffer): Buffer {
  const out = Buffer.alloc(20 + payload.length);
  out[0] = 0x45;
  out[1] = h.tos ?? 0;
  out.writeUInt16BE(20 + payload.length, 2);
  out.writeUInt16BE(h.id ?? 0, 4);
  out.writeUInt16BE(h.dontFragment ? 0x4000 : 0, 6);
  out[8] = h.ttl ?? 64;
  out[9] = h.proto;
  ipv4ToBytes(h.src).copy(out, 12);
  ipv4ToBytes(h.dst).copy(out, 16);
  out.writeUInt16BE(inetChecksum(out.subarray(0, 20)), 10);
  payload.copy(out, 20);
  return out;
}
