/**
 * pcap files: read classic pcap (µs and ns, either byte order) and pcapng (SHB/IDB/EPB/SPB/PB, per-interface
 * link type and timestamp resolution); write classic µs pcap that tcpdump and Wireshark open.
 * `parsePcap` is pure (bytes in, records out); `readPcap` and `PcapWriter` do the file I/O.
 */
import { readFile } from 'node:fs/promises';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { usageError } from '../core/errors.js';

import { LINKTYPE_ETHERNET } from './decode.js';

export { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './decode.js';

export interface PcapRecord {
  /** epoch milliseconds (float; sub-ms digits as precise as the file's resolution allows) */
  tsMs: number;
  /** the captured bytes (may be shorter than origLen when the capture had a snap length) */
  data: Buffer;
  origLen: number;
  /** link type of this record (pcapng files may mix interfaces of different types) */
  linktype: number;
  /** pcapng interface index (0 for classic pcap) */
  ifIndex: number;
}

export type PcapFormat = 'pcap' | 'pcap-ns' | 'pcapng';

export interface PcapFile {
  format: PcapFormat;
  /** link type of the file (classic) or of its first interface (pcapng) */
  linktype: number;
  records: PcapRecord[];
  /** the file ended in the middle of a record (e.g. tcpdump was killed); the records before it are kept */
  truncated: boolean;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

/** Read and parse a capture file. Throws HadiagError (exit 2) naming the file and what it is otherwise. */
export async function readPcap(path: string): Promise<PcapFile> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : (e.message ?? String(err));
    throw usageError(`cannot read capture file`, `${path}: ${why}`, 'give the path of a .pcap or .pcapng file (e.g. from tcpdump -w)');
  }
  return parsePcap(buf, path);
}

/** Parse the bytes of a pcap or pcapng file (pure). `name` is used in error messages. */
export function parsePcap(buf: Buffer, name = 'capture'): PcapFile {
  if (buf.length < 4) throw notPcap(buf, name);
  const le = buf.readUInt32LE(0);
  const be = buf.readUInt32BE(0);
  if (le === PCAP_MAGIC_US || be === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_NS) {
    return parseClassic(buf, name);
  }
  if (le === PCAPNG_SHB) return parseNg(buf, name);
  throw notPcap(buf, name);
}

function notPcap(buf: Buffer, name: string): Error {
  return usageError(`not a pcap file (${describeBytes(buf)})`, name, 'give a capture written by tcpdump -w, Wireshark or hadiag --write');
}

/** Say what a file that is not a capture looks like. */
export function describeBytes(buf: Buffer): string {
  if (buf.length === 0) return 'the file is empty';
  const hex = [...buf.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const m = buf.length >= 4 ? buf.readUInt32BE(0) : 0;
  const kinds: [boolean, string][] = [
    [buf[0] === 0x1f && buf[1] === 0x8b, 'a gzip file: gunzip it first'],
    [buf.subarray(0, 4).toString('latin1') === 'PK\u0003\u0004', 'a zip archive'],
    [buf.subarray(0, 4).toString('latin1') === '\u007fELF', 'an ELF executable'],
    [m === 0xa1b2cd34 || m === 0x34cdb2a1, 'a modified (Kuznetzov) pcap: convert it with editcap -F pcap'],
    [buf.subarray(0, 5).toString('latin1') === 'BZh91' || (buf[0] === 0x42 && buf[1] === 0x5a && buf[2] === 0x68), 'a bzip2 file'],
    [buf[0] === 0xfd && buf.subarray(1, 6).toString('latin1') === '7zXZ\u0000', 'an xz file'],
    [buf[0] === 0x28 && buf[1] === 0xb5 && buf[2] === 0x2f && buf[3] === 0xfd, 'a zstd file'],
  ];
  for (const [hit, what] of kinds) if (hit) return `it is ${what}; starts with ${hex}`;
  const head = buf.subarray(0, Math.min(buf.length, 64));
  const printable = [...head].every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable) {
    const text = head.toString('latin1').split('\n')[0]!.slice(0, 24);
    return `it is text, starts with ${JSON.stringify(text)}`;
  }
  return `starts with ${hex}`;
}

