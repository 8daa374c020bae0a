/**
 * Opening a capture file for a command's --read: the header is read and the link type judged against what the
 * command needs (src/models/capture/support.ts) before any record, so a file the command cannot use is one
 * line with exit 2, never "0 frames, healthy". The records then come one at a time as they are consumed.
 */
import { createReadStream } from 'node:fs';
import { HadiagError, usageError } from '../../core/errors.js';
import { PcapReader, type PcapFormat, type PcapRecord } from '../../codecs/pcap.js';
import { linkSupport, linkTypeLabel, type CaptureUse } from '../../models/capture/support.js';
import { unreadable } from './pcap-file.js';

export type { CaptureUse } from '../../models/capture/support.js';

export interface CaptureStats {
  /** timed records given so far */
  records: number;
  /** records left out because they carry no timestamp (pcapng Simple Packet Blocks) */
  untimed: number;
  /** records left out because their interface's link type is one the use cannot work with (mixed pcapng) */
  skipped: number;
  /** the file ended in the middle of a record (e.g. tcpdump was killed); the records before it were given */
  truncated: boolean;
}

export interface CaptureFile {
  path: string;
  format: PcapFormat;
  /** link type of the file (classic) or of its first interface (pcapng) */
  linktype: number;
  /** timed records only, one at a time, never an array of the file; iterate it once */
  records: AsyncIterable<PcapRecord>;
  /** filled as `records` is consumed; final once it is done */
  stats: CaptureStats;
  /** what this link type cannot tell (e.g. Linux cooked: "no destination MAC: …"), for the command's notes */
  limits: string[];
}

/**
 * Open `path` for `use`. Throws a one-line HadiagError (exit 2) when the file cannot be read, is not a capture
 * (a compressed one names the command that decompresses it), is too short to hold a capture header, or has a
 * link type the use cannot work with; iterating `records` throws one when every record lacks a timestamp.
 */
export async function openCaptureFile(path: string, use: CaptureUse): Promise<CaptureFile> {
  const stream = createReadStream(path);
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const reader = new PcapReader(path);
  try {
    await readHeader(reader, chunks, path);
  } catch (err) {
    stream.destroy();
    throw err instanceof HadiagError ? err : unreadable(path, err);
  }
  const linktype = reader.linktype!;
  const support = linkSupport(linktype, use);
  if (!support.ok) {
    stream.destroy();
    throw usageError(support.what, path, support.fix);
  }
  const file: CaptureFile = {
    path,
    format: reader.format!,
    linktype,
    records: { [Symbol.asyncIterator]: () => timedRecords(file, reader, chunks, () => stream.destroy(), use) },
    stats: { records: 0, untimed: 0, skipped: 0, truncated: false },
    limits: [...support.limits],
  };
  return file;
}

async function readHeader(reader: PcapReader, chunks: AsyncIterator<Buffer>, path: string): Promise<void> {
  while (!reader.readHeader()) {
    const next = await chunks.next();
    if (next.done) {
      reader.end(); // throws for a file that is not a capture or is cut short inside its header
      throw usageError('too short to be a capture (a pcapng section header and no interface description)', path, 'the capture was cut off before its first packet; capture again with tcpdump -w FILE');
    }
    reader.push(next.value);
  }
}

async function* timedRecords(file: CaptureFile, reader: PcapReader, chunks: AsyncIterator<Buffer>, close: () => void, use: CaptureUse): AsyncGenerator<PcapRecord> {
  const { stats } = file;
  const usable = new Map<number, boolean>([[file.linktype, true]]);
  try {
    for (;;) {
      for (let r = reader.next(); r; r = reader.next()) {
        stats.untimed = reader.untimed;
        if (!usable.get(r.linktype) && !admitLinkType(file, usable, r.linktype, use)) {
          stats.skipped++;
          continue;
        }
        stats.records++;
        yield r;
      }
      stats.untimed = reader.untimed;
      const next = await chunks.next();
      if (next.done) break;
      reader.push(next.value);
    }
    reader.end();
    stats.truncated = reader.truncated;
  } catch (err) {
    throw err instanceof HadiagError ? err : unreadable(file.path, err);
  } finally {
    close();
  }
  if (stats.records === 0 && stats.untimed > 0) throw untimed(file.path, stats.untimed, use);
}

/** A later pcapng interface with another link type: usable or not, its limits joined to the file's once. */
function admitLinkType(file: CaptureFile, usable: Map<number, boolean>, linktype: number, use: CaptureUse): boolean {
  if (usable.has(linktype)) return usable.get(linktype)!;
  const support = linkSupport(linktype, use);
  usable.set(linktype, support.ok);
  if (!support.ok) file.limits.push(`packets of link type ${linkTypeLabel(linktype)} were left out: ${support.what}`);
  for (const l of support.ok ? support.limits : []) if (!file.limits.includes(l)) file.limits.push(l);
  return support.ok;
}

function untimed(path: string, count: number, use: CaptureUse): HadiagError {
  return usageError(
    `no packet has a timestamp (${count} pcapng simple packet block(s)), and ${USE_NEEDS_TIMES[use]}`,
    path,
    'capture again with tcpdump -w FILE, which timestamps every packet (editcap -F pcap converts the file but cannot add the missing times)',
  );
}

const USE_NEEDS_TIMES: Record<CaptureUse, string> = {
  arp: 'what a client does with an ARP frame depends on when it came',
  icmp: 'an outage is timed from the packets',
  heartbeat: 'heartbeat intervals and deadtimes are timed from the packets',
};
