/** UDP header decode/encode (checksum over the IPv4 pseudo-header). */
import { ipv4ToBytes } from './addr.js';
import { inetChecksum } from './checksum.js';
import { IPPROTO_UDP } from './ipv4.js';

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  length: number;
  payload: Buffer;
}

export type UdpDecode = { ok: true; udp: UdpDatagram } | { ok: false; error: string };

export function decodeUdp(buf: Buffer, off = 0): UdpDecode {
  if (buf.length - off < 8) return { ok: false, error: `truncated UDP header (${buf.length - off} bytes)` };
  const length = buf.readUInt16BE(off + 4);
  if (length < 8) return { ok: false, error: `UDP length ${length} below 8` };
  const end = Math.min(buf.length, off + length);
  return { ok: true, udp: { srcPort: buf.readUInt16BE(off), dstPort: buf.readUInt16BE(off + 2), length, payload: buf.subarray(off + 8, end) } };
}

export function encodeUdp(h: { srcIp: string; dstIp: string; srcPort: number; dstPort: number }, payload: Buffer): Buffer {
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt16BE(h.srcPort, 0);
  out.writeUInt16BE(h.dstPort, 2);
  out.writeUInt16BE(out.length, 4);
  payload.copy(out, 8);
  const pseudo = Buffer.alloc(12);
  ipv4ToBytes(h.srcIp).copy(pseudo, 0);
  ipv4ToBytes(h.dstIp).copy(pseudo, 4);
  pseudo[9] = IPPROTO_UDP;
  pseudo.writeUInt16BE(out.length, 10);
  const sum = inetChecksum(pseudo, out);
  out.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return out;
}
