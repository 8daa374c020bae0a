/** Heartbeat datagrams out of a capture file: the file opened for 'heartbeat' (capture-file.ts), its records fed to the pure extractor. */
import { frameToDatagram } from '../../models/inspect/datagrams.js';
import type { Datagram } from '../../models/inspect/heartbeats.js';
import { openCaptureFile, type CaptureFile } from './capture-file.js';

export interface HeartbeatCapture {
  file: CaptureFile;
  /** the datagrams to the port, one at a time in file order; iterate once */
  datagrams: AsyncIterable<Datagram>;
  /** frames that were not a datagram to the port, counted as `datagrams` is consumed */
  readonly otherFrames: number;
}

/** Open `path` and stream the UDP datagrams to `port` it holds (errors: see openCaptureFile). */
export async function openHeartbeatCapture(path: string, port: number): Promise<HeartbeatCapture> {
  const file = await openCaptureFile(path, 'heartbeat');
  let otherFrames = 0;
  async function* datagrams(): AsyncGenerator<Datagram> {
    for await (const r of file.records) {
      const d = frameToDatagram(r.data, r.linktype, r.tsMs, port);
      if (d) yield d;
      else otherFrames++;
    }
  }
  return {
    file,
    datagrams: datagrams(),
    get otherFrames() {
      return otherFrames;
    },
  };
}

/** Every datagram to `port` in a capture file, as an array (for small files and tests), and how many other frames were skipped. */
export async function readHeartbeatCapture(path: string, port: number): Promise<{ datagrams: Datagram[]; otherFrames: number; truncated: boolean }> {
  const capture = await openHeartbeatCapture(path, port);
  const datagrams: Datagram[] = [];
  for await (const d of capture.datagrams) datagrams.push(d);
  return { datagrams, otherFrames: capture.otherFrames, truncated: capture.file.stats.truncated };
}
