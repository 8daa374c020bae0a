/**
 * Echo probes matched as they are captured, one wire event at a time. Requests to the VIP and replies from it
 * are paired by (sender, identifier, 16-bit sequence as written on the wire), so any ping implementation
 * matches; one stream per sender and identifier. The sequence is read in the byte order that makes it step
 * by one (Windows' ping writes it little-endian: +256 on the wire), unwrapped past 65535, and holes (probes
 * the kernel never put on the wire) become lost probes. The pinger is the first stream that sends at a
 * steady interval; traceroute, a second ping or the host's monitoring are other streams, counted, never
 * turned into probes of the run. State: the outstanding probes of each stream, a few counters.
 */
import type { IcmpEvent, Probe, WireEvent } from './events.js';

export interface EchoStream {
  srcIp: string;
  srcMac: string;
  id: number;
  /** +1: sequence in network byte order (Linux, BSD); +256: written little-endian (Windows) */
  step: 1 | 256;
  requests: number;
  answered: number;
  firstTsMs: number;
  lastTsMs: number;
  /** middle gap between its first requests (ms) */
  intervalMs: number;
  /** why it is not the pinger, for other streams */
  why?: string;
}

export interface ProbeMatcherOptions {
  /** an unanswered probe is lost after this long (default 10 s) */
  replyTimeoutMs?: number;
  /** …or after this long once a later probe was answered (default 1 s: replies overtaking each other are rare) */
  overtakenMs?: number;
}

/** requests a stream needs before its interval can be judged steady */
const STEADY_AFTER = 8;
/** a stream this busy becomes the pinger even if no stream looks steady */
const CHOOSE_BY_COUNT_AFTER = 64;
/** gaps kept to judge the interval */
const GAP_SAMPLE = 64;
/** requests looked at to tell the byte order of the sequence */
const ORDER_SAMPLE = 4;
/** a sequence jump beyond this is a restart, not lost probes */
const MAX_HOLE = 100_000;

const swap16 = (x: number) => ((x & 0xff) << 8) | (x >> 8);
const streamKey = (ip: string, id: number | undefined) => `${ip} ${id ?? -1}`;

interface Pending {
  probe: Probe;
  raw: number;
  /** no request for it reached the wire: lost at once */
  hole: boolean;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One sender's echo requests to the VIP under one identifier, with its outstanding probes in sequence order. */
class Stream {
  order: 'be' | 'le' | undefined;
  /** requests seen before the byte order is known */
  readonly held: Pending[] = [];
  readonly open = new Map<number, Pending>();
  queue: Pending[] = [];
  head = 0;
  readonly gaps: number[] = [];
  requests = 0;
  answered = 0;
  lastTsMs = 0;
  private lastRead = -1;
  private wraps = 0;
  private lastSeq: number | undefined;
  private lastSentTsMs = 0;
  latestAnsweredSentTsMs = -Infinity;

  constructor(
    readonly srcIp: string,
    readonly srcMac: string,
    readonly id: number,
    readonly firstTsMs: number,
  ) {}

  request(raw: number, tsMs: number): void {
    if (this.requests > 0 && this.gaps.length < GAP_SAMPLE) this.gaps.push(tsMs - this.lastTsMs);
    this.requests++;
    this.lastTsMs = tsMs;
    if (this.open.has(raw)) return; // a repeated request: the first copy stands
    const p: Pending = { probe: { seq: Number.NaN, sentTsMs: tsMs, sentEstimated: false, timesFrom: 'capture' }, raw, hole: false };
    this.open.set(raw, p);
    if (this.order === undefined) {
      this.held.push(p);
      this.order = byteOrderOf(this.held);
      if (this.order !== undefined) for (const h of this.held.splice(0)) this.number(h);
      return;
    }
    this.number(p);
  }

