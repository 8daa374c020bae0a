/**
 * A client capture for the long-run tests and benches: echo probes to the VIP every `intervalMs` with their
 * replies, the client's ARP exchange at the start, heartbeat from two nodes each second, one outage (the old
 * node goes silent, the new one announces by gratuitous ARP) and the client's own ARP probes during it.
 * Written record by record, so a million frames never sit in memory.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { buildArpFrame, buildGarp } from '../../src/codecs/arp.js';
import { encodeEthernet } from '../../src/codecs/ethernet.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';
import { encodeIpv4 } from '../../src/codecs/ipv4.js';
import { encodeUdp } from '../../src/codecs/udp.js';
import { pcapHeader, pcapRecord } from '../../src/codecs/pcap.js';

export const GEN = {
  vip: '198.18.0.20',
  clientIp: '198.18.0.100',
  clientMac: '02:00:00:00:00:64',
  oldMac: '02:00:00:00:00:0b',
  newMac: '02:00:00:00:00:0c',
  node1: '198.18.0.11',
  node2: '198.18.0.12',
  t0: 1_780_000_000_000,
  pingId: 0x4d2,
};

export interface GenOptions {
  probes: number;
  intervalMs?: number;
  /** outages as [first lost probe index, lost probes]; default one of 600 probes in the middle */
  outages?: [number, number][];
}

const payload = Buffer.alloc(56, 0x61);

function echo(type: 0 | 8, seq: number, peerMac: string): Buffer {
  const icmp = encodeIcmpEcho({ type, id: GEN.pingId, seq: seq & 0xffff }, payload);
  const [srcIp, dstIp] = type === 8 ? [GEN.clientIp, GEN.vip] : [GEN.vip, GEN.clientIp];
  const [src, dst] = type === 8 ? [GEN.clientMac, peerMac] : [peerMac, GEN.clientMac];
  return encodeEthernet({ dst, src, ethertype: 0x0800 }, encodeIpv4({ src: srcIp, dst: dstIp, proto: 1 }, icmp));
}

function heartbeat(srcIp: string, mac: string): Buffer {
  const udp = encodeUdp({ srcIp, dstIp: '198.18.0.255', srcPort: 40000, dstPort: 694 }, Buffer.from('###\n%%%\n'));
  return encodeEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: mac, ethertype: 0x0800 }, encodeIpv4({ src: srcIp, dst: '198.18.0.255', proto: 17 }, udp));
}

const ask = (dstMac: string) =>
  buildArpFrame({ ethDst: dstMac, ethSrc: GEN.clientMac, op: 1, senderMac: GEN.clientMac, senderIp: GEN.clientIp, targetMac: '00:00:00:00:00:00', targetIp: GEN.vip });
const answer = (mac: string) => buildArpFrame({ ethDst: GEN.clientMac, ethSrc: mac, op: 2, senderMac: mac, senderIp: GEN.vip, targetMac: GEN.clientMac, targetIp: GEN.clientIp });

const otherMac = (mac: string) => (mac === GEN.oldMac ? GEN.newMac : GEN.oldMac);

/** The frames of the run in time order, as [tsMs, frame]. */
export function* generatedFrames(o: GenOptions): Generator<[number, Buffer]> {
  const iv = o.intervalMs ?? 5;
  const outages = o.outages ?? [[Math.floor(o.probes / 2), 600]];
  const t = (i: number) => GEN.t0 + i * iv;
  yield [t(0) - 2, ask('ff:ff:ff:ff:ff:ff')];
  yield [t(0) - 1.5, answer(GEN.oldMac)];
  let mac = GEN.oldMac;
  let nextBeat = GEN.t0;
  for (let i = 0; i < o.probes; i++) {
    const ts = t(i);
    while (nextBeat <= ts) {
      if (mac === GEN.oldMac) yield [nextBeat + 0.1, heartbeat(GEN.node1, GEN.oldMac)];
      yield [nextBeat + 0.2, heartbeat(GEN.node2, GEN.newMac)];
      nextBeat += 1000;
    }
    const out = outages.find(([first, n]) => i >= first && i < first + n);
    if (out) {
      yield [ts, echo(8, i, mac)];
      if (i === out[0] + out[1] - 2) yield [ts + 1, buildGarp('request', { vip: GEN.vip, mac: otherMac(mac) })];
      continue;
    }
    const ended = outages.find(([first, n]) => i === first + n);
    if (ended) mac = otherMac(mac);
    yield [ts, echo(8, i, mac)];
    yield [ts + 0.3, echo(0, i, mac)];
  }
}

/** Write the capture to `path`; returns the number of frames. */
export async function writeGeneratedCapture(path: string, o: GenOptions): Promise<number> {
  const out = createWriteStream(path);
  out.write(pcapHeader());
  let n = 0;
  for (const [ts, frame] of generatedFrames(o)) {
    n++;
    if (!out.write(pcapRecord(ts, frame))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return n;
}
