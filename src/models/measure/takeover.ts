/**
 * The takeover as the cluster's own traffic shows it from the client: when the old holder fell silent, how long
 * the cluster's timers say a takeover takes (Heartbeat deadtime from ha.cf, else bounded from the keepalive
 * rhythm on the wire; VRRP master-down interval from the adverts' interval and priority), and whether anything
 * from the new holder reached this host meanwhile. Nothing from the new holder for well past the moment the
 * timers say it took over points at the path (a port not forwarding); both nodes' traffic arriving throughout
 * a slow takeover points at the manager itself.
 */
import type { VrrpAdvert, WireEvent } from './events.js';

/** The cluster's timers as configured (ha.cf given with --hacf). */
export interface ClusterTimers {
  keepaliveMs: number;
  deadtimeMs: number;
  /** where they came from, e.g. "ha.cf" */
  source: string;
}

export interface TakeoverEvidence {
  /** the old holder's last cluster frame before its silence */
  oldSilentTsMs?: number;
  /** how long a takeover takes by the cluster's timers; `atLeast`: a lower bound only */
  expected?: { ms: number; atLeast: boolean; from: string };
  /** the new holder's cluster traffic around the outage */
  newHolder?: {
    proto: 'heartbeat' | 'vrrp';
    srcIp: string;
    /** its usual gap between frames before the outage */
    rhythmMs?: number;
    /** a silence of its traffic across the takeover */
    silentFromTsMs?: number;
    silentToTsMs?: number;
    /** VRRP: its first advert as the new master */
    firstTsMs?: number;
  };
  /** how long past the moment the timers say it took over nothing from the new holder reached this host */
  pathBlockedMs?: number;
  /** both nodes' cluster traffic kept arriving through the outage: a slow takeover is the manager's own time */
  bothKeptSpeaking: boolean;
}

interface Sender {
  proto: 'heartbeat' | 'vrrp';
  srcIp: string;
  ts: number[];
  advert?: VrrpAdvert;
}

/** Cluster senders by source MAC (the node that sent it), their frame times in order. */
function sendersByMac(wire: readonly WireEvent[], from: number, to: number): Map<string, Sender> {
  const m = new Map<string, Sender>();
  for (const e of wire) {
    if (e.kind !== 'cluster' || e.tsMs < from || e.tsMs > to) continue;
    let s = m.get(e.srcMac);
    if (!s) m.set(e.srcMac, (s = { proto: e.proto, srcIp: e.srcIp, ts: [] }));
    s.ts.push(e.tsMs);
    if (e.vrrp) s.advert = e.vrrp;
  }
  return m;
}

function usualGap(ts: readonly number[]): number | undefined {
  const gaps = ts.slice(1).map((t, i) => t - ts[i]!).sort((a, b) => a - b);
  return gaps.length ? gaps[Math.floor(gaps.length / 2)] : undefined;
}

