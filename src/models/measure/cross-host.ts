/**
 * One timeline across hosts: captures taken on the servers (run-node's --capture pcap, any tcpdump) and the
 * node's log, joined with the client's capture. Each server's clock offset from the client's is estimated from
 * the echo probes seen at both ends (requests: client → server, replies: server → client): with the smallest
 * delay each way, offset = (min up + max down) / 2, residual ± half the smallest round trip. Without echoes both
 * ways (run-node's --capture pcap holds only the server's own ARP), from the ARP frames seen at both ends: the
 * server's announcements and replies go server → client only, so the offset is known up to the one-way delay
 * and the server's stamping latency (no ± is claimed; `oneWay` says which way, `spreadMs` the jitter). Then for each
 * outage the segments old holder silent → detection → address added → first announcement on the server's
 * wire → seen at the client → neighbour entry changed → traffic flowing, the dominant one named; and a
 * client-only `no-announcement` split into `not-sent` (no announcement on the new holder's wire) and
 * `dropped-on-path` (it left the server's wire and never arrived).
 */
import type { WireEvent } from './events.js';
import type { Analysis, Diagnosis, OutageReport } from './report.js';

export interface ServerCapture {
  /** a name for the report (the file) */
  name: string;
  /** its events, in the server's clock */
  wire: readonly WireEvent[];
}

/** An address the node's log says it added (run-node's `resource` start line), in the server's clock. */
export interface ServerLogEvent {
  tsMs: number;
  ip: string;
  node?: string;
}

export interface ClockOffset {
  /** server clock − client clock (ms): subtract it from a server time to get the client's */
  offsetMs: number;
  /**
   * With frames seen both ways (echo requests up, replies down): the estimate is within ± this (half the
   * smallest round trip). Absent when frames went one way only (`oneWay`): the error is then the one-way delay.
   */
  residualMs?: number;
  /**
   * Frames went one way only — server→client (the server's ARP, its echo replies), or client→server: the
   * estimate is off by the one-way delay and by how late the server stamped its soonest-stamped frame.
   */
  oneWay?: 'server→client' | 'client→server';
  /** one way only: how far the frames' differences spread (the one-way delay's and the server's stamping jitter) */
  spreadMs?: number;
  /** which frames gave it: echo probes (both ways), or frames seen at both ends that are not echoes (ARP) */
  via: 'echo' | 'arp';
  /** frames matched each way */
  up: number;
  down: number;
}

/** A frame seen at both ends, reduced to a key (the same bytes that matter, whatever the link type) and a direction. */
interface Seen {
  key: string;
  tsMs: number;
  up: boolean;
  /** how far from the coarse offset a match may be (ms): an echo is unique; an ARP frame repeats identically */
  tolMs: number;
}

type Echo = Extract<WireEvent, { kind: 'icmp' }>;
type Arp = Extract<WireEvent, { kind: 'arp' }>;
const echoKey = (e: Echo) => `${e.type}|${e.id ?? ''}|${e.seq ?? ''}|${e.srcIp}|${e.dstIp}`;
// no dstMac: a Linux cooked capture leaves it empty for unicast
const arpKey = (e: Arp) => `${e.op}|${e.srcMac}|${e.senderMac}|${e.senderIp}|${e.targetMac}|${e.targetIp}`;

function echoesOf(wire: readonly WireEvent[], vip: string): Seen[] {
  const out: Seen[] = [];
  for (const e of wire) if (e.kind === 'icmp' && (e.dstIp === vip || e.srcIp === vip)) out.push({ key: echoKey(e), tsMs: e.tsMs, up: e.type === 'echo-request', tolMs: 500 });
  return out;
}

/**
 * ARP frames whose direction is known: sent by the client (the source of the echo requests on its capture) →
 * up; sent by the server itself (the source of its echo replies, or the one MAC a run-node --capture pcap
 * holds) → down. A third host's frame bounds nothing and is left out.
 */
function arpsOf(wire: readonly WireEvent[], clientMacs: ReadonlySet<string>, serverMacs: ReadonlySet<string>): Seen[] {
  const out: Seen[] = [];
  for (const e of wire) {
    if (e.kind !== 'arp') continue;
    const up = clientMacs.has(e.srcMac);
    if (up || serverMacs.has(e.srcMac)) out.push({ key: arpKey(e), tsMs: e.tsMs, up, tolMs: 10 });
  }
  return out;
}