// ---- classic pcap ----

function parseClassic(buf: Buffer, name: string): PcapFile {
  const bigEndian = buf.readUInt32BE(0) === PCAP_MAGIC_US || buf.readUInt32BE(0) === PCAP_MAGIC_NS;
  const magic = bigEndian ? buf.readUInt32BE(0) : buf.readUInt32LE(0);
  const nano = magic === PCAP_MAGIC_NS;
  const u32 = (off: number) => (bigEndian ? buf.readUInt32BE(off) : buf.readUInt32LE(off));
  if (buf.length < 24) throw usageError('truncated pcap file (header shorter than 24 bytes)', name, 'the file is damaged; capture again');
  // The upper bits of the link-type field may carry FCS information (pcap format spec); the type is the low 28 bits.
  const linktype = u32(20) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  let truncated = false;
  while (off < buf.length) {
    if (off + 16 > buf.length) {
      truncated = true;
      break;
    }
    const sec = u32(off);
    const frac = u32(off + 4);
    const inclLen = u32(off + 8);
    const origLen = u32(off + 12);
    if (off + 16 + inclLen > buf.length) {
      truncated = true;
      break;
    }
    const tsMs = sec * 1000 + (nano ? frac / 1e6 : frac / 1e3);
    records.push({ tsMs, data: buf.subarray(off + 16, off + 16 + inclLen), origLen, linktype, ifIndex: 0 });
    off += 16 + inclLen;
  }
  return { format: nano ? 'pcap-ns' : 'pcap', linktype, records, truncated };
}

// ---- pcapng ----

interface NgInterface {
  linktype: number;
  snaplen: number;
  /** timestamp units per second */
  unitsPerSec: bigint;
  offsetSec: bigint;
}

