import type { PingLine, Probe } from './events.js';

const TS = /^\[(\d+\.\d+)\]\s+/;
const REPLY = /^\d+ bytes from (\S+?):? icmp_seq=(\d+)(?: ttl=\d+)?(?: time=([\d.]+) ms)?(.*)$/;
const PENDING = /^no answer yet for icmp_seq=(\d+)/;
const ERROR = /^From (\S+?):? icmp_seq=(\d+) (.*)$/;

/**
 * Parse one line of `ping -D -O -n` (iputils) output. Lines without a `[epoch.µs]` stamp (the PING header,
 * statistics) return undefined. The stamp is ping's own clock reading when it printed the line (µs resolution).
 */
export function parsePingLine(line: string): PingLine | undefined {
  const m = TS.exec(line.trim());
  if (!m) return undefined;
  const tsMs = Number(m[1]) * 1000;
  const rest = line.trim().slice(m[0].length);
  let r = REPLY.exec(rest);
  if (r) {
    const line: PingLine = { kind: 'reply', tsMs, seq: Number(r[2]), from: r[1]!, dup: /DUP!/.test(r[4] ?? '') };
    if (r[3] !== undefined) line.rttMs = Number(r[3]);
    return line;
  }
  r = PENDING.exec(rest);
  if (r) return { kind: 'pending', tsMs, seq: Number(r[1]) };
  r = ERROR.exec(rest);
  if (r) return { kind: 'error', tsMs, seq: Number(r[2]), from: r[1]!, text: r[3]!.trim() };
  return undefined;
}

/**
 * Folds ping lines into probes keyed by an unwrapped sequence number (ping's icmp_seq wraps at 65536;
 * at 5 ms that is every 5.5 minutes). A late reply for a probe reported "no answer yet" makes it answered.
 */
export class PingProbes {
  private readonly bySeq = new Map<number, Probe>();
  private lastRaw = -1;
  private wraps = 0;
  private lastSeq = -1;

  constructor(private readonly intervalMs: number) {}

  private unwrap(raw: number): number {
    if (this.lastRaw >= 0 && raw < this.lastRaw && this.lastRaw - raw > 32768) this.wraps++;
    else if (this.lastRaw >= 0 && raw > this.lastRaw && raw - this.lastRaw > 32768 && this.wraps > 0) return (this.wraps - 1) * 65536 + raw; // a late line from before the wrap
    this.lastRaw = raw;
    return this.wraps * 65536 + raw;
  }

  /** Returns the probe the line updated. Errors ("Destination Host Unreachable") count as unanswered. */
  add(line: PingLine): Probe {
    const seq = this.unwrap(line.seq);
    let p = this.bySeq.get(seq);
    if (!p) {
      p = { seq };
      this.bySeq.set(seq, p);
    }
    if (seq > this.lastSeq) this.lastSeq = seq;
    if (line.kind === 'reply' && !line.dup && p.replyTsMs === undefined) {
      p.replyTsMs = line.tsMs;
      if (line.rttMs !== undefined) {
        p.sentTsMs = line.tsMs - line.rttMs;
        p.sentEstimated = false;
      }
    } else if (line.kind === 'pending' && p.sentTsMs === undefined) {
      // ping reports seq N missing when it sends N+1, one interval after N went out.
      p.sentTsMs = line.tsMs - this.intervalMs;
      p.sentEstimated = true;
    }
    return p;
  }

  /** Probes sorted by sequence, with send times of unanswered probes filled in by interpolation. */
  probes(): Probe[] {
    const list = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    fillSendTimes(list, this.intervalMs);
    return list;
  }

  get count(): number {
    return this.bySeq.size;
  }
}

/**
 * Probes whose send time is unknown or only guessed get one interpolated linearly by sequence number between
 * the nearest probes whose send time is known (ping sends them on a fixed schedule).
 */
export function fillSendTimes(list: Probe[], intervalMs: number): void {
  const isKnown = (p: Probe) => p.sentTsMs !== undefined && p.sentEstimated === false;
  let prev: Probe | undefined;
  let next: Probe | undefined;
  let nextIdx = -1;
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (isKnown(p)) {
      prev = p;
      continue;
    }
    if (nextIdx < i) {
      next = undefined;
      for (nextIdx = i + 1; nextIdx < list.length; nextIdx++) {
        if (isKnown(list[nextIdx]!)) {
          next = list[nextIdx];
          break;
        }
      }
    }
    if (prev && next) {
      p.sentTsMs = prev.sentTsMs! + ((next.sentTsMs! - prev.sentTsMs!) * (p.seq - prev.seq)) / (next.seq - prev.seq);
    } else if (p.sentTsMs !== undefined) {
      continue; // keep ping's own "no answer yet" clue when there is no anchor on both sides
    } else if (prev) {
      p.sentTsMs = prev.sentTsMs! + (p.seq - prev.seq) * intervalMs;
    } else if (next) {
      p.sentTsMs = next.sentTsMs! - (next.seq - p.seq) * intervalMs;
    } else continue;
    p.sentEstimated = true;
  }
}