function macsOf(client: readonly WireEvent[], server: readonly WireEvent[], vip: string): { clientMacs: Set<string>; serverMacs: Set<string> } {
  const clientMacs = new Set<string>();
  for (const e of client) if (e.kind === 'icmp' && e.type === 'echo-request' && e.dstIp === vip) clientMacs.add(e.srcMac);
  const serverMacs = new Set<string>();
  for (const e of server) if (e.kind === 'icmp' && e.type === 'echo-reply' && e.srcIp === vip) serverMacs.add(e.srcMac);
  if (!serverMacs.size) {
    const arpSrcs = new Set(server.filter((e) => e.kind === 'arp' && !clientMacs.has(e.srcMac)).map((e) => e.srcMac));
    if (arpSrcs.size === 1) serverMacs.add([...arpSrcs][0]!);
  }
  return { clientMacs, serverMacs };
}

const group = (l: readonly Seen[]) => {
  const m = new Map<string, number[]>();
  for (const e of l) {
    const x = m.get(e.key);
    if (x) x.push(e.tsMs);
    else m.set(e.key, [e.tsMs]);
  }
  return m;
};

/** a key seen more often than this at one end (a long capture's periodic replies) is left out of the coarse step */
const COARSE_MAX_REPEATS = 200;

/** the width of the coarse window: more than the jitter of the one-way delay, less than a burst's spacing */
const COARSE_WINDOW_MS = 0.5;

/**
 * The coarse offset: every difference server − client of frames with the same key; the densest 0.5 ms window
 * wins (a frame repeated identically — a GARP burst — pairs with every copy, but only the true offset collects
 * a pair for every copy), and its median is the coarse offset. The same burst sent at two takeovers further
 * apart than the client's capture ties: the offset nearer 0 is taken (synced clocks).
 */
function coarseOffset(c: Map<string, number[]>, s: Map<string, number[]>): number | undefined {
  const diffs: number[] = [];
  for (const [k, st] of s) {
    const ct = c.get(k);
    if (!ct || ct.length > COARSE_MAX_REPEATS || st.length > COARSE_MAX_REPEATS) continue;
    for (const a of st) for (const b of ct) diffs.push(a - b);
  }
  diffs.sort((a, b) => a - b);
  let best: { n: number; mid: number } | undefined;
  for (let i = 0, j = 0; j < diffs.length; j++) {
    while (diffs[j]! - diffs[i]! > COARSE_WINDOW_MS) i++;
    const n = j - i + 1;
    if (best && n < best.n) continue;
    const mid = diffs[i + Math.floor((n - 1) / 2)]!;
    if (!best || n > best.n || Math.abs(mid) < Math.abs(best.mid)) best = { n, mid };
  }
  return best?.mid;
}

/** Each server frame matched to the client frame with the same key nearest to it after the coarse offset. */
function matched(client: readonly Seen[], server: readonly Seen[], mid: number) {
  const c = group(client);
  let minUp = Infinity;
  let maxUp = -Infinity;
  let minDown = Infinity;
  let maxDown = -Infinity;
  let up = 0;
  let down = 0;
  for (const e of server) {
    const ct = c.get(e.key);
    if (!ct) continue;
    let best: number | undefined;
    for (const x of ct) if (best === undefined || Math.abs(e.tsMs - mid - x) < Math.abs(e.tsMs - mid - best)) best = x;
    if (best === undefined || Math.abs(e.tsMs - mid - best) > e.tolMs) continue;
    const d = e.tsMs - best;
    if (e.up) {
      up++;
      minUp = Math.min(minUp, d);
      maxUp = Math.max(maxUp, d);
    } else {
      down++;
      maxDown = Math.max(maxDown, d);
      minDown = Math.min(minDown, d);
    }
  }
  return { minUp, maxUp, minDown, maxDown, up, down };
}

/**
 * The server's clock offset from the client's, from frames seen at both ends; undefined when none was.
 * The echo probes first (up and down: the offset within ± half the smallest round trip); without them both
 * ways, the ARP frames seen at both ends too (a run-node --capture pcap holds only the server's own ARP:
 * server → client only, so the offset is known up to the one-way delay, µs on a LAN).
 */
