/**
 * A long client capture for the capture-scale bench, written frame by frame (never held in memory): a client
 * pings the VIP every 5 ms and gets replies, re-resolves it now and then (unicast probe + reply), the VIP fails
 * over every few minutes (a few seconds without replies, then the new owner's GARPs), and the two servers send
 * Heartbeat status messages (sha1-signed, udp/694 broadcast) every second.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pcapHeader, pcapRecord } from '../src/codecs/pcap.js';
import { buildArpFrame, buildGarp, ARP_REPLY, ARP_REQUEST } from '../src/codecs/arp.js';
import { encodeEthernet, ETHERTYPE_IPV4 } from '../src/codecs/ethernet.js';
import { encodeIpv4, IPPROTO_ICMP, IPPROTO_UDP } from '../src/codecs/ipv4.js';
import { encodeIcmpEcho } from '../src/codecs/icmp.js';
import { encodeUdp } from '../src/codecs/udp.js';
import { encodeMessage } from '../src/codecs/heartbeat/codec.js';
import { statusMessage } from '../src/effects/forge/forge.js';

export const SCALE_VIP = '10.0.0.20';
export const SCALE_KEY = { index: 1, method: 'sha1' as const, key: 'capture-scale' };
const CLIENT = { ip: '10.0.0.5', mac: '02:00:00:00:00:05' };
const SERVERS = [
  { name: 'server1', ip: '10.0.0.11', mac: '02:00:00:00:00:11' },
  { name: 'server2', ip: '10.0.0.12', mac: '02:00:00:00:00:12' },
];

export interface ScaleOptions {
  frames: number;
  probeMs?: number;
  /** a failover every this many ms */
  failoverEveryMs?: number;
  /** ms without replies around each failover */
  outageMs?: number;
  /** with no heartbeats and no failovers: the plain "probes only" capture of the issue (120 000 probes) */
  probesOnly?: boolean;
}

export interface ScaleCapture {
  frames: number;
  probes: number;
  failovers: number;
  heartbeats: number;
  spanMs: number;
  bytes: number;
}

const ipv4Frame = (srcMac: string, dstMac: string, ip: Buffer) => encodeEthernet({ src: srcMac, dst: dstMac, ethertype: ETHERTYPE_IPV4 }, ip);

function echo(type: 0 | 8, owner: { ip: string; mac: string }, seq: number): Buffer {
  const icmp = encodeIcmpEcho({ type, id: 0x4242, seq: seq & 0xffff }, Buffer.alloc(56, 0x61));
  if (type === 8) return ipv4Frame(CLIENT.mac, owner.mac, encodeIpv4({ src: CLIENT.ip, dst: SCALE_VIP, proto: IPPROTO_ICMP }, icmp));
  return ipv4Frame(owner.mac, CLIENT.mac, encodeIpv4({ src: SCALE_VIP, dst: CLIENT.ip, proto: IPPROTO_ICMP }, icmp));
}

function heartbeat(server: (typeof SERVERS)[number], seq: number, tsMs: number): Buffer {
  const msg = encodeMessage(statusMessage({ src: server.name, seq, generation: 7, deadtimeMs: 5000, nowMs: tsMs }), SCALE_KEY);
  const udp = encodeUdp({ srcIp: server.ip, dstIp: '10.0.0.255', srcPort: 32768 + seq % 1000, dstPort: 694 }, msg);
  return ipv4Frame(server.mac, 'ff:ff:ff:ff:ff:ff', encodeIpv4({ src: server.ip, dst: '10.0.0.255', proto: IPPROTO_UDP }, udp));
}

/** Write the capture to `path`; resolves with what it holds. */
export async function writeScaleCapture(path: string, o: ScaleOptions): Promise<ScaleCapture> {
  const probeMs = o.probeMs ?? 5;
  const failoverEvery = o.failoverEveryMs ?? 300_000;
  const outageMs = o.outageMs ?? 3000;
  const out = createWriteStream(path);
  let bytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (!pending.length) return;
    const chunk = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    if (!out.write(chunk)) await once(out, 'drain');
  };
  const put = async (tsMs: number, frame: Buffer) => {
    const rec = pcapRecord(tsMs, frame);
    pending.push(rec);
    pendingBytes += rec.length;
    bytes += rec.length;
    stats.frames++;
    if (pendingBytes > 1 << 20) await flush();
  };
  const stats: ScaleCapture = { frames: 0, probes: 0, failovers: 0, heartbeats: 0, spanMs: 0, bytes: 0 };
  const header = pcapHeader();
  pending.push(header);
  pendingBytes += header.length;
  bytes += header.length;

  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  let owner = 0;
  let previous = SERVERS[0]!;
  let nextFailover = t0 + failoverEvery;
  let outageUntil = 0;
  let nextHeartbeat = t0;
  const hbSeq = [1, 1];
  /** frames due later (the GARPs after an outage), in time order */
  const scheduled: { tsMs: number; frame: Buffer }[] = [];
  for (let i = 0; stats.frames < o.frames; i++) {
    const ts = t0 + i * probeMs;
    if (!o.probesOnly && ts >= nextFailover) {
      // the owner dies; the other takes over after the outage and announces with 5 GARPs 200 ms apart
      stats.failovers++;
      previous = SERVERS[owner]!;
      owner = 1 - owner;
      outageUntil = ts + outageMs;
      const next = SERVERS[owner]!;
      for (let g = 0; g < 5; g++) scheduled.push({ tsMs: outageUntil + g * 200, frame: buildGarp('request', { vip: SCALE_VIP, mac: next.mac }) });
      nextFailover += failoverEvery;
    }
    while (scheduled.length && scheduled[0]!.tsMs <= ts) {
      const due = scheduled.shift()!;
      await put(due.tsMs - 0.1, due.frame);
    }
    const current = SERVERS[owner]!;
    // during the outage the client still sends to the dead owner
    const dst = ts < outageUntil ? previous : current;
    if (i % 6000 === 0 && i > 0) {
      // the client's entry went stale: a unicast probe to the cached MAC and the owner's answer
      await put(ts - 1, buildArpFrame({ ethDst: dst.mac, ethSrc: CLIENT.mac, op: ARP_REQUEST, senderMac: CLIENT.mac, senderIp: CLIENT.ip, targetMac: '00:00:00:00:00:00', targetIp: SCALE_VIP }));
      if (ts >= outageUntil) await put(ts - 0.5, buildArpFrame({ ethDst: CLIENT.mac, ethSrc: dst.mac, op: ARP_REPLY, senderMac: dst.mac, senderIp: SCALE_VIP, targetMac: CLIENT.mac, targetIp: CLIENT.ip }));
    }
    await put(ts, echo(8, dst, i));
    stats.probes++;
    if (ts >= outageUntil) await put(ts + 0.3, echo(0, dst, i));
    if (!o.probesOnly && ts >= nextHeartbeat) {
      for (let s = 0; s < SERVERS.length; s++) {
        await put(ts + 1 + s, heartbeat(SERVERS[s]!, hbSeq[s]!++, ts));
        stats.heartbeats++;
      }
      nextHeartbeat += 1000;
    }
    stats.spanMs = ts - t0;
  }
  await flush();
  out.end();
  await once(out, 'finish');
  stats.bytes = bytes;
  return stats;
}
