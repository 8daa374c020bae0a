/**
 * pcap and pcapng, as a codec that owns no file or socket: `PcapReader` takes the bytes of a capture in chunks
 * (a file read stream, a `tcpdump -U -w -` pipe, or one whole buffer) and gives its records one at a time as
 * soon as they are complete. It reads classic pcap (µs and ns, either byte order) and pcapng (SHB/IDB/EPB/SPB/PB,
 * per-interface link type and timestamp resolution). A Simple Packet Block carries no timestamp: it is an
 * `UntimedRecord`, counted in `untimed` and given only by `nextAny()`, so every `PcapRecord` has a real time.
 * `pcapHeader`/`pcapRecord` encode classic µs pcap that tcpdump and Wireshark open. Reading and writing files
 * is src/effects/io/pcap-file.ts.
 */
import { usageError } from '../core/errors.js';
import { compressionOf, describeBytes } from './file-kind.js';

import { LINKTYPE_ETHERNET } from './decode.js';

export { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './decode.js';
export { compressionOf, describeBytes } from './file-kind.js';

interface RecordBody {
  /** the captured bytes (may be shorter than origLen when the capture had a snap length) */
  data: Buffer;
  origLen: number;
  /** link type of this record (pcapng files may mix interfaces of different types) */
  linktype: number;
  /** pcapng interface index (0 for classic pcap) */
  ifIndex: number;
}

export interface PcapRecord extends RecordBody {
  /** epoch milliseconds (float; sub-ms digits as precise as the file's resolution allows) */
  tsMs: number;
}

/** A record whose block carries no timestamp (pcapng Simple Packet Block). */
export interface UntimedRecord extends RecordBody {
  tsMs: undefined;
}

export type PcapFormat = 'pcap' | 'pcap-ns' | 'pcapng';

export interface PcapFile {
  format: PcapFormat;
  /** link type of the file (classic) or of its first interface (pcapng) */
  linktype: number;
  /** the timed records */
  records: PcapRecord[];
  /** records left out because they carry no timestamp (pcapng Simple Packet Blocks) */
  untimed: number;
  /** the file ended in the middle of a record (e.g. tcpdump was killed); the records before it are kept */
  truncated: boolean;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
/** bytes looked at to say what a file that is not a capture is */
const SNIFF_BYTES = 64;

/** Parse the bytes of a whole pcap or pcapng file (records are views of `buf`). `name` is used in error messages. */
export function parsePcap(buf: Buffer, name = 'capture'): PcapFile {
  const reader = new PcapReader(name);
  const records = [...reader.read(buf)];
  reader.end();
  return reader.summary(records);
}

/**
 * Incremental pcap/pcapng reader. `read(chunk)` yields the records the chunk completes (views of the chunk
 * when a record lies inside one); `end()` says no more bytes will come. Damaged headers throw a HadiagError
 * (exit 2) naming `name`; a capture cut short inside a record sets `truncated` instead.
 */
export class PcapReader {
  readonly name: string;
  /** known once the file header is read */
  format: PcapFormat | undefined;
  /** link type of the file (classic) or of its first interface (pcapng); undefined until known */
  linktype: number | undefined;
  truncated = false;
  /** records without a timestamp met so far (left out of `next()`/`records()`) */
  untimed = 0;
  private readonly bytes = new ByteQueue();
  /** file offset of the first queued byte */
  private offset = 0;
  private stage: 'magic' | 'classic-header' | 'classic' | 'pcapng' | 'stopped' = 'magic';
  private bigEndian = false;
  private ifaces: NgInterface[] = [];

  constructor(name = 'capture') {
    this.name = name;
  }

  /** Append a chunk; the records it completes come out of the returned iterator one at a time. */
  read(chunk: Buffer): Generator<PcapRecord> {
    this.push(chunk);
    return this.records();
  }

  /** The complete records queued so far, one at a time. */
  *records(): Generator<PcapRecord> {
    for (let r = this.next(); r; r = this.next()) yield r;
  }

  /** Append bytes without reading them yet. */
  push(chunk: Buffer): void {
    if (this.stage !== 'stopped') this.bytes.push(chunk);
  }

  /** The next complete timed record, or undefined until more bytes arrive; untimed ones are counted and passed over. */
  next(): PcapRecord | undefined {
    for (;;) {
      const r = this.nextAny();
      if (!r || r.tsMs !== undefined) return r as PcapRecord | undefined;
      this.untimed++;
    }
  }

  /** The next complete record, timed or not, or undefined until more bytes arrive. */
  nextAny(): PcapRecord | UntimedRecord | undefined {
    for (;;) {
      const step = this.step();
      if (step === NEED_MORE) return undefined;
      if (step !== CONSUMED) return step;
    }
  }

  /**
   * Read the file header (and, in pcapng, up to the first interface description) from the bytes pushed so far.
   * True once the link type is known; false while more bytes are needed. Never consumes a record.
   */
  readHeader(): boolean {
    while (this.linktype === undefined) {
      const step = this.step();
      if (step === NEED_MORE) return false;
      // (a record cannot come first: a packet block before any interface description throws)
      if (step !== CONSUMED) return true;
    }
    return true;
  }

  /** No more bytes will come: a header cut short is an error, a record cut short marks the capture truncated. */
  end(): void {
    if (this.stage === 'magic' && this.bytes.length < 4) throw tooShort(this.bytes.length === 0 ? 'the file is empty' : `${this.bytes.length} bytes`, this.name);
    if (this.stage === 'magic') throw notPcap(this.bytes.peek(Math.min(this.bytes.length, SNIFF_BYTES))!, this.name);
    if (this.stage === 'classic-header') throw tooShort(`a pcap file header is 24 bytes, this file has ${this.bytes.length + this.offset}`, this.name);
    if (this.stage === 'pcapng' && this.offset === 0) throw tooShort(`its pcapng section header is cut short after ${this.bytes.length} bytes`, this.name);
    if (this.bytes.length > 0) this.truncated = true;
  }

  /** What the whole capture was, with the records the caller collected. */
  summary(records: PcapRecord[]): PcapFile {
    return { format: this.format ?? 'pcap', linktype: this.linktype ?? LINKTYPE_ETHERNET, records, untimed: this.untimed, truncated: this.truncated };
  }

  private step(): PcapRecord | UntimedRecord | Step {
    switch (this.stage) {
      case 'magic':
        return this.readMagic();
      case 'classic-header':
        return this.readClassicHeader();
      case 'classic':
        return this.readClassicRecord();
      case 'pcapng':
        return this.readNgBlock();
      case 'stopped':
        return NEED_MORE;
    }
  }

  private consume(n: number): void {
    this.bytes.skip(n);
    this.offset += n;
  }

  private u16(b: Buffer, off: number): number {
    return this.bigEndian ? b.readUInt16BE(off) : b.readUInt16LE(off);
  }

  private u32(b: Buffer, off: number): number {
    return this.bigEndian ? b.readUInt32BE(off) : b.readUInt32LE(off);
  }

  // ---- classic pcap ----

  private readMagic(): Step {
    const head = this.bytes.peek(4);
    if (!head) return NEED_MORE;
    const le = head.readUInt32LE(0);
    const be = head.readUInt32BE(0);
    if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) {
      this.bigEndian = be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS;
      this.format = (this.bigEndian ? be : le) === PCAP_MAGIC_NS ? 'pcap-ns' : 'pcap';
      this.stage = 'classic-header';
      return CONSUMED;
    }
    if (le === PCAPNG_SHB) {
      this.format = 'pcapng';
      this.stage = 'pcapng';
      return CONSUMED;
    }
    if (this.bytes.length < SNIFF_BYTES) return NEED_MORE;
    throw notPcap(this.bytes.peek(SNIFF_BYTES)!, this.name);
  }

  private readClassicHeader(): Step {
    const h = this.bytes.peek(24);
    if (!h) return NEED_MORE;
    // The upper bits of the link-type field may carry FCS information (pcap format spec); the type is the low 28 bits.
    this.linktype = this.u32(h, 20) & 0x0fffffff;
    this.consume(24);
    this.stage = 'classic';
    return CONSUMED;
  }

  private readClassicRecord(): PcapRecord | Step {
    const h = this.bytes.peek(16);
    if (!h) return NEED_MORE;
    const inclLen = this.u32(h, 8);
    const rec = this.bytes.peek(16 + inclLen);
    if (!rec) return NEED_MORE;
    const sec = this.u32(rec, 0);
    const frac = this.u32(rec, 4);
    const tsMs = sec * 1000 + (this.format === 'pcap-ns' ? frac / 1e6 : frac / 1e3);
    const record = { tsMs, data: rec.subarray(16), origLen: this.u32(rec, 12), linktype: this.linktype!, ifIndex: 0 };
    this.consume(16 + inclLen);
    return record;
  }

  // ---- pcapng ----

  private readNgBlock(): PcapRecord | UntimedRecord | Step {
    const head = this.bytes.peek(12);
    if (!head) return NEED_MORE;
    const isSection = head.readUInt32LE(0) === PCAPNG_SHB;
    // A section header sets the byte order of everything up to the next one.
    if (isSection) this.bigEndian = sectionByteOrder(head, this.ngError('bad byte-order magic in the section header'));
    const type = isSection ? PCAPNG_SHB : this.u32(head, 0);
    const len = this.u32(head, 4);
    if (len < 12 || len % 4 !== 0) {
      if (this.offset === 0) throw this.ngError(`block length ${len}`);
      this.truncated = true;
      this.stage = 'stopped';
      return NEED_MORE;
    }
    const block = this.bytes.peek(len);
    if (!block) return NEED_MORE;
    const record = this.ngBlockRecord(type, block);
    this.consume(len);
    return record ?? CONSUMED;
  }

  private ngBlockRecord(type: number, block: Buffer): PcapRecord | UntimedRecord | undefined {
    const least = MIN_NG_BLOCK[type];
    if (least !== undefined && block.length < least) throw this.ngError(`block of type ${type} is ${block.length} bytes, shorter than its ${least}-byte minimum`);
    switch (type) {
      case PCAPNG_SHB:
        this.ifaces = [];
        return undefined;
      case 1:
        this.addInterface(block);
        return undefined;
      case 6:
      case 2:
        return this.ngPacket(type, block);
      case 3:
        return this.ngSimplePacket(block);
      default:
        return undefined; // name resolution, statistics, custom blocks: not needed
    }
  }

  /** Interface Description Block */
  private addInterface(block: Buffer): void {
    const linktype = this.u16(block, 8);
    const snaplen = this.u32(block, 12);
    let unitsPerSec = 1_000_000n;
    let offsetSec = 0n;
    forEachOption(block, 16, block.length - 4, (o) => this.u16(block, o), (code, vOff, vLen) => {
      if (code === 9 && vLen >= 1) {
        const r = block[vOff]!;
        unitsPerSec = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
      } else if (code === 14 && vLen >= 8) {
        offsetSec = this.bigEndian ? block.readBigInt64BE(vOff) : block.readBigInt64LE(vOff);
      }
    });
    this.ifaces.push({ linktype, snaplen, unitsPerSec, offsetSec });
    this.linktype ??= linktype;
  }

  /** Enhanced Packet Block (6) / obsolete Packet Block (2) */
  private ngPacket(type: number, block: Buffer): PcapRecord {
    const ifIndex = type === 6 ? this.u32(block, 8) : this.u16(block, 8);
    const iface = this.ifaces[ifIndex];
    if (!iface) throw this.ngError(`packet for interface ${ifIndex}, which was not described`);
    const units = (BigInt(this.u32(block, 12)) << 32n) | BigInt(this.u32(block, 16));
    const capLen = this.u32(block, 20);
    const origLen = this.u32(block, 24);
    const dataOff = 28;
    if (dataOff + capLen > block.length - 4) throw this.ngError('packet longer than its block');
    return { tsMs: ngTime(iface, units), data: block.subarray(dataOff, dataOff + capLen), origLen, linktype: iface.linktype, ifIndex };
  }

  /** Simple Packet Block: interface 0, no timestamp */
  private ngSimplePacket(block: Buffer): UntimedRecord {
    const iface = this.ifaces[0];
    if (!iface) throw this.ngError('simple packet before any interface');
    const origLen = this.u32(block, 8);
    const room = block.length - 4 - 12;
    const capLen = Math.min(origLen, room, iface.snaplen || origLen);
    return { tsMs: undefined, data: block.subarray(12, 12 + capLen), origLen, linktype: iface.linktype, ifIndex: 0 };
  }

  private ngError(what: string): Error {
    return usageError(`damaged pcapng file (${what})`, `${this.name}: offset ${this.offset}`, 'open it in Wireshark to check');
  }
}

/** The smallest well-formed pcapng block of each type this reader decodes (header, fixed fields, trailer). */
const MIN_NG_BLOCK: Record<number, number> = { 1: 20, 2: 32, 3: 16, 6: 32 };

type Step = typeof NEED_MORE | typeof CONSUMED;
const NEED_MORE = Symbol('need more bytes');
const CONSUMED = Symbol('consumed a header or a block without a record');

interface NgInterface {
  linktype: number;
  snaplen: number;
  /** timestamp units per second */
  unitsPerSec: bigint;
  offsetSec: bigint;
}

/** true for a big-endian section; throws `bad` when the byte-order magic is neither. */
function sectionByteOrder(head: Buffer, bad: Error): boolean {
  if (head.readUInt32LE(8) === PCAPNG_BOM) return false;
  if (head.readUInt32BE(8) === PCAPNG_BOM) return true;
  throw bad;
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

/**
 * Bytes queued in the chunks they arrived in. `peek(n)` gives n contiguous bytes: a view of one chunk when they
 * lie inside it, else one copy of just the chunks needed (so a record spread over many chunks is copied once).
 */
class ByteQueue {
  private chunks: Buffer[] = [];
  /** read position in chunks[0] */
  private head = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  peek(n: number): Buffer | undefined {
    if (n > this.length) return undefined;
    if (n === 0) return Buffer.alloc(0);
    if (this.chunks[0]!.length - this.head < n) this.join(n);
    return this.chunks[0]!.subarray(this.head, this.head + n);
  }

  skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const room = this.chunks[0]!.length - this.head;
      if (n < room) {
        this.head += n;
        return;
      }
      n -= room;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Merge the leading chunks until the first holds at least n unread bytes. */
  private join(n: number): void {
    const parts = [this.chunks[0]!.subarray(this.head)];
    let have = parts[0]!.length;
    let used = 1;
    while (have < n) {
      const c = this.chunks[used++]!;
      parts.push(c);
      have += c.length;
    }
    this.chunks.splice(0, used, Buffer.concat(parts, have));
    this.head = 0;
  }
}

function tooShort(why: string, name: string): Error {
  return usageError(`too short to be a capture (${why})`, name, 'the capture was cut off before its first packet; capture again with tcpdump -w FILE');
}

function notPcap(head: Buffer, name: string): Error {
  const packed = compressionOf(head);
  if (packed) return usageError(`not a pcap file (it is ${packed.what}-compressed)`, name, `decompress it first: ${packed.command} ${name}, then read the file it leaves`);
  return usageError(`not a pcap file (${describeBytes(head)})`, name, 'give a capture written by tcpdump -w, Wireshark or hadiag --write');
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
