import type { Probe, WireEvent } from './events.js';

/**
 * Unanswered probes only have an interpolated send time; when the capture holds the echo request itself
 * (same 16-bit sequence, near the estimate), its kernel timestamp replaces the estimate.
 */
export function refineSendTimes(probes: Probe[], vip: string, wire: WireEvent[], intervalMs: number): void {
  const reqs = new Map<number, number[]>();
  const reps = new Map<number, number[]>();
  for (const e of wire) {
    if (e.kind !== 'icmp' || e.seq === undefined) continue;
    const m = e.type === 'echo-request' && e.dstIp === vip ? reqs : e.type === 'echo-reply' && e.srcIp === vip ? reps : undefined;
    if (!m) continue;
    const l = m.get(e.seq) ?? [];
    l.push(e.tsMs);
    m.set(e.seq, l);
  }
  if (reqs.size === 0 && reps.size === 0) return;
  const window = Math.max(50, 20 * intervalMs);
  const nearest = (list: number[] | undefined, t: number, notAfter = Infinity) => {
    let best: number | undefined;
    for (const x of list ?? []) if (x <= notAfter && Math.abs(x - t) <= window && (best === undefined || Math.abs(x - t) < Math.abs(best - t))) best = x;
    return best;
  };
  for (const p of probes) {
    if (p.replyTsMs !== undefined) {
      // ping prints a reply a little after the kernel received it: the capture's stamp is the earlier, truer one
      const r = nearest(reps.get(p.seq & 0xffff), p.replyTsMs, p.replyTsMs + 0.001);
      if (r !== undefined) {
        p.replyTsMs = r;
        p.timesFrom = 'capture';
      }
      continue;
    }
    if (!p.sentEstimated || p.sentTsMs === undefined) continue;
    const best = nearest(reqs.get(p.seq & 0xffff), p.sentTsMs);
    if (best !== undefined) {
      p.sentTsMs = best;
      p.sentEstimated = false;
      p.timesFrom = 'capture';
    }
  }
}