  /** Give the request its unwrapped sequence; fill a hole before it with lost probes. */
  private number(p: Pending): void {
    const read = this.order === 'le' ? swap16(p.raw) : p.raw;
    const tsMs = p.probe.sentTsMs!;
    let seq: number;
    if (this.lastRead >= 0 && read > this.lastRead && read - this.lastRead > 32768 && this.wraps > 0) seq = (this.wraps - 1) * 65536 + read; // a late copy from before the wrap
    else {
      if (this.lastRead >= 0 && read < this.lastRead && this.lastRead - read > 32768) this.wraps++;
      this.lastRead = read;
      seq = this.wraps * 65536 + read;
    }
    const last = this.lastSeq;
    if (last !== undefined && seq <= last) {
      this.open.delete(p.raw); // reordered or restarted: not a probe of this run's sequence
      return;
    }
    if (last !== undefined && seq - last > 1 && seq - last < MAX_HOLE) {
      for (let s = last + 1; s < seq; s++) {
        const sentTsMs = this.lastSentTsMs + ((tsMs - this.lastSentTsMs) * (s - last)) / (seq - last);
        this.queue.push({ probe: { seq: s, sentTsMs, sentEstimated: true }, raw: -1, hole: true });
      }
    }
    p.probe.seq = seq;
    this.queue.push(p);
    this.lastSeq = seq;
    this.lastSentTsMs = tsMs;
  }

  reply(raw: number, tsMs: number, mac: string): void {
    const p = this.open.get(raw);
    if (!p || p.probe.replyTsMs !== undefined || tsMs < p.probe.sentTsMs!) return;
    p.probe.replyTsMs = tsMs;
    p.probe.replyMac = mac;
    this.open.delete(raw);
    this.answered++;
    if (p.probe.sentTsMs! > this.latestAnsweredSentTsMs) this.latestAnsweredSentTsMs = p.probe.sentTsMs!;
  }

