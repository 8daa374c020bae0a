/**
 * Pure analysis of a cluster's Heartbeat traffic (hadiag hb-inspect): one record per datagram with both auth
 * verdicts, per-node statistics, warnings a user needs and the cluster events (./cluster-events.ts). Fed
 * datagrams in capture order; no I/O.
 */
import { decodeMessage, verifyDecoded, type DecodeErrorCode, type Encoding, type Verdict } from '../../codecs/heartbeat/codec.js';
import type { AuthKeyLike } from '../../codecs/heartbeat/auth.js';
import { messageSummary, type MessageSummary } from '../../codecs/heartbeat/summary.js';
import { SeqWindow, medianOfCounts } from './seq-window.js';
import { ClusterTimeline, type ClusterEvent } from './cluster-events.js';

/** One UDP datagram as captured. */
export interface Datagram {
  tsMs: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

export interface InspectOptions {
  /** authkeys keys by index; without them every verdict is 'no-key'. */
  keys?: ReadonlyMap<number, AuthKeyLike>;
  /** ha.cf `node` names (compared case-insensitively); without them node names are not checked. */
  nodes?: readonly string[];
  /** ha.cf keepalive and deadtime. Without deadtime the deadtime the nodes announce (`dt`) is used. */
  keepaliveMs?: number;
  deadtimeMs?: number;
  /** keep every record for the report's `messages` (default true); false keeps memory flat on long captures */
  keepMessages?: boolean;
}

export interface MessageRecord {
  /** 1-based position among the datagrams inspected. */
  n: number;
  tsMs: number;
  src: string;
  srcPort: number;
  dst: string;
  /** Lower-cased `src` field. */
  node?: string;
  encoding?: Encoding;
  summary: MessageSummary;
  trailing: Verdict;
  inner: Verdict;
  trailingIndex?: number;
  innerIndex?: number;
  /** Both layers OK (classic messages: the inner one). */
  authOk: boolean;
  /** A second copy of a message already seen (same node, generation, seq and type). */
  duplicate: boolean;
  /** Set when the datagram is not a Heartbeat message. */
  error?: { code: DecodeErrorCode; reason: string };
}

export interface NodeStats {
  node: string;
  addresses: string[];
  messages: number;
  statusMessages: number;
  /** Median time between consecutive status messages of one generation. */
  statusIntervalMs?: number;
  keepaliveMs?: number;
  /** seq numbers never seen between the lowest and highest of each generation. */
  seqGaps: number;
  /** NS_rexmit messages this node sent (it asked for retransmissions). */
  rexmitRequests: number;
  generations: number[];
  /** Messages whose auth was not OK on some layer (only counted when keys were given). */
  authFailures: number;
  /** Deadtimes (ms) the node announced, in order of first appearance. */
  deadtimesMs: number[];
  /** The `dt` of its last status message. */
  lastDeadtimeMs?: number;
  /** Auth key indexes it signs with (trailing token). */
  keyIndexes: number[];
  inHaCf?: boolean;
}

export type WarningKind =
  | 'auth-failure'
  | 'undecodable'
  | 'unknown-node'
  | 'two-generations'
  | 'zero-destination'
  | 'deadtime-mismatch'
  /** the live capture ended early: its interface went down */
  | 'capture-lost'
  | 'key-index-mismatch'
  | 'inner-auth-mismatch';

export interface InspectWarning {
  kind: WarningKind;
  node?: string;
  tsMs?: number;
  message: string;
}

export interface InspectReport {
  healthy: boolean;
  /** One line per reason the capture is not healthy. */
  problems: string[];
  /** What could not be checked (no keys, no ha.cf). */
  notes: string[];
  firstTsMs?: number;
  lastTsMs?: number;
  counts: { datagrams: number; decoded: number; undecodable: number; authOk: number; authFailed: number; duplicates: number };
  messages: MessageRecord[];
  nodes: NodeStats[];
  warnings: InspectWarning[];
  events: ClusterEvent[];
}

interface NodeState {
  stats: NodeStats;
  lastHg?: number;
  lastStatusTs?: number;
  /** status intervals of one generation: value → how often (a median needs no list of them) */
  intervals: Map<number, number>;
  seqs: Map<number, SeqWindow>; // hg -> its sequence numbers
  twoGenerationsWarned: boolean;
  zeroWarned: boolean;
}

const DEFAULT_DEADTIME_MS = 30_000;

/**
 * Inspects datagrams one at a time (live) or all at once (`inspectHeartbeats`). `add` returns the record of
 * that datagram; `report` summarises everything so far (it can be called more than once).
 */
export class HeartbeatInspector {
  private readonly opts: InspectOptions;
  private readonly haNodes: Set<string> | undefined;
  private readonly records: MessageRecord[] = [];
  private readonly counts = { datagrams: 0, decoded: 0, undecodable: 0, authOk: 0, authFailed: 0, duplicates: 0 };
  private firstUndecodable?: MessageRecord;
  /** why messages failed auth ("trailing …, inner …" → count), when keys were given */
  private readonly failures = new Map<string, number>();
  private firstTsMs?: number;
  private lastTsMs?: number;
  private readonly nodes = new Map<string, NodeState>();
  private readonly warnings: InspectWarning[] = [];
  private readonly timeline: ClusterTimeline;
  private readonly unknownWarned = new Set<string>();
  private innerMismatches = 0;

