/**
 * Replay protection of the announce sidecars' client book (book-message.ts). A sender's `boot` is its start
 * time in epoch milliseconds and `seq` rises by one per round; a datagram is fresh when it is of a later boot,
 * or of the same boot with a later round, or a part of the current round not seen yet. Anything else is a
 * replay: someone re-sent a captured datagram (it carries a valid signature, so auth alone lets it through).
 *
 * It cannot be wedged by a peer whose clock went back: an earlier boot is adopted once the current one has
 * been silent for QUIET_MS (its sidecar is gone), which is also the only window a replay of an older boot has.
 */
import type { BookPart } from './book-message.js';

/** silence after which a sender's earlier boot is believed (three missed 5 s resends) */
export const QUIET_MS = 15_000;

interface SenderState {
  boot: number;
  seq: number;
  parts: Set<number>;
  lastMs: number;
}

export type ReplayVerdict = { fresh: true } | { fresh: false; detail: string };

export class BookReplayGuard {
  private readonly senders = new Map<string, SenderState>();

  /** Judge one authenticated part (by the sender's name) at `nowMs`; a fresh one is remembered. */
  admit(p: Pick<BookPart, 'src' | 'boot' | 'seq' | 'part'>, nowMs: number): ReplayVerdict {
    const boot = Number(p.boot);
    if (!/^\d+$/.test(p.boot) || !Number.isSafeInteger(boot)) return { fresh: false, detail: `boot "${p.boot}" is not a start time` };
    const s = this.senders.get(p.src);
    const adopt = (): ReplayVerdict => {
      this.senders.set(p.src, { boot, seq: p.seq, parts: new Set([p.part]), lastMs: nowMs });
      return { fresh: true };
    };
    if (!s || boot > s.boot) return adopt();
    if (boot < s.boot) return nowMs - s.lastMs >= QUIET_MS ? adopt() : { fresh: false, detail: `replay: boot ${boot} is older than ${p.src}'s current ${s.boot}` };
    if (p.seq > s.seq) return adopt();
    if (p.seq === s.seq && !s.parts.has(p.part)) {
      s.parts.add(p.part);
      s.lastMs = nowMs;
      return { fresh: true };
    }
    return { fresh: false, detail: `replay: round ${p.seq} part ${p.part} of ${p.src} was seen (current round ${s.seq})` };
  }
}
