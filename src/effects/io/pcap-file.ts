/**
 * Capture files on disk, on top of the pcap codec (src/codecs/pcap.ts): read a pcap/pcapng file as a stream of
 * records (a read stream fed into a PcapReader), or all at once; write a classic µs pcap as frames arrive.
 */
import { createReadStream, closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HadiagError, usageError } from '../../core/errors.js';
import { LINKTYPE_ETHERNET, PcapReader, pcapHeader, pcapRecord, type PcapFile, type PcapRecord } from '../../codecs/pcap.js';

/**
 * The records of a capture file, read chunk by chunk as they are consumed. Pass a `reader` to learn the file's
 * format, link type and whether it was cut short once the iteration is done. Throws HadiagError (exit 2)
 * naming the file when it cannot be read or is not a capture.
 */
export async function* readPcapRecords(path: string, reader = new PcapReader(path)): AsyncGenerator<PcapRecord> {
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream) yield* reader.read(chunk as Buffer);
  } catch (err) {
    throw err instanceof HadiagError ? err : unreadable(path, err);
  }
  reader.end();
}

/** Read and parse a whole capture file (for callers that want every record at once). */
export async function readPcap(path: string): Promise<PcapFile> {
  const reader = new PcapReader(path);
  const records: PcapRecord[] = [];
  for await (const r of readPcapRecords(path, reader)) records.push(r);
  return reader.summary(records);
}

/** The one-line error for a capture file that cannot be read (missing, not permitted, a directory …). */
export function unreadable(path: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : (e.message ?? String(err));
  return usageError(`cannot read capture file`, `${path}: ${why}`, 'give the path of a .pcap or .pcapng file (e.g. from tcpdump -w)');
}

/**
 * Writes a classic µs pcap (little endian, link type 1 by default). Each record goes to the file at once,
 * so a capture interrupted by Ctrl-C is still readable. Creates the parent directory on demand.
 */
export class PcapWriter {
  readonly path: string;
  private fd: number | undefined;
  count = 0;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  static create(path: string, linktype = LINKTYPE_ETHERNET): PcapWriter {
    let fd: number;
    try {
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, 'w', 0o644);
      writeSync(fd, pcapHeader(linktype));
    } catch (err) {
      throw usageError('cannot write capture file', `${path}: ${(err as Error).message}`, 'choose a writable path with --write');
    }
    return new PcapWriter(path, fd);
  }

  write(tsMs: number, data: Buffer, origLen = data.length): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, pcapRecord(tsMs, data, origLen));
    this.count++;
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }
}