  constructor(opts: InspectOptions = {}) {
    this.opts = opts;
    this.haNodes = opts.nodes ? new Set(opts.nodes.map((n) => n.toLowerCase())) : undefined;
    this.timeline = new ClusterTimeline(opts.keepaliveMs);
  }

  add(d: Datagram): MessageRecord {
    const rec = this.inspect(d);
    this.count(rec);
    if (this.opts.keepMessages !== false) this.records.push(rec);
    return rec;
  }

  private count(rec: MessageRecord): void {
    const c = this.counts;
    c.datagrams++;
    this.firstTsMs ??= rec.tsMs;
    this.lastTsMs = rec.tsMs;
    if (rec.duplicate) c.duplicates++;
    if (rec.error) {
      c.undecodable++;
      this.firstUndecodable ??= rec;
      return;
    }
    c.decoded++;
    if (rec.authOk) c.authOk++;
    else if (this.opts.keys && this.opts.keys.size > 0) {
      c.authFailed++;
      const k = `trailing ${verdictText(rec.trailing, rec.trailingIndex)}, inner ${verdictText(rec.inner, rec.innerIndex)}`;
      this.failures.set(k, (this.failures.get(k) ?? 0) + 1);
    }
  }

  private inspect(d: Datagram): MessageRecord {
    const n = this.counts.datagrams + 1;
    const base = { n, tsMs: d.tsMs, src: d.src, srcPort: d.srcPort, dst: d.dst };
    const decoded = decodeMessage(d.payload);
    if (!decoded.ok) {
      const rec: MessageRecord = {
        ...base,
        summary: {},
        trailing: 'bad',
        inner: 'bad',
        authOk: false,
        duplicate: false,
        error: { code: decoded.code, reason: decoded.reason },
      };
      return rec;
    }
    const v = verifyDecoded(d.payload, decoded, this.opts.keys);
    const summary = messageSummary(decoded.msg);
    const node = summary.src?.toLowerCase();
    const rec: MessageRecord = {
      ...base,
      encoding: decoded.encoding,
      summary,
      trailing: v.trailing,
      inner: v.inner,
      authOk: decoded.encoding === 'netstring' ? v.trailing === 'ok' && v.inner === 'ok' : v.inner === 'ok',
      duplicate: false,
    };
    if (node !== undefined) rec.node = node;
    if (v.trailingIndex !== undefined) rec.trailingIndex = v.trailingIndex;
    if (v.innerIndex !== undefined) rec.innerIndex = v.innerIndex;
    if (v.trailing === 'ok' && v.inner !== 'ok' && v.inner !== 'no-key') this.innerMismatches++;
    if (node !== undefined) this.track(rec, node, d);
    return rec;
  }

