/** ARP (RFC 826) for Ethernet/IPv4, and every gratuitous-ARP form as a whole Ethernet frame. */
import { MAC_BROADCAST, MAC_ZERO, ipv4FromBytes, ipv4ToBytes, macFromBytes, macToBytes, normMac } from './addr.js';
import { ETHERTYPE_ARP, encodeEthernet, padFrame } from './ethernet.js';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ArpPacket {
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  /** 1 request, 2 reply (other values are kept as they are) */
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export type ArpDecode = { ok: true; arp: ArpPacket } | { ok: false; error: string };

export function decodeArp(buf: Buffer, off = 0): ArpDecode {
  if (buf.length - off < 8) return { ok: false, error: `truncated ARP header (${buf.length - off} bytes)` };
  const htype = buf.readUInt16BE(off);
  const ptype = buf.readUInt16BE(off + 2);
  const hlen = buf[off + 4]!;
  const plen = buf[off + 5]!;
  const op = buf.readUInt16BE(off + 6);
  if (htype !== 1 || ptype !== 0x0800 || hlen !== 6 || plen !== 4) {
    return { ok: false, error: `ARP for hardware ${htype}/protocol 0x${ptype.toString(16)} (hlen ${hlen}, plen ${plen}) is not Ethernet/IPv4` };
  }
  if (buf.length - off < 28) return { ok: false, error: `truncated ARP packet (${buf.length - off} of 28 bytes)` };
  return {
    ok: true,
    arp: {
      htype,
      ptype,
      hlen,
      plen,
      op,
      senderMac: macFromBytes(buf, off + 8),
      senderIp: ipv4FromBytes(buf, off + 14),
      targetMac: macFromBytes(buf, off + 18),
      targetIp: ipv4FromBytes(buf, off + 24),
    },
  };
}

/** The 28 bytes of an Ethernet/IPv4 ARP packet. */
export function encodeArp(p: { op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string }): Buffer {
  const out = Buffer.alloc(28);
  out.writeUInt16BE(1, 0);
  out.writeUInt16BE(0x0800, 2);
  out[4] = 6;
  out[5] = 4;
  out.writeUInt16BE(p.op, 6);
  macToBytes(p.senderMac).copy(out, 8);
  ipv4ToBytes(p.senderIp).copy(out, 14);
  macToBytes(p.targetMac).copy(out, 18);
  ipv4ToBytes(p.targetIp).copy(out, 24);
  return out;
}

/** A whole ARP Ethernet frame. */
export function buildArpFrame(p: { ethDst: string; ethSrc?: string; op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string; vlan?: number; pad?: boolean | number }): Buffer {
  const frame = encodeEthernet({ dst: p.ethDst, src: p.ethSrc ?? p.senderMac, ethertype: ETHERTYPE_ARP, vlan: p.vlan }, encodeArp(p));
  return p.pad ? padFrame(frame, p.pad === true ? 60 : p.pad) : frame;
}

/**
 * Gratuitous ARP forms:
 *  - request:       broadcast request, sender IP = target IP = VIP; ARP target MAC 00:00 by default (send_arp),
 *                   `arpTarget: 'bcast'` as iputils/Habets `arping -U` and keepalived, `'own'` as ucarp
 *  - reply:         broadcast reply, sender IP = target IP = VIP; ARP target MAC own by default (iputils -A,
 *                   send_arp), `'bcast'` as Habets `-U -P`, or `'zero'`
 *  - directed:      broadcast request from the VIP asking for a client (target IP = client), target MAC ff:ff
 *                   (iputils `arping -b -s VIP CLIENT`)
 *  - unicast-reply: reply sent to one client's MAC: VIP is-at MAC, target = client IP/MAC
 */
export type GarpForm = 'request' | 'reply' | 'directed' | 'unicast-reply';
export type ArpTargetForm = 'zero' | 'bcast' | 'own';

export interface GarpOptions {
  vip: string;
  mac: string;
  /** client IP (directed, unicast-reply) */
  targetIp?: string;
  /** client MAC (unicast-reply) */
  targetMac?: string;
  /** directed: send to this MAC (the client's) rather than broadcast */
  unicastTo?: string;
  /** ARP target-MAC field for request/reply (and directed) */
  arpTarget?: ArpTargetForm;
  /** pad with zeros: true = to the 60-byte Ethernet minimum, a number = to that frame length (Habets arping: 58) */
  pad?: boolean | number;
  vlan?: number;
}

export const DEFAULT_ARP_TARGET: Record<GarpForm, ArpTargetForm | undefined> = {
  request: 'zero',
  reply: 'own',
  directed: 'bcast',
  'unicast-reply': undefined,
};

function targetMacOf(form: ArpTargetForm, own: string): string {
  return form === 'zero' ? MAC_ZERO : form === 'bcast' ? MAC_BROADCAST : own;
}

export function buildGarp(form: GarpForm, o: GarpOptions): Buffer {
  const mac = normMac(o.mac);
  if (!mac) throw new TypeError(`not a MAC address: ${o.mac}`);
  const common = { senderMac: mac, senderIp: o.vip, vlan: o.vlan, pad: o.pad };
  switch (form) {
    case 'request':
      return buildArpFrame({ ...common, ethDst: MAC_BROADCAST, op: ARP_REQUEST, targetMac: targetMacOf(o.arpTarget ?? 'zero', mac), targetIp: o.vip });
    case 'reply':
      return buildArpFrame({ ...common, ethDst: MAC_BROADCAST, op: ARP_REPLY, targetMac: targetMacOf(o.arpTarget ?? 'own', mac), targetIp: o.vip });
    case 'directed': {
      if (!o.targetIp) throw new TypeError('directed GARP needs targetIp (the client)');
      const client = o.unicastTo ? normMac(o.unicastTo) : undefined;
      if (o.unicastTo && !client) throw new TypeError(`not a MAC address: ${o.unicastTo}`);
      // to the client's MAC (as Linux's own unicast probes, target MAC = the known one), else broadcast
      const targetMac = o.arpTarget ? targetMacOf(o.arpTarget, mac) : (client ?? MAC_BROADCAST);
      return buildArpFrame({ ...common, ethDst: client ?? MAC_BROADCAST, op: ARP_REQUEST, targetMac, targetIp: o.targetIp });
    }
    case 'unicast-reply': {
      if (!o.targetIp || !o.targetMac) throw new TypeError('unicast-reply needs targetIp and targetMac (the client)');
      const client = normMac(o.targetMac)!;
      return buildArpFrame({ ...common, ethDst: client, op: ARP_REPLY, targetMac: client, targetIp: o.targetIp });
    }
  }
}
