/** Genuine datagrams to replay, taken from a capture (pcap/pcapng) of real Heartbeat traffic. */
import { readPcapRecords } from '../io/pcap-file.js';
import { decodeFrame } from '../../codecs/decode.js';

/** The UDP payloads sent to `port` in a capture, in capture order. */
export async function replayPayloads(file: string, port = 694): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const r of readPcapRecords(file)) {
    const f = decodeFrame(r.data, r.linktype);
    if (f.udp && f.udp.dstPort === port) out.push(Buffer.from(f.udp.payload));
  }
  return out;
}
