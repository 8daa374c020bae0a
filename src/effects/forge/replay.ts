/** Genuine datagrams to replay, taken from a capture (pcap/pcapng) of real Heartbeat traffic. */
import { readPcap } from '../../codecs/pcap.js';
import { decodeFrame } from '../../codecs/decode.js';

/** The UDP payloads sent to `port` in a capture, in capture order. */
export async function replayPayloads(file: string, port = 694): Promise<Buffer[]> {
  const p = await readPcap(file);
  const out: Buffer[] = [];
  for (const r of p.records) {
    const f = decodeFrame(r.data, r.linktype ?? p.linktype);
    if (f.udp && f.udp.dstPort === port) out.push(Buffer.from(f.udp.payload));
  }
  return out;
}
