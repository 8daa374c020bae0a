/**
 * Ethernet header: Ethernet II or IEEE 802.3 with an LLC/SNAP header carrying an ethertype, behind any number
 * of VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8, the older QinQ 0x9100).
 */
import { macFromBytes, macToBytes } from './addr.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
const VLAN_TPIDS = new Set([ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_QINQ_OLD]);
/** a type/length field up to this is an 802.3 length, not an ethertype */
const MAX_8023_LENGTH = 1500;
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
  /**
   * the ethertype after any VLAN tags (and after the SNAP header of an 802.3 frame); for an 802.3 frame
   * without SNAP, its length field (≤ 1500, never a real ethertype)
   */
  ethertype: number;
  /** an IEEE 802.3 frame: its length field, and the SNAP header when the LLC header is AA AA 03 */
  ieee8023?: { length: number; snap?: { oui: number } };
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
  while (VLAN_TPIDS.has(type)) {
    if (buf.length < p + 6) return { ok: false, error: `truncated VLAN tag (tag ${tags.length + 1})` };
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
  let payloadOffset = p + 2;
  if (type <= MAX_8023_LENGTH) {
    eth.ieee8023 = { length: type };
    const snap = decodeSnap(buf, payloadOffset);
    if (snap) {
      eth.ieee8023.snap = { oui: snap.oui };
      eth.ethertype = snap.ethertype;
      payloadOffset += SNAP_HEADER_LEN;
    }
  }
  return { ok: true, eth, payloadOffset };
}

/** LLC (DSAP AA, SSAP AA, control 03 = UI) + SNAP (3-byte OUI, ethertype) */
const SNAP_HEADER_LEN = 8;

/** The SNAP header of an 802.3 frame when its LLC header says SNAP and the OUI is 0 (an encapsulated ethertype). */
function decodeSnap(buf: Buffer, off: number): { oui: number; ethertype: number } | undefined {
  if (buf.length < off + SNAP_HEADER_LEN) return undefined;
  if (buf[off] !== 0xaa || buf[off + 1] !== 0xaa || buf[off + 2] !== 0x03) return undefined;
  const oui = buf.readUIntBE(off + 3, 3);
  if (oui !== 0) return undefined;
  return { oui, ethertype: buf.readUInt16BE(off + 6) };
}

/**
 * Build an Ethernet II frame; `vlan` adds one 802.1Q tag, `tags` any stack of them (outermost first, e.g. an
 * 802.1ad service tag over an 802.1Q customer tag).
 */
export function encodeEthernet(
  h: { dst: string; src: string; ethertype: number; vlan?: number; pcp?: number; tags?: { tpid?: number; id: number; pcp?: number; dei?: boolean }[] },
  payload: Buffer,
): Buffer {
  const tags = h.tags ?? (h.vlan !== undefined ? [{ tpid: ETHERTYPE_VLAN, id: h.vlan, pcp: h.pcp }] : []);
  const out = Buffer.alloc(14 + 4 * tags.length + payload.length);
  macToBytes(h.dst).copy(out, 0);
  macToBytes(h.src).copy(out, 6);
  let p = 12;
  for (const t of tags) {
    out.writeUInt16BE(t.tpid ?? ETHERTYPE_VLAN, p);
    out.writeUInt16BE((((t.pcp ?? 0) & 7) << 13) | (t.dei ? 0x1000 : 0) | (t.id & 0x0fff), p + 2);
    p += 4;
  }
  out.writeUInt16BE(h.ethertype, p);
  payload.copy(out, p + 2);
  return out;
}

/** An IEEE 802.3 frame (length field) whose LLC/SNAP header carries `ethertype` (OUI 0), as some stacks send ARP. */
export function encodeSnapFrame(h: { dst: string; src: string; ethertype: number }, payload: Buffer): Buffer {
  const snap = Buffer.from([0xaa, 0xaa, 0x03, 0, 0, 0, h.ethertype >> 8, h.ethertype & 0xff]);
  const out = Buffer.alloc(14 + SNAP_HEADER_LEN + payload.length);
  macToBytes(h.dst).copy(out, 0);
  macToBytes(h.src).copy(out, 6);
  out.writeUInt16BE(SNAP_HEADER_LEN + payload.length, 12);
  snap.copy(out, 14);
  payload.copy(out, 14 + SNAP_HEADER_LEN);
  return out;
}

/** Pad a frame to the 60-byte Ethernet minimum (without FCS), as some senders (Habets arping) do. */
export function padFrame(frame: Buffer, min = 60): Buffer {
  return frame.length >= min ? frame : Buffer.concat([frame, Buffer.alloc(min - frame.length)]);
}
