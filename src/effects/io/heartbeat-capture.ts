/** Heartbeat datagrams out of a capture file: the file read (effects/io/pcap-file.ts) fed to the pure extractor. */
import { PcapReader } from '../../codecs/pcap.js';
import { heartbeatDatagrams } from '../../models/inspect/datagrams.js';
import type { Datagram } from '../../models/inspect/heartbeats.js';
import { readPcapRecords } from './pcap-file.js';

/** Every datagram to `port` in a pcap/pcapng file, in file order, and how many other frames were skipped. */
export async function readHeartbeatCapture(path: string, port: number): Promise<{ datagrams: Datagram[]; otherFrames: number; truncated: boolean }> {
  const reader = new PcapReader(path);
  const { datagrams, otherFrames } = await heartbeatDatagrams(readPcapRecords(path, reader), port);
  return { datagrams, otherFrames, truncated: reader.truncated };
}
