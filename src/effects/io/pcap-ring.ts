/**
 * A rolling capture on disk for runs of any length (measure-failover --watch): records go into segment files
 * `BASE.0001.pcap`, `BASE.0002.pcap`, … (classic µs pcap each, readable on their own); once the segments
 * hold more than `limitBytes`, the oldest are deleted — except those that overlap a kept time range (an
 * outage ± its margin) or that lie after `protectFrom()` (an outage still open or not yet reported).
 * So the disk holds the last `limitBytes` of the capture plus every kept range.
 */
import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { usageError } from '../../core/errors.js';
import { LINKTYPE_ETHERNET, pcapHeader, pcapRecord } from '../../codecs/pcap.js';

export interface RingOptions {
  /** the --write path; segments are named after it (`x.pcap` → `x.0001.pcap`) */
  path: string;
  limitBytes: number;
  /** bytes per segment (default: an eighth of the limit, at least 64 KiB) */
  segmentBytes?: number;
  linktype?: number;
  /** segments whose last record is at or after this time are not deleted (e.g. an open outage − 30 s) */
  protectFrom?: () => number | undefined;
}

export interface Segment {
  path: string;
  bytes: number;
  firstTsMs: number;
  lastTsMs: number;
  kept: boolean;
}

export class PcapRing {
  private readonly segments: Segment[] = [];
  private readonly keepRanges: { from: number; to: number }[] = [];
  private fd: number | undefined;
  private current: Segment | undefined;
  private seq = 0;
  private readonly segmentBytes: number;
  records = 0;

  constructor(private readonly opts: RingOptions) {
    this.segmentBytes = opts.segmentBytes ?? Math.max(64 * 1024, Math.floor(opts.limitBytes / 8));
    try {
      mkdirSync(dirname(opts.path), { recursive: true });
    } catch (err) {
      throw usageError('cannot write capture file', `${opts.path}: ${(err as Error).message}`, 'choose a writable path with --write');
    }
  }

  write(tsMs: number, data: Buffer, origLen = data.length): void {
    if (!this.current || this.current.bytes >= this.segmentBytes) this.rotate(tsMs);
    const rec = pcapRecord(tsMs, data, origLen);
    writeSync(this.fd!, rec);
    const s = this.current!;
    s.bytes += rec.length;
    if (tsMs > s.lastTsMs) s.lastTsMs = tsMs;
    this.records++;
  }

  /** Keep every segment that overlaps [fromTsMs, toTsMs], also those still to be written. */
  keep(fromTsMs: number, toTsMs: number): void {
    this.keepRanges.push({ from: fromTsMs, to: toTsMs });
    for (const s of this.segments) if (overlaps(s, fromTsMs, toTsMs)) s.kept = true;
  }

  /** Segments on disk, oldest first. */
  files(): readonly Segment[] {
    return this.segments;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    this.markKept(this.current!);
  }

  private rotate(tsMs: number): void {
    if (this.current) {
      closeSync(this.fd!);
      this.markKept(this.current);
    }
    this.seq++;
    const ext = extname(this.opts.path) || '.pcap';
    const base = this.opts.path.slice(0, this.opts.path.length - extname(this.opts.path).length);
    const path = `${base}.${String(this.seq).padStart(4, '0')}${ext}`;
    try {
      this.fd = openSync(path, 'w', 0o644);
    } catch (err) {
      throw usageError('cannot write capture file', `${path}: ${(err as Error).message}`, 'choose a writable path with --write');
    }
    const header = pcapHeader(this.opts.linktype ?? LINKTYPE_ETHERNET);
    writeSync(this.fd, header);
    this.current = { path, bytes: header.length, firstTsMs: tsMs, lastTsMs: tsMs, kept: false };
    this.segments.push(this.current);
    this.dropOldest();
  }

  private markKept(s: Segment): void {
    if (this.keepRanges.some((r) => overlaps(s, r.from, r.to))) s.kept = true;
    // ranges wholly in the past cannot touch later segments
    for (let i = this.keepRanges.length - 1; i >= 0; i--) if (this.keepRanges[i]!.to < s.lastTsMs) this.keepRanges.splice(i, 1);
  }

  /** Delete the oldest segments not kept while the rolling part is over the limit. */
  private dropOldest(): void {
    let rolling = 0;
    for (const s of this.segments) if (!s.kept) rolling += s.bytes;
    const protectFrom = this.opts.protectFrom?.() ?? Infinity;
    for (let i = 0; i < this.segments.length - 1 && rolling > this.opts.limitBytes; ) {
      const s = this.segments[i]!;
      if (s.kept || s.lastTsMs >= protectFrom) {
        i++;
        continue;
      }
      this.markKept(s);
      if (s.kept) continue;
      unlinkSync(s.path);
      rolling -= s.bytes;
      this.segments.splice(i, 1);
    }
  }
}

const overlaps = (s: Segment, from: number, to: number) => s.firstTsMs <= to && s.lastTsMs >= from;

/** "64MB", "512KB", "1GB" (also MiB/KiB/GiB, 1024-based) → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  const mult = unit === 'b' ? 1 : unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : 1024 ** 3;
  return Math.round(Number(m[1]) * mult);
}
