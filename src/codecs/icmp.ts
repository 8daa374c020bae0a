/** ICMPv4: type/code, and id/seq of echo request (8) and reply (0); the ICMPv6 echo (128/129) encoder. */
import { inetChecksum } from './checksum.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, icmpv6Checksum } from './nd.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;

export interface IcmpMessage {
  type: number;
  code: number;
  id?: number;
  seq?: number;
}

export type IcmpDecode = { ok: true; icmp: IcmpMessage } | { ok: false; error: string };

export function decodeIcmp(buf: Buffer, off = 0): IcmpDecode {
  if (buf.length - off < 4) return { ok: false, error: `truncated ICMP header (${buf.length - off} bytes)` };
  const icmp: IcmpMessage = { type: buf[off]!, code: buf[off + 1]! };
  if (icmp.type === ICMP_ECHO_REQUEST || icmp.type === ICMP_ECHO_REPLY) {
    if (buf.length - off < 8) return { ok: false, error: 'truncated ICMP echo header' };
    icmp.id = buf.readUInt16BE(off + 4);
    icmp.seq = buf.readUInt16BE(off + 6);
  }
  return { ok: true, icmp };
}

export function encodeIcmpEcho(h: { type: 0 | 8; id: number; seq: number }, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(8 + data.length);
  out[0] = h.type;
  out.writeUInt16BE(h.id, 4);
  out.writeUInt16BE(h.seq, 6);
  data.copy(out, 8);
  out.writeUInt16BE(inetChecksum(out), 2);
  return out;
}

/**
 * An ICMPv6 echo request (128) or reply (129), checksummed over the IPv6 pseudo-header of `src` → `dst` (what
 * `ping -6` sends; decoded by decodeIcmpv6 in nd.ts with its id and seq).
 */
export function encodeIcmpv6Echo(h: { type: typeof ICMPV6_ECHO_REQUEST | typeof ICMPV6_ECHO_REPLY; id: number; seq: number; src: string; dst: string }, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(8 + data.length);
  out[0] = h.type;
  out.writeUInt16BE(h.id, 4);
  out.writeUInt16BE(h.seq, 6);
  data.copy(out, 8);
  out.writeUInt16BE(icmpv6Checksum(h.src, h.dst, out), 2);
  return out;
}
