/**
 * One node generation's sequence numbers as hb-inspect counts them, in bounded memory: the range seen, how many
 * distinct numbers, and the recent ones (for duplicates: the same message on several media, or a capture on
 * `any`). Heartbeat retransmits only from a short history, so a copy further back than SEQ_WINDOW is not looked
 * for; such a late copy would count once more as distinct (one gap fewer). Pure.
 */

/** How far behind the highest sequence number copies are still recognised. */
export const SEQ_WINDOW = 4096;

export class SeqWindow {
  private lo = Infinity;
  private hi = -Infinity;
  private distinct = 0;
  /** seq → message types seen with it, for seqs ≥ hi − SEQ_WINDOW (pruned now and then) */
  private readonly recent = new Map<number, Set<string>>();

  /** Note a message; false when it is a copy of one already noted (same seq and type). */
  note(seq: number, type: string): boolean {
    const types = this.recent.get(seq);
    if (types?.has(type)) return false;
    if (types) {
      types.add(type);
      return true;
    }
    this.recent.set(seq, new Set([type]));
    this.distinct++;
    if (seq < this.lo) this.lo = seq;
    if (seq > this.hi) this.hi = seq;
    if (this.recent.size > 2 * SEQ_WINDOW) this.prune();
    return true;
  }

  /** Numbers never seen between the lowest and the highest. */
  gaps(): number {
    return this.distinct ? this.hi - this.lo + 1 - this.distinct : 0;
  }

  private prune(): void {
    const floor = this.hi - SEQ_WINDOW;
    for (const seq of this.recent.keys()) if (seq < floor) this.recent.delete(seq);
  }
}

/** Median of values given as value → count (mean of the two middle values for an even count). */
export function medianOfCounts(counts: ReadonlyMap<number, number>): number | undefined {
  let total = 0;
  for (const n of counts.values()) total += n;
  if (!total) return undefined;
  const values = [...counts.keys()].sort((a, b) => a - b);
  const at = (rank: number): number => {
    let seen = 0;
    for (const v of values) {
      seen += counts.get(v)!;
      if (rank < seen) return v;
    }
    return values[values.length - 1]!;
  };
  const m = total >> 1;
  return total % 2 ? at(m) : (at(m - 1) + at(m)) / 2;
}
