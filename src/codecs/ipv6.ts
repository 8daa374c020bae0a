/** IPv6 fixed header decode/encode (extension headers are not walked: ND messages carry none). */
import { ipv6FromBytes, ipv6ToBytes } from './addr.js';

export interface Ipv6Header {
  src: string;
  dst: string;
  nextHeader: number;
  hopLimit: number;
  payloadLength: number;
}

export type Ipv6Decode = { ok: true; ip6: Ipv6Header; payload: Buffer } | { ok: false; error: string };

export function decodeIpv6(buf: Buffer, off = 0): Ipv6Decode {
  if (buf.length - off < 40) return { ok: false, error: `truncated IPv6 header (${buf.length - off} bytes)` };
  if (buf[off]! >> 4 !== 6) return { ok: false, error: `IP version ${buf[off]! >> 4} in an IPv6 frame` };
  const payloadLength = buf.readUInt16BE(off + 4);
  return {
    ok: true,
    ip6: { src: ipv6FromBytes(buf, off + 8), dst: ipv6FromBytes(buf, off + 24), nextHeader: buf[off + 6]!, hopLimit: buf[off + 7]!, payloadLength },
    payload: buf.subarray(off + 40, Math.min(buf.length, off + 40 + payloadLength)),
  };
}

export function encodeIpv6(h: { src: string; dst: string; nextHeader: number; hopLimit?: number }, payload: Buffer): Buffer {
  const out = Buffer.alloc(40 + payload.length);
  out.writeUInt32BE(0x60000000, 0);
  out.writeUInt16BE(payload.length, 4);
  out[6] = h.nextHeader;
  out[7] = h.hopLimit ?? 255;
  ipv6ToBytes(h.src).copy(out, 8);
  ipv6ToBytes(h.dst).copy(out, 24);
  payload.copy(out, 40);
  return out;
}