/** The widest gap between frames overlapping [from, to] (the span's ends count as frames when none is there). */
function widestGap(ts: readonly number[], from: number, to: number): { a: number; b: number } | undefined {
  let best: { a: number; b: number } | undefined;
  for (let i = 0; i + 1 < ts.length; i++) {
    const a = ts[i]!;
    const b = ts[i + 1]!;
    if (b < from || a > to) continue;
    if (!best || b - a > best.b - best.a) best = { a, b };
  }
  return best;
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The timers' takeover time: VRRP master-down (3 × interval + skew by priority), Heartbeat deadtime. */
function expectedOf(proto: 'heartbeat' | 'vrrp', old: Sender | undefined, neu: Sender | undefined, timers: ClusterTimers | undefined, rhythm: number | undefined): TakeoverEvidence['expected'] {
  if (proto === 'vrrp') {
    const adv = old?.advert?.intervalMs ?? neu?.advert?.intervalMs ?? rhythm;
    if (!adv) return undefined;
    const prio = neu?.advert?.priority;
    const skew = ((256 - (prio ?? 1)) * adv) / 256;
    return { ms: 3 * adv + skew, atLeast: prio === undefined, from: `VRRP master-down interval 3 × ${sec(adv)} + skew ${sec(skew)}${prio !== undefined ? ` (priority ${prio})` : ' (new master’s priority not seen: at most)'}` };
  }
  if (timers) return { ms: timers.deadtimeMs, atLeast: false, from: `deadtime ${sec(timers.deadtimeMs)} (${timers.source})` };
  if (rhythm) return { ms: 2 * rhythm, atLeast: true, from: `more than 2 × the keepalive of ${sec(rhythm)} seen on the wire (Heartbeat refuses less; --hacf gives the deadtime)` };
  return undefined;
}

/**
 * The takeover evidence of one outage. `macBefore`/`newMac`: the VIP's MAC before and after (the nodes' own
 * MACs when no virtual MAC moves); `o`: the outage's times.
 */
export function takeoverEvidence(
  wire: readonly WireEvent[],
  o: { startTsMs: number; endTsMs?: number | undefined; lastOkTsMs?: number | undefined },
  macBefore: string | undefined,
  newMac: string | undefined,
  timers?: ClusterTimers,
): TakeoverEvidence {
  const end = o.endTsMs ?? o.startTsMs;
  const senders = sendersByMac(wire, o.startTsMs - 30_000, end + 5000);
  const old = macBefore ? senders.get(macBefore) : undefined;
  const neu = newMac && newMac !== macBefore ? senders.get(newMac) : undefined;
  const ev: TakeoverEvidence = { bothKeptSpeaking: false };
  const proto = neu?.proto ?? old?.proto;
  if (!proto) return ev;
  const oldBefore = old?.ts.filter((t) => t <= end) ?? [];
  const oldRhythm = old ? usualGap(old.ts.filter((t) => t < o.startTsMs)) : undefined;
  const neuBefore = neu ? neu.ts.filter((t) => t < o.startTsMs) : [];
  const rhythm = usualGap(neuBefore) ?? oldRhythm;
  if (old && oldBefore.length) {
    const quiet = Math.max(3 * (oldRhythm ?? 1000), 1000);
    const after = old.ts.find((t) => t > oldBefore[oldBefore.length - 1]!);
    const last = oldBefore[oldBefore.length - 1]!;
    if ((after ?? Infinity) - last >= quiet) ev.oldSilentTsMs = last;
  }
  const expected = expectedOf(proto, old, neu, timers, rhythm);
  if (expected) ev.expected = expected;
  if (!neu) return ev;
  const due = (ev.oldSilentTsMs ?? o.lastOkTsMs ?? o.startTsMs) + (expected && !expected.atLeast ? expected.ms : 0);
  if (proto === 'vrrp') {
    const first = neu.ts.find((t) => t > (ev.oldSilentTsMs ?? o.startTsMs - (rhythm ?? 1000)));
    ev.newHolder = { proto, srcIp: neu.srcIp, ...(rhythm ? { rhythmMs: rhythm } : {}), ...(first !== undefined ? { firstTsMs: first } : {}) };
    const margin = Math.max(1000, rhythm ?? 1000);
    if (first !== undefined && ev.oldSilentTsMs !== undefined && expected && first - due > margin) ev.pathBlockedMs = first - due;
    return ev;
  }
  const r = usualGap(neuBefore);
  ev.newHolder = { proto, srcIp: neu.srcIp, ...(r ? { rhythmMs: r } : {}) };
  const quiet = Math.max(3 * (r ?? 1000), 1000);
  const gap = r ? widestGap(neu.ts, o.startTsMs, end) : undefined;
  if (gap && gap.b - gap.a >= quiet) {
    ev.newHolder.silentFromTsMs = gap.a;
    ev.newHolder.silentToTsMs = gap.b;
    if (gap.a <= due + r! && gap.b - due > quiet) ev.pathBlockedMs = gap.b - due;
  } else if (r) {
    // the new holder kept speaking; so did the old one, if it never went silent (a manager restarting, slow scripts)
    ev.bothKeptSpeaking = !!old && ev.oldSilentTsMs === undefined && (widestGap(old.ts, o.startTsMs, end)?.b ?? Infinity) - (widestGap(old.ts, o.startTsMs, end)?.a ?? 0) < quiet;
  }
  return ev;
}
