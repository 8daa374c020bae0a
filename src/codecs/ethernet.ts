/** Ethernet II header with optional 802.1Q / 802.1ad VLAN tags. */
import { macFromBytes, macToBytes } from './addr.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_IPV6 = 0x86dd;

export interface VlanTag {
  tpid: number;
  pcp: number;
  dei: boolean;
  id: number;
}

export interface EthernetHeader {
  dst: string;
  src: string;
  /** the ethertype after any VLAN tags */
  ethertype: number;
  /** VLAN id of the outermost tag, if tagged */
  vlan?: number;
  /** every tag, outermost first */
  tags?: VlanTag[];
}

export type EthernetDecode = { ok: true; eth: EthernetHeader; payloadOffset: number } | { ok: false; error: string };

export function decodeEthernet(buf: Buffer, off = 0): EthernetDecode {
  if (buf.length - off < 14) return { ok: false, error: `truncated Ethernet header (${buf.length - off} of 14 bytes)` };
  const dst = macFromBytes(buf, off);
  const src = macFromBytes(buf, off + 6);
  let p = off + 12;
  let type = buf.readUInt16BE(p);
  const tags: VlanTag[] = [];
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) {
    if (buf.length < p + 6) return { ok: false, error: 'truncated VLAN tag' };
    if (tags.length >= 4) return { ok: false, error: 'more than 4 VLAN tags' };
    const tci = buf.readUInt16BE(p + 2);
    tags.push({ tpid: type, pcp: tci >> 13, dei: Boolean(tci & 0x1000), id: tci & 0x0fff });
    p += 4;
    type = buf.readUInt16BE(p);
  }
  const eth: EthernetHeader = { dst, src, ethertype: type };
  if (tags.length) {
    eth.vlan = tags[0]!.id;
    eth.tags = tags;
  }
  return { ok: true, eth, payloadOffset: p + 2 };
}

/** Build an Ethernet frame; `vlan` adds one 802.1Q tag (priority 0). */
export function encodeEthernet(h: { dst: string; src: string; ethertype: number; vlan?: number; pcp?: number }, payload: Buffer): Buffer {
  const tagLen = h.vlan !== undefined ? 4 : 0;
  const out = Buffer.alloc(14 + tagLen + payload.length);
  macToBytes(h.dst).copy(out, 0);
  macToBytes(h.src).copy(out, 6);
  let p = 12;
  if (h.vlan !== undefined) {
    out.writeUInt16BE(ETHERTYPE_VLAN, p);
    out.writeUInt16BE((((h.pcp ?? 0) & 7) << 13) | (h.vlan & 0x0fff), p + 2);
    p += 4;
  }
  out.writeUInt16BE(h.ethertype, p);
  payload.copy(out, p + 2);
  return out;
}

/** Pad a frame to the 60-byte Ethernet minimum (without FCS), as some senders (Habets arping) do. */
export function padFrame(frame: Buffer, min = 60): Buffer {
  return frame.length >= min ? frame : Buffer.concat([frame, Buffer.alloc(min - frame.length)]);
}