  private state(node: string, tsMs: number): NodeState {
    let s = this.nodes.get(node);
    if (!s) {
      s = {
        stats: { node, addresses: [], messages: 0, statusMessages: 0, seqGaps: 0, rexmitRequests: 0, generations: [], authFailures: 0, deadtimesMs: [], keyIndexes: [] },
        intervals: new Map(),
        seqs: new Map(),
        twoGenerationsWarned: false,
        zeroWarned: false,
      };
      if (this.opts.keepaliveMs !== undefined) s.stats.keepaliveMs = this.opts.keepaliveMs;
      if (this.haNodes) s.stats.inHaCf = this.haNodes.has(node);
      this.nodes.set(node, s);
      this.timeline.join(node, tsMs);
    }
    return s;
  }

  private deadtimeFor(s: NodeState): number {
    return this.opts.deadtimeMs ?? s.stats.lastDeadtimeMs ?? DEFAULT_DEADTIME_MS;
  }

  private track(rec: MessageRecord, node: string, d: Datagram): void {
    const s = this.state(node, d.tsMs);
    const st = s.stats;
    const m = rec.summary;
    const { hg, seq, type } = m;

    // Duplicates (several media, or a capture on `any`) are listed but not analysed twice.
    if (seq !== undefined && hg !== undefined) {
      let window = s.seqs.get(hg);
      if (!window) s.seqs.set(hg, (window = new SeqWindow()));
      if (!window.note(seq, type ?? '')) {
        rec.duplicate = true;
        return;
      }
    }

    st.messages++;
    if (!st.addresses.includes(d.src)) st.addresses.push(d.src);
    if (this.opts.keys && this.opts.keys.size > 0 && !rec.authOk) st.authFailures++;
    if (rec.trailingIndex !== undefined && !st.keyIndexes.includes(rec.trailingIndex)) st.keyIndexes.push(rec.trailingIndex);

    if (this.haNodes && !this.haNodes.has(node) && !this.unknownWarned.has(node)) {
      this.unknownWarned.add(node);
      this.warn('unknown-node', `node "${node}" (${d.src}) is not a node of ha.cf: real Heartbeat drops its messages ("bad node")`, node, d.tsMs);
    }
    if (d.dst === '0.0.0.0' && !s.zeroWarned) {
      s.zeroWarned = true;
      this.warn(
        'zero-destination',
        `${node} sends heartbeats to 0.0.0.0: its bcast interface has no broadcast address, peers never hear it and both nodes take the VIP — add one (ip addr add … brd + dev IFACE)`,
        node,
        d.tsMs,
      );
    }

    const firstMessage = st.messages === 1;
    const generation = this.timeline.message(node, d.tsMs, m, this.deadtimeFor(s), firstMessage);
    if (hg !== undefined) {
      if (!st.generations.includes(hg)) st.generations.push(hg);
      if (generation.olderThan !== undefined && !s.twoGenerationsWarned) {
        s.twoGenerationsWarned = true;
        this.warn(
          'two-generations',
          `${node} sends with generation ${hg.toString(16)} after ${generation.olderThan.toString(16)}: two generations at once (a second process with the same node name, or a forged packet — real 3.0.6 wedges on this)`,
          node,
          d.tsMs,
        );
      }
      if (generation.restarted) s.lastStatusTs = undefined;
      s.lastHg = hg;
    }

    if (type === 'status') {
      st.statusMessages++;
      if (m.deadtimeMs !== undefined) {
        st.lastDeadtimeMs = m.deadtimeMs;
        if (!st.deadtimesMs.includes(m.deadtimeMs)) st.deadtimesMs.push(m.deadtimeMs);
      }
      if (s.lastStatusTs !== undefined && hg === s.lastHg) {
        const iv = d.tsMs - s.lastStatusTs;
        s.intervals.set(iv, (s.intervals.get(iv) ?? 0) + 1);
      }
      s.lastStatusTs = d.tsMs;
    } else if (type === 'NS_rexmit') {
      st.rexmitRequests++;
    }
  }

  private warn(kind: WarningKind, message: string, node?: string, tsMs?: number): void {
    const w: InspectWarning = { kind, message };
    if (node !== undefined) w.node = node;
    if (tsMs !== undefined) w.tsMs = tsMs;
    this.warnings.push(w);
  }