export function estimateOffset(client: readonly WireEvent[], server: readonly WireEvent[], vip: string): ClockOffset | undefined {
  const ce = echoesOf(client, vip);
  const se = echoesOf(server, vip);
  const midEcho = coarseOffset(group(ce), group(se));
  if (midEcho !== undefined) {
    const m = matched(ce, se, midEcho);
    if (m.up && m.down) return { offsetMs: (m.minUp + m.maxDown) / 2, residualMs: Math.max(0, (m.minUp - m.maxDown) / 2), via: 'echo', up: m.up, down: m.down };
  }
  const { clientMacs, serverMacs } = macsOf(client, server, vip);
  const cs = [...ce, ...arpsOf(client, clientMacs, serverMacs)];
  const ss = [...se, ...arpsOf(server, clientMacs, serverMacs)];
  const mid = coarseOffset(group(cs), group(ss));
  if (mid === undefined) return undefined;
  const m = matched(cs, ss, mid);
  const via = ss.length > se.length ? 'arp' : 'echo';
  if (m.up && m.down) return { offsetMs: (m.minUp + m.maxDown) / 2, residualMs: Math.max(0, (m.minUp - m.maxDown) / 2), via, up: m.up, down: m.down };
  if (!m.up && !m.down) return undefined;
  // One way only: each difference is the offset ± the one-way delay, plus how late the server stamped the frame
  // (run-node's capture stamps in user space, docs/facts/stack-facts.md: ms late under load; tcpdump in the
  // kernel). The smallest difference is the frame stamped soonest: off by the one-way delay and that stamp's
  // lateness, both small, opposite signs; the spread of the differences shows the stamping jitter.
  const [lo, hi] = m.up ? [m.minUp, m.maxUp] : [m.minDown, m.maxDown];
  return { offsetMs: lo, spreadMs: hi - lo, oneWay: m.up ? 'client→server' : 'server→client', via, up: m.up, down: m.down };
}

/** The events moved onto the client's clock. */
export function toClientClock<T extends { tsMs: number }>(events: readonly T[], offsetMs: number): T[] {
  return events.map((e) => ({ ...e, tsMs: e.tsMs - offsetMs }));
}

/** Run-node's JSON log lines (or its text lines) → the addresses it added. */
export function parseServerLog(text: string): ServerLogEvent[] {
  const out: ServerLogEvent[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t.startsWith('{')) {
      try {
        const j = JSON.parse(t) as { tsMs?: number; event?: string; op?: string; ip?: string; node?: string };
        if (j.event === 'resource' && j.op === 'start' && typeof j.tsMs === 'number' && typeof j.ip === 'string') out.push({ tsMs: j.tsMs, ip: j.ip, ...(j.node ? { node: j.node } : {}) });
      } catch {
        // not a JSON line: skipped
      }
      continue;
    }
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) hadiag\[\d+\] (\S+): INFO: resource: start \S*?(\d+\.\d+\.\d+\.\d+)/.exec(t);
    if (m) out.push({ tsMs: Date.parse(m[1]!), ip: m[3]!, node: m[2]! });
  }
  return out;
}

export type SegmentName = 'detection' | 'announce' | 'path' | 'client' | 'traffic';

export interface CrossHostSegment {
  name: SegmentName;
  from: string;
  to: string;
  fromTsMs: number;
  toTsMs: number;
  ms: number;
}

export interface CrossHost {
  servers: { name: string; offsetMs?: number; residualMs?: number; oneWay?: ClockOffset['oneWay']; spreadMs?: number; via?: ClockOffset['via']; up: number; down: number }[];
  /** the capture of the new holder (it sent frames from the new MAC) */
  newHolderCapture?: string;
  oldHolderCapture?: string;
  /** announcements from the new MAC on its own wire during the outage */
  announcementsOnServerWire: number;
  /**
   * the new holder's capture stamped its first announcement this much later than this host saw it (a capture
   * stamped in user space, after the clock offset): the point is put at the client's sighting
   */
  onWireStampLateMs?: number;
  points: { label: string; tsMs: number }[];
  segments: CrossHostSegment[];
  dominant?: SegmentName;
}

interface Joined {
  name: string;
  wire: WireEvent[];
  offset?: ClockOffset;
}

/** Which capture is which server's: the one holding frames sent from that MAC. */
const captureOf = (caps: readonly Joined[], mac: string | undefined) => (mac ? caps.find((c) => c.wire.some((e) => e.kind !== 'cluster' && e.srcMac === mac && (e.kind !== 'icmp' || e.type === 'echo-reply'))) ?? caps.find((c) => c.wire.some((e) => e.srcMac === mac)) : undefined);

const POINTS: { key: string; label: string }[] = [
  { key: 'silent', label: 'old holder silent' },
  { key: 'added', label: 'address added' },
  { key: 'onWire', label: 'first announcement on the server’s wire' },
  { key: 'seen', label: 'seen at the client' },
  { key: 'neigh', label: 'client’s neighbour entry changed' },
  { key: 'flowing', label: 'traffic flowing' },
];
const SEGMENT_OF: Record<string, SegmentName> = { silent: 'detection', added: 'announce', onWire: 'path', seen: 'client', neigh: 'traffic' };

