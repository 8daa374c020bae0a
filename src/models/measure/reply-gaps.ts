/** The client's own view of an outage, from its ping replies (lines parsed by models/measure/ping-lines.ts). */

export interface Outage {
  /** last reply before the silence (epoch ms) */
  lastReplyMs: number;
  /** first reply after it, undefined while the outage lasts */
  firstReplyMs?: number;
  /** firstReplyMs − lastReplyMs, or up to `nowMs` while it lasts */
  ms: number;
  ongoing: boolean;
}

/**
 * The longest silence between replies that ends after `fromMs` (or is still going on at `nowMs`).
 * `replies` must be sorted epoch ms. Undefined when there was no reply at all before the silence.
 */
export function longestOutage(replies: number[], fromMs: number, nowMs: number): Outage | undefined {
  let best: Outage | undefined;
  for (let i = 1; i < replies.length; i++) {
    const a = replies[i - 1]!;
    const b = replies[i]!;
    if (b <= fromMs) continue;
    if (!best || b - a > best.ms) best = { lastReplyMs: a, firstReplyMs: b, ms: b - a, ongoing: false };
  }
  const last = replies[replies.length - 1];
  if (last !== undefined && nowMs - last > (best?.ms ?? 0) && nowMs > fromMs) {
    best = { lastReplyMs: last, ms: nowMs - last, ongoing: true };
  }
  return best;
}
