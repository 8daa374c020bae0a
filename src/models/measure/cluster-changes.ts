import type { WireEvent } from './events.js';
import type { OutageReport } from './report.js';

/** The first and last capture time of the events (a loop: a spread of a long run overflows the stack). */
export function spanOf(wire: readonly WireEvent[]): { start: number; end: number } {
  let start = Infinity;
  let end = -Infinity;
  for (const e of wire) {
    if (e.tsMs < start) start = e.tsMs;
    if (e.tsMs > end) end = e.tsMs;
  }
  return { start, end };
}

/**
 * Cluster sources (heartbeat/VRRP senders) that fell silent or began during [from, to]. `capture` is the span
 * of the whole capture when `wire` holds only part of it (a streaming window); a sender's usual gap is then
 * judged on the events at hand.
 */
export function clusterChanges(wire: readonly WireEvent[], from: number, to: number, capture = spanOf(wire)): { stops: OutageReport['clusterStops']; starts: OutageReport['clusterStarts'] } {
  const stops: OutageReport['clusterStops'] = [];
  const starts: OutageReport['clusterStarts'] = [];
  const { start: captureStart, end: captureEnd } = capture;
  for (const [k, s] of clusterSenders(wire)) {
    const srcIp = k.split(' ')[1]!;
    const silentAfter = Math.max(3 * usualGap(s.ts), 1500);
    for (let i = 0; i < s.ts.length; i++) {
      const t = s.ts[i]!;
      const next = s.ts[i + 1] ?? captureEnd;
      if (next - t >= silentAfter && t >= from && t <= to) stops.push({ tsMs: t, srcIp, proto: s.proto, silentMs: next - t });
    }
    const first = s.ts[0]!;
    if (first >= from && first <= to && first - captureStart > silentAfter) starts.push({ tsMs: first, srcIp, proto: s.proto });
  }
  return { stops, starts };
}

/** The send times of each cluster sender, keyed "<proto> <source IP>". */
function clusterSenders(wire: readonly WireEvent[]): Map<string, { proto: string; ts: number[] }> {
  const bySrc = new Map<string, { proto: string; ts: number[] }>();
  for (const e of wire) {
    if (e.kind !== 'cluster') continue;
    const k = `${e.proto} ${e.srcIp}`;
    let s = bySrc.get(k);
    if (!s) bySrc.set(k, (s = { proto: e.proto, ts: [] }));
    s.ts.push(e.tsMs);
  }
  return bySrc;
}

/**
 * A sender's usual gap between messages: the middle gap, the upper one of the two for an even count (not
 * core/stats' median, which averages them; the silence threshold below has always used this one), 1 s if none.
 */
function usualGap(ts: number[]): number {
  const gaps = ts.slice(1).map((t, i) => t - ts[i]!).sort((a, b) => a - b);
  return gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 1000;
}
