/**
 * One peer's sequence guard: de-duplication, replay rejection, generation changes, the gaps to ask for again
 * (NS_rexmit) and when to acknowledge (NS_ackmsg). Judges (generation hg, seq, ts) of each sequenced message;
 * knows nothing of messages or sockets. Its log lines and counters go to the shared Reporter.
 *
 * Replay protection that cannot be wedged. Within a generation: a seq seen before is a duplicate (soon)
 * or a replay (later); a seq at or below the forgotten floor is a replay; a huge jump is believed only
 * after the peer has been silent. A different generation is adopted only when the current one has gone
 * quiet for two keepalives and the new one shows up consistently (two packets with rising seq, a
 * timestamp not older than the current one's) — or when the peer is dead/unknown. So one forged packet
 * with a higher hg is counted and dropped while genuine packets keep flowing.
 */
import type { Action } from './types.js';
import type { Reporter } from './report.js';

/** seqs remembered per peer for de-duplication and replay rejection */
export const SEQ_MEMORY = 1024;
/** fresh packets with rising seqs below the replay floor that make the guard follow them again */
export const RESYNC_RUN = 3;
/** a jump further than this while the peer is talking is not believed */
export const MAX_SEQ_JUMP = 1000;
/** gaps up to this size are asked for again (NS_rexmit) */
export const MAX_REXMIT_GAP = 50;
/** a copy arriving this soon after the first is a multi-medium duplicate, later a replay */
export const DUP_WINDOW_MS = 2000;
/** acknowledge every this many seqs (when nothing is missing) */
const ACK_EVERY = 10;

/** What the membership knows of the peer when a packet arrives. */
export interface PeerLiveness {
  heard: boolean;
  dead: boolean;
  /** dead because it said shutdone (its stopped incarnation's tail is rejected) */
  deadByShutdown: boolean;
  lastHeardMs: number;
}

export type Admission = { ok: false } | { ok: true; rexmit?: { first: number; last: number } };

export class SequenceGuard {
  /** the generation (hg) being followed */
  hg?: number;
  maxSeq = 0;
  private lastTs?: number;
  private floor = 0;
  private readonly seen = new Map<number, number>();
  private readonly candidates = new Map<number, { count: number; lastSeq: number }>();
  /** a run of fresh, rising seqs rejected below the floor (see belowFloor) */
  private run?: { lastSeq: number; count: number };
  private readonly missing = new Set<number>();
  private lastAckedSeq = 0;

  constructor(
    private readonly peer: string,
    private readonly keepaliveMs: number,
    private readonly report: Reporter,
  ) {}

  /** Judge one sequenced packet; log lines go to `out`. */
  admit(hg: number, seq: number, ts: number, now: number, live: PeerLiveness, out: Action[]): Admission {
    if (live.dead && live.deadByShutdown && hg === this.hg) return { ok: false }; // the tail of a stopped incarnation
    const quietMs = now - live.lastHeardMs;
    const quiet = !live.heard || live.dead || quietMs >= 2 * this.keepaliveMs;
    if (!this.followGeneration(hg, seq, ts, now, live.dead, quiet, quietMs, out)) return { ok: false };
    if (seq <= this.floor && !this.resyncBelowFloor(seq, ts, now, out)) return { ok: false };
    if (!this.fresh(seq, now, quiet, out)) return { ok: false };
    this.seen.set(seq, now);
    this.missing.delete(seq);
    let rexmit: { first: number; last: number } | undefined;
    if (seq > this.maxSeq) {
      const gap = seq - this.maxSeq - 1;
      if (this.maxSeq > 0 && gap > 0 && gap <= MAX_REXMIT_GAP && live.heard && !live.dead) {
        for (let s = this.maxSeq + 1; s < seq; s++) this.missing.add(s);
        this.report.counters.retransmitRequests++;
        rexmit = { first: this.maxSeq + 1, last: seq - 1 };
      }
      this.maxSeq = seq;
    }
    if (ts) this.lastTs = Math.max(this.lastTs ?? 0, ts);
    this.forgetOldest();
    return rexmit ? { ok: true, rexmit } : { ok: true };
  }

  /** The seq to acknowledge now (every few seqs, nothing missing), or undefined. */
  ackDue(): number | undefined {
    if (this.maxSeq - this.lastAckedSeq < ACK_EVERY || this.missing.size > 0) return undefined;
    this.lastAckedSeq = this.maxSeq;
    return this.maxSeq;
  }

  private isFresh(ts: number): boolean {
    return this.lastTs === undefined || ts + 2 >= this.lastTs;
  }

