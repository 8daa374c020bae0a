/**
 * Small client captures for the probe-matching and announcement tests: frames built with the codecs, written
 * as classic pcap (Ethernet, or Linux cooked with the packet type of each frame).
 */
import { buildArpFrame } from '../../src/codecs/arp.js';
import { encodeEthernet } from '../../src/codecs/ethernet.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';
import { encodeIpv4 } from '../../src/codecs/ipv4.js';
import { pcapHeader, pcapRecord } from '../../src/codecs/pcap.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL } from '../../src/codecs/decode.js';

export const F = {
  vip: '198.18.0.20',
  clientIp: '198.18.0.5',
  clientMac: '02:00:00:00:00:05',
  oldMac: '02:00:00:00:00:0b',
  newMac: '02:00:00:00:00:0c',
  bc: 'ff:ff:ff:ff:ff:ff',
  zero: '00:00:00:00:00:00',
  t0: 1_800_000_000_000,
};

/** One frame of a fixture: when, the Ethernet frame, and (for cooked captures) its packet type. */
export interface FixtureFrame {
  tsMs: number;
  frame: Buffer;
  /** 0 to this host, 1 broadcast, 4 sent by this host */
  pktType: number;
}

export function echo(tsMs: number, type: 0 | 8, id: number, seqOnWire: number, peerMac: string, o: { clientIp?: string; clientMac?: string } = {}): FixtureFrame {
  const clientIp = o.clientIp ?? F.clientIp;
  const clientMac = o.clientMac ?? F.clientMac;
  const icmp = encodeIcmpEcho({ type, id, seq: seqOnWire & 0xffff }, Buffer.alloc(32, 0x61));
  const [srcIp, dstIp] = type === 8 ? [clientIp, F.vip] : [F.vip, clientIp];
  const [src, dst] = type === 8 ? [clientMac, peerMac] : [peerMac, clientMac];
  return { tsMs, frame: encodeEthernet({ dst, src, ethertype: 0x0800 }, encodeIpv4({ src: srcIp, dst: dstIp, proto: 1 }, icmp)), pktType: type === 8 ? 4 : 0 };
}

export function arp(tsMs: number, p: { op: 1 | 2; ethDst: string; ethSrc: string; senderMac: string; senderIp: string; targetMac: string; targetIp: string }, pktType: number): FixtureFrame {
  return { tsMs, frame: buildArpFrame({ ethDst: p.ethDst, ethSrc: p.ethSrc, op: p.op, senderMac: p.senderMac, senderIp: p.senderIp, targetMac: p.targetMac, targetIp: p.targetIp }), pktType };
}

/** This host asks for the VIP (broadcast, or unicast to the MAC its entry holds). */
export const ask = (tsMs: number, dstMac: string) =>
  arp(tsMs, { op: 1, ethDst: dstMac, ethSrc: F.clientMac, senderMac: F.clientMac, senderIp: F.clientIp, targetMac: F.zero, targetIp: F.vip }, 4);
/** A unicast reply from the VIP to this host (an answer to its request, or unsolicited). */
export const replyTo = (tsMs: number, mac: string) =>
  arp(tsMs, { op: 2, ethDst: F.clientMac, ethSrc: mac, senderMac: mac, senderIp: F.vip, targetMac: F.clientMac, targetIp: F.clientIp }, 0);
/** A gratuitous request for the VIP, broadcast. */
export const garp = (tsMs: number, mac: string) => arp(tsMs, { op: 1, ethDst: F.bc, ethSrc: mac, senderMac: mac, senderIp: F.vip, targetMac: F.zero, targetIp: F.vip }, 1);
/** A request from the VIP for this host: broadcast (hadiag's `directed`) or unicast to this host's MAC. */
export const vipAsks = (tsMs: number, mac: string, ethDst = F.bc) =>
  arp(tsMs, { op: 1, ethDst, ethSrc: mac, senderMac: mac, senderIp: F.vip, targetMac: ethDst === F.bc ? F.bc : F.zero, targetIp: F.clientIp }, ethDst === F.bc ? 1 : 0);

/** A Linux cooked (SLL) header before the frame's payload: packet type, source MAC, ethertype. */
function cooked(f: FixtureFrame): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(f.pktType, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  f.frame.copy(h, 6, 6, 12);
  f.frame.copy(h, 14, 12, 14);
  return Buffer.concat([h, f.frame.subarray(14)]);
}

/** A classic pcap of the frames in time order; `linkCooked` writes them as a `tcpdump -i any` capture would. */
export function pcapOf(frames: FixtureFrame[], linkCooked = false): Buffer {
  const sorted = [...frames].sort((a, b) => a.tsMs - b.tsMs);
  return Buffer.concat([pcapHeader(linkCooked ? LINKTYPE_LINUX_SLL : LINKTYPE_ETHERNET), ...sorted.map((f) => pcapRecord(f.tsMs, linkCooked ? cooked(f) : f.frame))]);
}

/** A ping stream: `count` probes every `intervalMs` from `startMs`, sequence `first + i * step` on the wire; `answered(i)` says which get a reply from `mac(i)`. */
export function pingStream(o: { startMs: number; count: number; intervalMs: number; id: number; first?: number; step?: number; answered?: (i: number) => boolean; mac?: (i: number) => string }): FixtureFrame[] {
  const out: FixtureFrame[] = [];
  for (let i = 0; i < o.count; i++) {
    const t = o.startMs + i * o.intervalMs;
    const seq = ((o.first ?? 1) + i * (o.step ?? 1)) & 0xffff;
    const mac = o.mac?.(i) ?? F.oldMac;
    out.push(echo(t, 8, o.id, seq, mac));
    if (o.answered?.(i) ?? true) out.push(echo(t + 0.3, 0, o.id, seq, mac));
  }
  return out;
}
