/** Shared by the wire tests: the UDP payloads of the Heartbeat captures under test/fixtures/. */
import { fileURLToPath } from 'node:url';
import { readPcap } from '../../src/effects/io/pcap-file.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import type { AuthKeyLike } from '../../src/codecs/heartbeat/auth.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface Datagram {
  tsMs: number;
  src: string;
  dst: string;
  payload: Buffer;
}

/** Every UDP datagram to `port` in a capture file under test/fixtures/. */
export async function datagrams(relPath: string, port = 694): Promise<Datagram[]> {
  const file = await readPcap(FIXTURES + relPath);
  const out: Datagram[] = [];
  for (const r of file.records) {
    const f = decodeFrame(r.data, r.linktype);
    if (f.ipv4 && f.udp && f.udp.dstPort === port) out.push({ tsMs: r.tsMs, src: f.ipv4.src, dst: f.ipv4.dst, payload: f.udp.payload });
  }
  return out;
}

/** The fixture authkeys of heartbeat-3.0.6/ (auth 2 / 2 sha1 pass). */
export const SHA1_KEY: AuthKeyLike = { index: 2, method: 'sha1', key: 'pass' };
export const keyMap = (...keys: AuthKeyLike[]) => new Map(keys.map((k) => [k.index, k]));