  report(): InspectReport {
    const c = this.counts;
    const warnings = [...this.warnings];
    const keysGiven = Boolean(this.opts.keys && this.opts.keys.size > 0);
    const lastTs = this.lastTsMs;

    const nodes: NodeStats[] = [];
    for (const s of this.nodes.values()) {
      const st: NodeStats = { ...s.stats, seqGaps: 0 };
      const iv = medianOfCounts(s.intervals);
      if (iv !== undefined) st.statusIntervalMs = iv;
      for (const window of s.seqs.values()) st.seqGaps += window.gaps();
      nodes.push(st);
    }
    nodes.sort((a, b) => a.node.localeCompare(b.node));

    const first = this.firstUndecodable;
    if (first) {
      warnings.push({ kind: 'undecodable', tsMs: first.tsMs, message: `${c.undecodable} datagram(s) are not Heartbeat messages (first #${first.n} from ${first.src}: ${first.error!.code}: ${first.error!.reason})` });
    }
    if (c.authFailed) {
      const parts = [...this.failures].map(([k, n]) => `${n}× ${k}`).join('; ');
      warnings.push({ kind: 'auth-failure', message: `${c.authFailed} of ${c.decoded} messages fail authentication (${parts}) — real Heartbeat drops them; check authkeys on every node` });
    }
    if (this.innerMismatches) {
      warnings.push({ kind: 'inner-auth-mismatch', message: `${this.innerMismatches} message(s) have a valid trailing token but a bad auth field (3.0.6 checks only the trailing one)` });
    }
    const lastDts = new Set(nodes.map((n) => n.lastDeadtimeMs).filter((x): x is number => x !== undefined));
    if (lastDts.size > 1) {
      warnings.push({ kind: 'deadtime-mismatch', message: `nodes announce different deadtimes (${nodes.filter((n) => n.lastDeadtimeMs !== undefined).map((n) => `${n.node} ${n.lastDeadtimeMs} ms`).join(', ')}): use the same ha.cf deadtime on every node` });
    }
    const hacfDt = this.opts.deadtimeMs;
    if (hacfDt !== undefined) {
      for (const n of nodes) {
        if (n.lastDeadtimeMs !== undefined && n.lastDeadtimeMs !== hacfDt && lastDts.size <= 1) {
          warnings.push({ kind: 'deadtime-mismatch', node: n.node, message: `${n.node} announces deadtime ${n.lastDeadtimeMs} ms but ha.cf says ${hacfDt} ms: it runs another configuration` });
        }
      }
    }
    const indexes = new Set(nodes.flatMap((n) => n.keyIndexes));
    if (indexes.size > 1) {
      warnings.push({ kind: 'key-index-mismatch', message: `nodes sign with different authkeys indexes (${nodes.map((n) => `${n.node}: ${n.keyIndexes.join('/') || '-'}`).join(', ')}): every node needs every key, and the same \`auth N\` is simplest` });
    }

    const notes: string[] = [];
    if (!keysGiven) notes.push('authentication not checked: no keys (give --authkeys)');
    if (!this.haNodes) notes.push('node names not checked against ha.cf (give --hacf)');
    if (c.datagrams === 0) notes.push('no Heartbeat datagrams seen');

    const problems = warnings.map((w) => w.message);
    const report: InspectReport = {
      healthy: problems.length === 0,
      problems,
      notes,
      counts: { ...c },
      messages: [...this.records],
      nodes,
      warnings,
      events: this.timeline.timeline(lastTs, (node) => this.deadtimeFor(this.nodes.get(node)!)),
    };
    if (this.firstTsMs !== undefined) {
      report.firstTsMs = this.firstTsMs;
      report.lastTsMs = lastTs!;
    }
    return report;
  }
}

/** Inspect a whole capture. */
export function inspectHeartbeats(datagrams: Iterable<Datagram>, opts: InspectOptions = {}): InspectReport {
  const ins = new HeartbeatInspector(opts);
  for (const d of datagrams) ins.add(d);
  return ins.report();
}

/** OK / BAD / key index N unknown / no key given / missing, as hb-inspect prints a layer. */
export function verdictText(v: Verdict, index?: number): string {
  switch (v) {
    case 'ok':
      return 'OK';
    case 'bad':
      return 'BAD';
    case 'unknown-index':
      return `key index ${index ?? '?'} unknown`;
    case 'no-key':
      return 'no key given';
    case 'missing':
      return 'missing';
  }
}
