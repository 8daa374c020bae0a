/** Heartbeat datagrams out of captured frames and capture records (pure: effects/io/heartbeat-capture.ts reads the file). */
import { decodeFrame } from '../../codecs/decode.js';
import type { Datagram } from './heartbeats.js';

/** The UDP datagram to `port` a frame carries, or undefined (other traffic, fragments, broken frames). */
export function frameToDatagram(data: Buffer, linktype: number, tsMs: number, port: number): Datagram | undefined {
  const f = decodeFrame(data, linktype);
  if (!f.ipv4 || !f.udp || f.udp.dstPort !== port) return undefined;
  return { tsMs, src: f.ipv4.src, srcPort: f.udp.srcPort, dst: f.ipv4.dst, dstPort: f.udp.dstPort, payload: f.udp.payload };
}