  /** Follow the packet's generation, adopt a new one, or reject the packet (false). */
  private followGeneration(hg: number, seq: number, ts: number, now: number, dead: boolean, quiet: boolean, quietMs: number, out: Action[]): boolean {
    if (this.hg === undefined || (dead && hg !== this.hg && this.isFresh(ts))) {
      if (this.hg !== undefined) {
        this.report.counters.generationChanges++;
        out.push(this.report.log('info', 'generation-change', `node ${this.peer}: generation ${this.hg.toString(16)} -> ${hg.toString(16)}`, { peer: this.peer, from: this.hg, to: hg }));
      }
      this.adopt(hg);
      return true;
    }
    if (hg === this.hg) return true;
    let c = this.candidates.get(hg);
    if (!c) {
      if (this.candidates.size >= 8) this.candidates.clear();
      c = { count: 0, lastSeq: -1 };
      this.candidates.set(hg, c);
    }
    if (seq > c.lastSeq) {
      c.count++;
      c.lastSeq = seq;
    }
    if (quiet && c.count >= 2 && this.isFresh(ts)) {
      this.report.counters.generationChanges++;
      out.push(this.report.log('warn', 'generation-change', `node ${this.peer}: generation ${this.hg.toString(16)} -> ${hg.toString(16)} (old one silent ${Math.round(quietMs)} ms)`, { peer: this.peer, from: this.hg, to: hg }));
      this.adopt(hg);
      return true;
    }
    this.report.counters.generationRejected++;
    out.push(...this.report.rateLog('warn', 'generation-rejected', `node ${this.peer}: packet with generation ${hg.toString(16)} rejected while generation ${this.hg.toString(16)} is alive (forged or replayed?)`, now, { peer: this.peer, hg, current: this.hg, seq }));
    return false;
  }

  /**
   * A seq at or below the floor. A forger holding the key can push the floor above the genuine seqs with a long
   * jumped stream (after a hiccup made the jump believable). Genuine packets then arrive as a run of rising seqs
   * with current timestamps, which a replay of old captures cannot fake: after RESYNC_RUN of them, follow that
   * stream (true). Otherwise a replay (false).
   */
  private resyncBelowFloor(seq: number, ts: number, now: number, out: Action[]): boolean {
    const run = this.run;
    this.run = this.isFresh(ts) ? { lastSeq: seq, count: run && seq > run.lastSeq ? run.count + 1 : 1 } : undefined;
    if (this.run && this.run.count >= RESYNC_RUN) {
      this.report.counters.seqResyncs++;
      out.push(this.report.log('warn', 'seq-resync', `node ${this.peer}: ${RESYNC_RUN} fresh packets below the replay floor ${this.floor.toString(16)}: following seq ${seq.toString(16)} (the floor had been pushed up by forged packets)`, { peer: this.peer, seq, floor: this.floor }));
      this.floor = 0;
      this.maxSeq = 0;
      this.seen.clear();
      this.missing.clear();
      this.run = undefined;
      return true;
    }
    this.report.counters.replaysRejected++;
    out.push(...this.report.rateLog('warn', 'replay-rejected', `node ${this.peer}: old seq ${seq.toString(16)} rejected (replay)`, now, { peer: this.peer, seq }));
    return false;
  }

  /** Not seen before (else a duplicate or a replay) and not an unbelievable jump while the peer talks. */
  private fresh(seq: number, now: number, quiet: boolean, out: Action[]): boolean {
    const seenAt = this.seen.get(seq);
    if (seenAt !== undefined) {
      if (now - seenAt <= DUP_WINDOW_MS) this.report.counters.duplicates++;
      else {
        this.report.counters.replaysRejected++;
        out.push(...this.report.rateLog('warn', 'replay-rejected', `node ${this.peer}: seq ${seq.toString(16)} seen before (replay)`, now, { peer: this.peer, seq }));
      }
      return false;
    }
    if (this.maxSeq > 0 && seq > this.maxSeq + MAX_SEQ_JUMP && !quiet) {
      this.report.counters.seqJumpsRejected++;
      out.push(...this.report.rateLog('warn', 'seq-jump-rejected', `node ${this.peer}: seq jump ${this.maxSeq.toString(16)} -> ${seq.toString(16)} rejected while the node is talking`, now, { peer: this.peer, seq, max: this.maxSeq }));
      return false;
    }
    return true;
  }

  private forgetOldest(): void {
    while (this.seen.size > SEQ_MEMORY) {
      const [oldest] = this.seen.keys();
      this.seen.delete(oldest!);
      this.floor = Math.max(this.floor, oldest!);
    }
  }

  private adopt(hg: number): void {
    this.hg = hg;
    this.maxSeq = 0;
    this.floor = 0;
    this.seen.clear();
    this.missing.clear();
    this.candidates.clear();
    this.run = undefined;
    this.lastAckedSeq = 0;
    this.lastTs = undefined;
  }
}