/**
 * ARP from the VIP sent from `mac` in [from, to] that announces it: not a reply to a request for the VIP seen on
 * the same wire within the second before (that is resolution, the client asking).
 */
function announcementsOn(wire: readonly WireEvent[], vip: string, mac: string, from: number, to: number): WireEvent[] {
  const asked = new Map<string, number>();
  const out: WireEvent[] = [];
  for (const e of wire) {
    if (e.kind !== 'arp' || e.tsMs > to) continue;
    if (e.op === 'request' && e.targetIp === vip && e.senderIp !== vip) asked.set(e.senderIp, e.tsMs);
    if (e.tsMs < from || e.senderIp !== vip || e.srcMac !== mac) continue;
    const q = asked.get(e.targetIp);
    if (e.op === 'reply' && q !== undefined && e.tsMs - q <= 1000) continue;
    out.push(e);
  }
  return out;
}

const offsetFields = (o: ClockOffset) => ({ offsetMs: o.offsetMs, ...(o.residualMs !== undefined ? { residualMs: o.residualMs } : {}), ...(o.oneWay ? { oneWay: o.oneWay } : {}), ...(o.spreadMs !== undefined ? { spreadMs: o.spreadMs } : {}), via: o.via });

/**
 * When the old holder went silent: its last frame on its own capture — when that capture shows the probes'
 * traffic (its echo replies); a capture of its ARP only (run-node --capture) says nothing of when it stopped
 * answering, and the client's evidence is used.
 */
function oldSilent(o: OutageReport, old: Joined | undefined, end: number): number | undefined {
  if (!old || !o.macBefore || !old.wire.some((e) => e.kind === 'icmp' && e.type === 'echo-reply' && e.srcMac === o.macBefore)) return undefined;
  let last: number | undefined;
  for (const e of old.wire) if (e.srcMac === o.macBefore && e.tsMs <= end) last = e.tsMs;
  return last;
}

/**
 * The cross-host timeline of one outage (every time on the client's clock). `clientAsks`: the client's own
 * requests for the VIP (its capture), so that a reply to them on a server capture that holds only the
 * server's frames (run-node --capture) is not taken for an announcement.
 */
export function crossHostOf(vip: string, o: OutageReport, caps: readonly Joined[], log: readonly ServerLogEvent[], clientAsks: readonly WireEvent[] = []): CrossHost {
  const newMac = o.macAfter ?? o.broadcastAnswer?.mac ?? o.announcements[0]?.mac;
  const neu = captureOf(caps, newMac);
  const old = captureOf(caps, o.macBefore);
  const end = o.endTsMs ?? Infinity;
  const from = o.lastOkTsMs ?? o.startTsMs;
  const at: Record<string, number | undefined> = {};
  at.silent = oldSilent(o, old, end) ?? o.takeover?.oldSilentTsMs ?? o.lastOkTsMs;
  // the log line is written once `ip addr add` returned — after the address was up, maybe after the outage ended
  const added = log.filter((l) => l.ip === vip && l.tsMs >= from - 1000 && l.tsMs <= end + 5000);
  if (added.length) at.added = added[0]!.tsMs;
  const anns = neu ? announcementsOn([...neu.wire, ...clientAsks].sort((p, q) => p.tsMs - q.tsMs), vip, newMac!, from - 100, end + 5000) : [];
  if (anns.length) at.onWire = anns[0]!.tsMs;
  at.seen = o.announcements.find((a) => a.mac === newMac)?.tsMs;
  // a frame from the new MAC left its wire before this host saw it: a later server stamp is the server capture's
  // own lateness (run-node stamps in user space), kept as stampLateMs
  let stampLateMs: number | undefined;
  if (at.onWire !== undefined && at.seen !== undefined && at.onWire > at.seen) {
    stampLateMs = at.onWire - at.seen;
    at.onWire = at.seen;
  }
  // and the address was up before its first announcement
  if (at.added !== undefined && at.onWire !== undefined && at.added > at.onWire) at.added = at.onWire;
  at.neigh = o.switchTsMs;
  at.flowing = o.endTsMs;
  const points = POINTS.filter((p) => at[p.key] !== undefined).map((p) => ({ key: p.key, label: p.label, tsMs: at[p.key]! }));
  const segments: CrossHostSegment[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    segments.push({ name: SEGMENT_OF[a.key]!, from: a.label, to: b.label, fromTsMs: a.tsMs, toTsMs: b.tsMs, ms: b.tsMs - a.tsMs });
  }
  const dominant = segments.reduce<CrossHostSegment | undefined>((m, s) => (!m || s.ms > m.ms ? s : m), undefined);
  const x: CrossHost = {
    servers: caps.map((c) => ({ name: c.name, ...(c.offset ? offsetFields(c.offset) : {}), up: c.offset?.up ?? 0, down: c.offset?.down ?? 0 })),
    announcementsOnServerWire: anns.length,
    points: points.map(({ label, tsMs }) => ({ label, tsMs })),
    segments,
  };
  if (neu) x.newHolderCapture = neu.name;
  if (old) x.oldHolderCapture = old.name;
  if (stampLateMs !== undefined) x.onWireStampLateMs = stampLateMs;
  if (dominant) x.dominant = dominant.name;
  return x;
}