function parseNg(buf: Buffer, name: string): PcapFile {
  const records: PcapRecord[] = [];
  let ifaces: NgInterface[] = [];
  let bigEndian = false;
  let truncated = false;
  let firstLinktype: number | undefined;
  let off = 0;
  const u16 = (o: number) => (bigEndian ? buf.readUInt16BE(o) : buf.readUInt16LE(o));
  const u32 = (o: number) => (bigEndian ? buf.readUInt32BE(o) : buf.readUInt32LE(o));
  while (off < buf.length) {
    if (off + 12 > buf.length) {
      truncated = true;
      break;
    }
    const type = buf.readUInt32LE(off) === PCAPNG_SHB ? PCAPNG_SHB : u32(off);
    if (type === PCAPNG_SHB) {
      // A section header sets the byte order of everything up to the next one.
      const bom = buf.readUInt32LE(off + 8);
      if (bom === PCAPNG_BOM) bigEndian = false;
      else if (buf.readUInt32BE(off + 8) === PCAPNG_BOM) bigEndian = true;
      else throw usageError('damaged pcapng file (bad byte-order magic in the section header)', `${name}: offset ${off}`, 'open it in Wireshark to check');
      ifaces = [];
    }
    const len = u32(off + 4);
    if (len < 12 || len % 4 !== 0) {
      if (off === 0) throw usageError(`damaged pcapng file (block length ${len})`, `${name}: offset ${off}`, 'open it in Wireshark to check');
      truncated = true;
      break;
    }
    if (off + len > buf.length) {
      truncated = true;
      break;
    }
    const body = off + 8;
    const bodyEnd = off + len - 4;
    switch (type) {
      case 1: {
        // Interface Description Block
        const linktype = u16(body);
        const snaplen = u32(body + 4);
        let unitsPerSec = 1_000_000n;
        let offsetSec = 0n;
        forEachOption(buf, body + 8, bodyEnd, u16, (code, vOff, vLen) => {
          if (code === 9 && vLen >= 1) {
            const r = buf[vOff]!;
            unitsPerSec = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
          } else if (code === 14 && vLen >= 8) {
            offsetSec = bigEndian ? buf.readBigInt64BE(vOff) : buf.readBigInt64LE(vOff);
          }
        });
        ifaces.push({ linktype, snaplen, unitsPerSec, offsetSec });
        firstLinktype ??= linktype;
        break;
      }
      case 6:
      case 2: {
        // Enhanced Packet Block (6) / obsolete Packet Block (2)
        const ifIndex = type === 6 ? u32(body) : u16(body);
        const iface = ifaces[ifIndex];
        if (!iface) throw usageError(`damaged pcapng file (packet for interface ${ifIndex}, which was not described)`, `${name}: offset ${off}`, 'open it in Wireshark to check');
        const hi = BigInt(u32(body + 4));
        const lo = BigInt(u32(body + 8));
        const capLen = u32(body + 12);
        const origLen = u32(body + 16);
        const dataOff = body + 20;
        if (dataOff + capLen > bodyEnd) throw usageError('damaged pcapng file (packet longer than its block)', `${name}: offset ${off}`, 'open it in Wireshark to check');
        records.push({ tsMs: ngTime(iface, (hi << 32n) | lo), data: buf.subarray(dataOff, dataOff + capLen), origLen, linktype: iface.linktype, ifIndex });
        break;
      }
      case 3: {
        // Simple Packet Block: interface 0, no timestamp
        const iface = ifaces[0];
        if (!iface) throw usageError('damaged pcapng file (simple packet before any interface)', `${name}: offset ${off}`, 'open it in Wireshark to check');
        const origLen = u32(body);
        const room = bodyEnd - (body + 4);
        const capLen = Math.min(origLen, room, iface.snaplen || origLen);
        records.push({ tsMs: NaN, data: buf.subarray(body + 4, body + 4 + capLen), origLen, linktype: iface.linktype, ifIndex: 0 });
        break;
      }
      default:
        break; // name resolution, statistics, custom blocks: not needed
    }
    off += len;
  }
  return { format: 'pcapng', linktype: firstLinktype ?? LINKTYPE_ETHERNET, records, truncated };
}

function forEachOption(buf: Buffer, off: number, end: number, u16: (o: number) => number, fn: (code: number, vOff: number, vLen: number) => void): void {
  while (off + 4 <= end) {
    const code = u16(off);
    const len = u16(off + 2);
    if (code === 0) return;
    if (off + 4 + len > end) return;
    fn(code, off + 4, len);
    off += 4 + Math.ceil(len / 4) * 4;
  }
}

function ngTime(iface: NgInterface, units: bigint): number {
  const sec = units / iface.unitsPerSec + iface.offsetSec;
  const rem = units % iface.unitsPerSec;
  return Number(sec) * 1000 + (Number(rem) * 1000) / Number(iface.unitsPerSec);
}

// ---- writing ----

/** The 24-byte global header of a classic little-endian µs pcap. */
export function pcapHeader(linktype = LINKTYPE_ETHERNET, snaplen = 262144): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(PCAP_MAGIC_US, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeInt32LE(0, 8);
  h.writeUInt32LE(0, 12);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linktype, 20);
  return h;
}

/** One record (16-byte header + data) of a classic µs pcap. */
export function pcapRecord(tsMs: number, data: Buffer, origLen = data.length): Buffer {
  const totalUs = Math.round(tsMs * 1000);
  const sec = Math.floor(totalUs / 1e6);
  const usec = totalUs - sec * 1e6;
  const h = Buffer.alloc(16);
  h.writeUInt32LE(sec >>> 0, 0);
  h.writeUInt32LE(usec, 4);
  h.writeUInt32LE(data.length, 8);
  h.writeUInt32LE(Math.max(origLen, data.length), 12);
  return Buffer.concat([h, data]);
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