  /** Probes at the head of the queue that are decided (answered, never sent, or given up on), in order. */
  drain(nowMs: number, opts: Required<ProbeMatcherOptions>, out: Probe[] | undefined): void {
    while (this.head < this.queue.length) {
      const p = this.queue[this.head]!;
      const sent = p.probe.sentTsMs!;
      const decided = p.hole || p.probe.replyTsMs !== undefined || nowMs - sent > opts.replyTimeoutMs || (this.latestAnsweredSentTsMs > sent && nowMs - sent > opts.overtakenMs);
      if (!decided) break;
      if (!p.hole && p.probe.replyTsMs === undefined) this.open.delete(p.raw);
      out?.push(p.probe);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Everything still outstanding, in order (the end of the run). */
  flush(out: Probe[] | undefined): void {
    if (this.order === undefined && this.held.length) {
      this.order = 'be';
      for (const h of this.held.splice(0)) this.number(h);
    }
    for (let i = this.head; i < this.queue.length; i++) out?.push(this.queue[i]!.probe);
    this.queue = [];
    this.head = 0;
    this.open.clear();
  }

  /** Sends at a steady interval, as a pinger does (traceroute sends in bursts, monitoring rarely). */
  isSteady(): boolean {
    if (this.requests < STEADY_AFTER) return false;
    const m = median(this.gaps);
    if (m < 0.5) return false;
    const regular = this.gaps.filter((g) => g >= m / 2 && g <= m * 2).length;
    return regular >= 0.75 * this.gaps.length;
  }

  summary(why?: string): EchoStream {
    const s: EchoStream = {
      srcIp: this.srcIp,
      srcMac: this.srcMac,
      id: this.id,
      step: this.order === 'le' ? 256 : 1,
      requests: this.requests,
      answered: this.answered,
      firstTsMs: this.firstTsMs,
      lastTsMs: this.lastTsMs,
      intervalMs: median(this.gaps),
    };
    if (why) s.why = why;
    return s;
  }
}

/** 'le' when the sequence steps by one read little-endian but not big-endian; undefined until it can tell. */
function byteOrderOf(held: { raw: number }[]): 'be' | 'le' | undefined {
  for (let i = 1; i < held.length; i++) {
    const be = (held[i]!.raw - held[i - 1]!.raw) & 0xffff;
    const le = (swap16(held[i]!.raw) - swap16(held[i - 1]!.raw)) & 0xffff;
    if (be >= 1 && be <= 8) return 'be';
    if (le >= 1 && le <= 8) return 'le';
  }
  return held.length >= ORDER_SAMPLE ? 'be' : undefined;
}

/**
 * Feed it every wire event in capture order (`push`); it hands out the pinger's probes, in sequence order, as
 * soon as each is decided; `finish` hands out the rest. Probes of other echo streams are never handed out.
 */
export class ProbeMatcher {
  private readonly streams = new Map<string, Stream>();
  private main: Stream | undefined;
  private nowMs = -Infinity;
  private lastSweepMs = -Infinity;
  private readonly opts: Required<ProbeMatcherOptions>;

  constructor(
    readonly vip: string,
    opts: ProbeMatcherOptions = {},
  ) {
    this.opts = { replyTimeoutMs: opts.replyTimeoutMs ?? 10_000, overtakenMs: opts.overtakenMs ?? 1000 };
  }

  /** Returns the pinger's probes decided by this event (often none). */
  push(e: WireEvent): Probe[] {
    if (e.tsMs > this.nowMs) this.nowMs = e.tsMs;
    const out: Probe[] = [];
    if (e.kind === 'icmp' && e.type === 'echo-request' && e.dstIp === this.vip) this.onRequest(e, out);
    else if (e.kind === 'icmp' && e.type === 'echo-reply' && e.srcIp === this.vip) this.streams.get(streamKey(e.dstIp, e.id))?.reply(e.seq ?? 0, e.tsMs, e.srcMac);
    this.main?.drain(this.nowMs, this.opts, out);
    if (this.nowMs - this.lastSweepMs >= 1000) this.sweep();
    return out;
  }

  /** The end of the run: every probe still outstanding, in order (unanswered ones stay unanswered). */
  finish(): Probe[] {
    const out: Probe[] = [];
    if (!this.main) this.chooseMain(out, true);
    if (this.main) {
      this.main.drain(this.nowMs, this.opts, out);
      this.main.flush(out);
    }
    for (const s of this.streams.values()) if (s !== this.main) s.flush(undefined);
    return out;
  }

  private onRequest(e: IcmpEvent, out: Probe[]): void {
    const key = streamKey(e.srcIp, e.id);
    let s = this.streams.get(key);
    if (!s) this.streams.set(key, (s = new Stream(e.srcIp, e.srcMac, e.id ?? -1, e.tsMs)));
    s.request(e.seq ?? 0, e.tsMs);
    if (!this.main) this.chooseMain(out, false);
  }

  /** The first steady stream becomes the pinger (the busiest when forced or when one is very busy). */
  private chooseMain(out: Probe[], force: boolean): void {
    let busiest: Stream | undefined;
    let steady: Stream | undefined;
    for (const s of this.streams.values()) {
      if (!busiest || s.requests > busiest.requests) busiest = s;
      if (s.isSteady() && (!steady || s.requests > steady.requests)) steady = s;
    }
    const pick = steady ?? (force || (busiest && busiest.requests >= CHOOSE_BY_COUNT_AFTER) ? busiest : undefined);
    if (!pick) return;
    this.main = pick;
    pick.drain(this.nowMs, this.opts, out);
  }

  /** Let go of other streams' probes nobody answered in time, so their state stays bounded. */
  private sweep(): void {
    this.lastSweepMs = this.nowMs;
    if (!this.main) return; // until the pinger is known every stream keeps its probes
    for (const s of this.streams.values()) if (s !== this.main) s.drain(this.nowMs, this.opts, undefined);
  }

  /** `push` under the name capture-probes.ts used (the streaming analysis feeds either). */
  add(e: WireEvent): Probe[] {
    return this.push(e);
  }

  get client(): { ip: string; mac: string } | undefined {
    return this.pinger?.client;
  }

  /** The pinger's usual gap between requests (ms), 0 until it is known. */
  get intervalMs(): number {
    return this.pinger?.intervalMs ?? 0;
  }

  /** gaps between the pinger's requests the interval is judged on (at most GAP_SAMPLE) */
  get gapsSeen(): number {
    return this.main?.gaps.length ?? 0;
  }

  /** Probes held: outstanding ones of every stream (and, until the pinger is known, the candidates' decided ones). */
  get outstanding(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.queue.length - s.head + s.held.length;
    return n;
  }

  /** The pinger: the host sending the probes, and its interval (ms). */
  get pinger(): { client: { ip: string; mac: string }; intervalMs: number; stream: EchoStream } | undefined {
    if (!this.main) return undefined;
    return { client: { ip: this.main.srcIp, mac: this.main.srcMac }, intervalMs: median(this.main.gaps), stream: this.main.summary() };
  }

  /** Echo streams to the VIP other than the pinger, with why each was set apart. */
  otherStreams(): EchoStream[] {
    const out: EchoStream[] = [];
    for (const s of this.streams.values()) {
      if (s === this.main) continue;
      out.push(s.summary(s.isSteady() ? 'a second steady sender (started later than the pinger)' : 'not a steady pinger (bursts or rare requests: traceroute, monitoring)'));
    }
    return out;
  }
}