/** no-announcement split by the new holder's own wire: it never sent one (not-sent), or the path dropped it. */
function splitNoAnnouncement(o: OutageReport, x: CrossHost): Diagnosis | undefined {
  const d = o.diagnosis;
  if (d.cause !== 'no-announcement' || !x.newHolderCapture) return undefined;
  const rel = (ts: number) => `${ts - o.refTsMs >= 0 ? '+' : ''}${((ts - o.refTsMs) / 1000).toFixed(2)} s`;
  if (x.announcementsOnServerWire > 0) {
    const first = x.points.find((p) => p.label.startsWith('first announcement'))!;
    return {
      ...d,
      cause: 'dropped-on-path',
      sentence: `The new holder announced ${o.macAfter ?? ''} (${x.announcementsOnServerWire} frame(s) on its own wire, first at ${rel(first.tsMs)} in ${x.newHolderCapture}), but none reached this host: the path dropped them (a switch ACL, dynamic ARP inspection, EVPN ARP suppression). ${d.sentence.replace(/^No announcement[^:]*: [^;]*; this host/, 'This host')}`,
      evidence: [...d.evidence, `${x.announcementsOnServerWire} announcement(s) from the new MAC in ${x.newHolderCapture}, none in this host's capture`],
      fixes: [{ rank: 1, side: 'network', title: 'let the announcements through', detail: 'look for ARP filtering between the servers and this host: switch ACLs, DAI (trust the server ports or add the VIP binding), EVPN/VXLAN ARP suppression (the VTEP must learn the VIP’s new MAC)' }, ...d.fixes.filter((f) => !/make the takeover node announce/.test(f.title)).map((f, i) => ({ ...f, rank: i + 2 }))],
    };
  }
  return {
    ...d,
    cause: 'not-sent',
    sentence: `The new holder never announced the VIP: no ARP for it left its wire (${x.newHolderCapture}). ${d.sentence.replace(/^No announcement[^:]*: [^;]*; this host/, 'This host')}`,
    evidence: [...d.evidence, `no announcement from the new MAC in ${x.newHolderCapture} (its own capture)`],
    fixes: d.fixes,
  };
}

/** Join the server captures and logs with the client's analysis: offsets, each outage's cross-host timeline, the split causes. */
export function joinServers(a: Analysis, clientWire: readonly WireEvent[], servers: readonly ServerCapture[], logs: readonly ServerLogEvent[] = []): Analysis {
  const caps: Joined[] = servers.map((s) => {
    const offset = estimateOffset(clientWire, s.wire, a.vip);
    return { name: s.name, wire: offset ? toClientClock(s.wire, offset.offsetMs) : [...s.wire], ...(offset ? { offset } : {}) };
  });
  const asks = clientWire.filter((e) => e.kind === 'arp' && e.op === 'request' && e.targetIp === a.vip && e.senderIp !== a.vip);
  const outages = a.outages.map((o) => {
    const newMac = o.macAfter ?? o.broadcastAnswer?.mac;
    const neu = captureOf(caps, newMac);
    const log = neu?.offset ? toClientClock(logs, neu.offset.offsetMs) : logs;
    const crossHost = crossHostOf(a.vip, o, caps, log, asks);
    const split = splitNoAnnouncement(o, crossHost);
    return { ...o, crossHost, ...(split ? { diagnosis: split } : {}) };
  });
  let summary = a.summary;
  a.outages.forEach((o, i) => {
    if (outages[i]!.diagnosis !== o.diagnosis) summary = summary.replace(`#${o.index}: ${o.diagnosis.sentence}`, `#${o.index}: ${outages[i]!.diagnosis.sentence}`);
  });
  return { ...a, outages, summary };
}
