/** Heartbeat datagrams out of captured frames and capture records (pure: the caller reads the file). */
import { decodeFrame } from '../../codecs/decode.js';
import type { PcapRecord } from '../../codecs/pcap.js';
import type { Datagram } from './heartbeats.js';

/** The UDP datagram to `port` a frame carries, or undefined (other traffic, fragments, broken frames). */
export function frameToDatagram(data: Buffer, linktype: number, tsMs: number, port: number): Datagram | undefined {
  const f = decodeFrame(data, linktype);
  if (!f.ipv4 || !f.udp || f.udp.dstPort !== port) return undefined;
  return { tsMs, src: f.ipv4.src, srcPort: f.udp.srcPort, dst: f.ipv4.dst, dstPort: f.udp.dstPort, payload: f.udp.payload };
}

/** Every datagram to `port` among capture records, in record order, and how many other frames were skipped. */
export async function heartbeatDatagrams(records: Iterable<PcapRecord> | AsyncIterable<PcapRecord>, port: number): Promise<{ datagrams: Datagram[]; otherFrames: number }> {
  const datagrams: Datagram[] = [];
  let otherFrames = 0;
  for await (const r of records) {
    const d = frameToDatagram(r.data, r.linktype, r.tsMs, port);
    if (d) datagrams.push(d);
    else otherFrames++;
  }
  return { datagrams, otherFrames };
}
