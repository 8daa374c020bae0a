/**
 * The I/O-free membership and resource state machine of a Heartbeat (3.0.x, haresources mode) node.
 *
 * Fed events (a decoded message, a timer tick, an operator command, the result of a resource action)
 * with the current time in ms; returns actions (send a message, acquire/release a resource group, log,
 * exit). The daemon wires it to sockets, timers and `ip`; the unit tests drive it with a simulated clock.
 *
 * Resource logic follows Heartbeat's nice_failback model (auto_failback on/off): resource sets are the
 * bit masks none/local/foreign/all, `starting` / `resource` / `ask_resources` (the three-phase standby
 * protocol) / `shutdone` messages, RQSTDELAY when both start. auto_failback legacy (nice_failback off)
 * acquires local groups at start and frees foreign ones when their home node returns.
 */
import { buildMessage, getField, getBinary, type HbMessage } from '../../codecs/heartbeat/message.js';
import { encodeClientList, parseClientList, MAX_PEER_CLIENTS } from '../strategy/client-book.js';
import type { Client } from '../strategy/language.js';

/** hadiag's own message type: the clients a node has learned, for its peer's announcer (Heartbeat ignores it). */
export const CLIENTS_TYPE = 'hadiag-clients';
/** how often a node repeats its client list to its peers (also sent at once when the list changes) */
export const CLIENTS_EVERY_MS = 5000;

export type AutoFailback = 'on' | 'off' | 'legacy';
export type NodeStatus = 'init' | 'up' | 'active' | 'dead';

/** Resource set bits, as Heartbeat encodes them: index into none/local/foreign/all. */
export const RSC_NONE = 0;
export const RSC_LOCAL = 1;
export const RSC_FOREIGN = 2;
export const RSC_ALL = 3;
const RSC_NAMES = ['none', 'local', 'foreign', 'all'] as const;
export const rscName = (bits: number): string => RSC_NAMES[bits & 3]!;
export function rscBits(name: string | undefined): number | undefined {
  const i = RSC_NAMES.indexOf((name ?? '') as (typeof RSC_NAMES)[number]);
  return i < 0 ? undefined : i;
}

export interface MachineGroup {
  /** the haresources home node */
  node: string;
  /** a label for logs/status, e.g. the haresources line */
  label: string;
  /** the group's IP resources as haresources writes them */
  ips?: string[];
  /**
   * Heartbeat's name for the group: its first resource as haresources writes it (`ResourceManager listkeys`).
   * Legacy ip-request / ip-request-resp carry it in `ipaddr`. Default: the first token after the node in
   * `label` when the label is the haresources line, else the first of `ips`, else the label.
   */
  key?: string;
}

/** The group key Heartbeat puts in ip-request's `ipaddr` (see MachineGroup.key). */
export function groupKey(g: MachineGroup): string {
  if (g.key) return g.key;
  const words = g.label.trim().split(/\s+/);
  if (words.length > 1 && words[0]!.toLowerCase() === g.node.toLowerCase()) return words[1]!;
  return g.ips?.[0] ?? g.label;
}

export interface MachineConfig {
  node: string;
  /** every cluster node from ha.cf (the local one included) */
  nodes: string[];
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
  autoFailback: AutoFailback;
  groups: MachineGroup[];
  /** the generation (hg), persisted by the daemon and incremented each start */
  generation: number;
  /** 16 bytes (srcuuid) */
  uuid: Buffer;
  /** Heartbeat's RQSTDELAY: how long both-starting nodes wait before taking their own groups (10 s) */
  rqstDelayMs?: number;
  /** contents of /proc/loadavg for the `ld` field */
  load?: () => string;
  /** how long to wait for a peer's answer in the standby protocol (10 s in Heartbeat) */
  standbyTimeoutMs?: number;
  /**
   * auto_failback legacy: how long to wait for the peer's ip-request-resp before taking a group anyway
   * (Heartbeat 3.0.6 never does: its req_resource failsafe is disabled). 10 s: the real rc.d/ip-request
   * answers only after its IPaddr stop has finished (about a second).
   */
  ipRequestTimeoutMs?: number;
}

export type MachineEvent =
  | { type: 'message'; msg: HbMessage; from?: { ip: string; port: number } }
  | { type: 'tick' }
  | { type: 'command'; cmd: 'standby' | 'takeover' | 'shutdown' }
  /** the clients this node's announcer has learned (its ARP cache and traffic to the VIP) */
  | { type: 'clients'; clients: Client[] }
  | { type: 'resource-done'; job: number; group: number; op: 'acquire' | 'release'; ok: boolean; durationMs?: number; detail?: string };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Action =
  | { type: 'send'; msg: HbMessage }
  | { type: 'acquire'; group: number; job: number; reason: string }
  | { type: 'release'; group: number; job: number; reason: string }
  /** announce a held group's addresses again (the peer had announced them during a partition) */
  | { type: 'announce'; group: number; reason: string }
  /** a peer's learned clients (hadiag-clients): feed them to the announcer's book */
  | { type: 'peer-clients'; node: string; clients: Client[] }
  | { type: 'log'; level: LogLevel; event: string; text: string; data?: Record<string, unknown> }
  | { type: 'exit'; code: number };

export interface PeerInfo {
  name: string;
  status: NodeStatus;
  /** what the peer says about itself (st of its last status) */
  reported?: string;
  lastHeardMs?: number;
  generation?: number;
  maxSeq?: number;
  ip?: string;
  holds: string;
  stable: boolean;
}

export interface Counters {
  received: number;
  accepted: number;
  duplicates: number;
  replaysRejected: number;
  generationRejected: number;
  generationChanges: number;
  seqJumpsRejected: number;
  /** seq memory re-synchronised to a fresh stream below the replay floor (a forger had pushed the floor up) */
  seqResyncs: number;
  unknownNode: number;
  malformedFields: number;
  retransmitRequests: number;
  retransmitsSent: number;
  naksSent: number;
  peerDeaths: number;
  /** hadiag-clients messages received, and malformed entries in them (skipped) */
  peerClientLists: number;
  badClientEntries: number;
}

export interface MachineStatus {
  node: string;
  status: NodeStatus;
  generation: number;
  seq: number;
  resourceState: ResourceState;
  holds: string;
  peers: PeerInfo[];
  groups: { index: number; label: string; home: string; holder: string | null; pending: boolean }[];
  counters: Counters;
  standby: string;
}

type ResourceState = 'init' | 'starting' | 'bothstarting' | 'rscrcvd' | 'stable' | 'shutdown';
type Standby = 'not' | 'me' | 'other' | 'done';

/** seqs remembered per peer for de-duplication and replay rejection */
const SEQ_MEMORY = 1024;
/** fresh packets with rising seqs below the replay floor that make the node follow them again */
const RESYNC_RUN = 3;
/** a jump further than this while the peer is talking is not believed */
const MAX_SEQ_JUMP = 1000;
/** gaps up to this size are asked for again (NS_rexmit) */
const MAX_REXMIT_GAP = 50;
/** a copy arriving this soon after the first is a multi-medium duplicate, later a replay */
const DUP_WINDOW_MS = 2000;
const HISTORY = 200;
const LOG_EVERY_MS = 5000;

interface Peer {
  name: string;
  status: NodeStatus;
  heard: boolean;
  reported?: string;
  lastHeardMs: number; // last accepted sequenced message (or the start time)
  warned: boolean;
  deadByShutdown: boolean;
  hg?: number;
  lastTs?: number;
  maxSeq: number;
  floor: number;
  seen: Map<number, number>;
  candidates: Map<number, { count: number; lastSeq: number; lastTs: number }>;
  /** a run of fresh, rising seqs rejected below the floor (see admit) */
  belowFloor?: { lastSeq: number; count: number };
  missing: Set<number>;
  lastAckedSeq: number;
  uuid?: Buffer;
  ip?: string;
}

interface Job {
  id: number;
  remaining: number;
  then: (now: number) => Action[];
}

export class NodeMachine {
  readonly cfg: Required<Omit<MachineConfig, 'load'>> & { load?: () => string };
  private readonly peers = new Map<string, Peer>();
  private readonly startMs: number;
  private status: NodeStatus = 'init';
  private seq = 0;
  private lastStatusMs = -Infinity;
  private commUp = false;
  private readonly history: { seq: number; msg: HbMessage }[] = [];
  private readonly counters: Counters = {
    received: 0, accepted: 0, duplicates: 0, replaysRejected: 0, generationRejected: 0, generationChanges: 0,
    seqJumpsRejected: 0, seqResyncs: 0, unknownNode: 0, malformedFields: 0, retransmitRequests: 0, retransmitsSent: 0, naksSent: 0, peerDeaths: 0,
    peerClientLists: 0, badClientEntries: 0,
  };
  private readonly lastLog = new Map<string, number>();

  // resource management (Heartbeat's names in comments)
  private rstate: ResourceState = 'init';
  private held = RSC_NONE; // procinfo->i_hold_resources
  private otherHolds = RSC_NONE; // other_holds_resources
  private otherStable = false; // other_is_stable
  private takeoverInProgress = false;
  private needsFailback = false; // rsc_needs_failback
  private standby: Standby = 'not'; // going_standby
  private standbyType = RSC_ALL; // standby_rsctype
  private standbyDeadline = 0;
  private localTakeoverAt = 0; // local_takeover_time
  private needsShutdown = false;
  private shuttingDown = false;
  private shutdownDeadline = 0;
  private exited = false;
  private legacyWaitUntil = 0;
  /** legacy: our groups asked back with ip-request, not answered yet (group -> key) */
  private readonly legacyAsked = new Map<number, string>();
  private readonly holding = new Map<number, number>(); // group -> acquired at (ms)
  private readonly pendingGroups = new Set<number>();
  private readonly jobs = new Map<number, Job>();
  private nextJob = 1;
  /** our learned clients as last encoded, and when they were last sent */
  private clientList = '';
  private clientsSentMs = -Infinity;

  constructor(config: MachineConfig, opts: { now: number }) {
    this.cfg = {
      rqstDelayMs: 10_000,
      standbyTimeoutMs: 10_000,
      ipRequestTimeoutMs: 10_000,
      ...config,
    } as NodeMachine['cfg'];
    if (!config.nodes.includes(config.node)) throw new Error(`node ${config.node} is not in the node list`);
    this.startMs = opts.now;
    for (const n of config.nodes) {
      if (n === config.node) continue;
      this.peers.set(n, {
        name: n, status: 'init', heard: false, lastHeardMs: opts.now, warned: false, deadByShutdown: false,
        maxSeq: 0, floor: 0, seen: new Map(), candidates: new Map(), missing: new Set(), lastAckedSeq: 0,
      });
    }
  }

  // ---------------------------------------------------------------- public API

  /** Start: the first status messages (init, up). Call once. */
  start(now: number): Action[] {
    const out: Action[] = [];
    out.push(this.log('info', 'start', `${this.cfg.node} starting: generation ${this.cfg.generation}, ${this.peers.size} peer(s), auto_failback ${this.cfg.autoFailback}`));
    out.push(this.sendStatus(now)); // st=init
    this.status = 'up';
    out.push(this.sendStatus(now));
    if (this.peers.size === 0) out.push(...this.doCommUp(now));
    return out;
  }

  handle(ev: MachineEvent, now: number): Action[] {
    if (this.exited) return [];
    switch (ev.type) {
      case 'message':
        return this.onMessage(ev.msg, now, ev.from);
      case 'tick':
        return this.onTick(now);
      case 'command':
        return this.onCommand(ev.cmd, now);
      case 'resource-done':
        return this.onResourceDone(ev, now);
      case 'clients': {
        const list = encodeClientList(ev.clients, MAX_PEER_CLIENTS);
        if (list === this.clientList) return [];
        this.clientList = list;
        return [this.log('info', 'clients-learned', `${ev.clients.length} client(s) learned: telling peers (${CLIENTS_TYPE})`, { count: ev.clients.length }), ...this.sendClients(now)];
      }
    }
  }

  /** When the machine next needs a tick (ms, absolute). */
  nextWakeMs(): number {
    let t = this.lastStatusMs + this.cfg.keepaliveMs;
    for (const p of this.peers.values()) {
      if (p.status === 'dead') continue;
      if (!p.heard) t = Math.min(t, this.startMs + this.cfg.initdeadMs);
      else {
        if (!p.warned) t = Math.min(t, p.lastHeardMs + this.cfg.warntimeMs);
        t = Math.min(t, p.lastHeardMs + this.cfg.deadtimeMs);
      }
    }
    if (this.localTakeoverAt) t = Math.min(t, this.localTakeoverAt);
    if (this.standbyDeadline) t = Math.min(t, this.standbyDeadline);
    if (this.shutdownDeadline) t = Math.min(t, this.shutdownDeadline);
    if (this.legacyWaitUntil) t = Math.min(t, this.legacyWaitUntil);
    if (this.clientList) t = Math.min(t, this.clientsSentMs + CLIENTS_EVERY_MS);
    return t;
  }

  getStatus(): MachineStatus {
    const peerHolds = this.otherHolds;
    return {
      node: this.cfg.node,
      status: this.status,
      generation: this.cfg.generation,
      seq: this.seq,
      resourceState: this.rstate,
      holds: rscName(this.held),
      standby: this.standby,
      peers: [...this.peers.values()].map((p) => ({
        name: p.name, status: p.status, reported: p.reported, lastHeardMs: p.heard ? p.lastHeardMs : undefined,
        generation: p.hg, maxSeq: p.maxSeq || undefined, ip: p.ip, holds: rscName(this.otherHolds), stable: this.otherStable,
      })),
      groups: this.cfg.groups.map((g, index) => {
        let holder: string | null = null;
        if (this.holding.has(index)) holder = this.cfg.node;
        else {
          const peer = [...this.peers.values()].find((p) => p.status !== 'dead');
          const cls = g.node === this.cfg.node ? RSC_FOREIGN : RSC_LOCAL; // class from the peer's point of view
          if (peer && peerHolds & cls) holder = peer.name;
        }
        return { index, label: g.label, home: g.node, holder, pending: this.pendingGroups.has(index) };
      }),
      counters: { ...this.counters },
    };
  }

  /** Groups this node holds right now (acquired and not released). */
  heldGroups(): number[] {
    return [...this.holding.keys()].sort((a, b) => a - b);
  }

  // ---------------------------------------------------------------- messages

  private onMessage(msg: HbMessage, now: number, from?: { ip: string; port: number }): Action[] {
    this.counters.received++;
    const type = getField(msg, 't');
    const src = getField(msg, 'src');
    if (!type || !src) {
      this.counters.malformedFields++;
      return this.rateLog('warn', 'malformed', `message without t or src dropped`, now);
    }
    if (src === this.cfg.node) return []; // our own broadcast coming back
    const peer = this.peers.get(src);
    if (!peer) {
      this.counters.unknownNode++;
      return this.rateLog('warn', 'unknown-node', `message from unknown node "${src}" dropped (not a node in ha.cf)`, now, { src, ip: from?.ip });
    }
    const out: Action[] = [];
    // control messages without seq
    if (type === 'NS_ackmsg') return [];
    if (type === 'NS_rexmit') return this.onRexmitRequest(msg, peer, now);
    if (type === 'NS_nak_rexmit') return [];

    const seqText = getField(msg, 'seq');
    const hgText = getField(msg, 'hg');
    const seq = seqText !== undefined ? parseInt(seqText, 16) : NaN;
    const hg = hgText !== undefined ? parseInt(hgText, 16) : NaN;
    if (!Number.isFinite(seq) || !Number.isFinite(hg) || seq < 0 || !/^[0-9a-fA-F]{1,16}$/.test(seqText ?? '') || !/^[0-9a-fA-F]{1,16}$/.test(hgText ?? '')) {
      this.counters.malformedFields++;
      return this.rateLog('warn', 'malformed', `message from ${src} without a valid seq/hg dropped`, now, { src, type });
    }
    const ts = parseInt(getField(msg, 'ts') ?? '0', 16) || 0;
    const verdict = this.admit(peer, hg, seq, ts, now, out);
    if (verdict !== 'ok') return out;
    this.counters.accepted++;
    if (from) peer.ip = from.ip;
    const uuid = getBinary(msg, 'srcuuid');
    if (uuid) peer.uuid = uuid;

    // liveness
    const wasDead = peer.status === 'dead';
    const neverHeard = !peer.heard;
    peer.heard = true;
    peer.lastHeardMs = now;
    peer.warned = false;
    if (type === 'status') {
      const st = getField(msg, 'st');
      peer.reported = st;
    }
    if (type !== 'shutdone' && (wasDead || neverHeard || peer.status === 'init')) {
      const newStatus: NodeStatus = peer.reported === 'active' ? 'active' : 'up';
      const healed = wasDead && !peer.deadByShutdown && !this.restartedSinceDeath(peer);
      peer.status = newStatus;
      peer.deadByShutdown = false;
      out.push(this.log('info', 'peer-up', `node ${src}: status ${newStatus}${healed ? ' (partition healed)' : ''}`, { peer: src, healed }));
      if (wasDead) out.push(...this.onPeerReturn(peer, healed, now));
    } else if (type === 'status' && peer.reported === 'active' && peer.status === 'up') {
      peer.status = 'active';
      out.push(this.log('info', 'peer-active', `node ${src}: status active`, { peer: src }));
    }
    out.push(...this.maybeAck(peer, now));
    if (!this.commUp && [...this.peers.values()].every((p) => p.heard || p.status === 'dead')) out.push(...this.doCommUp(now));
    out.push(...this.dispatch(type, msg, peer, now));
    return out;
  }

  /** The generation this peer had when we declared it dead (restart detection). */
  private readonly hgAtDeath = new Map<string, number | undefined>();
  private restartedSinceDeath(peer: Peer): boolean {
    return this.hgAtDeath.get(peer.name) !== peer.hg;
  }

  /**
   * Replay protection that cannot be wedged. Within a generation: a seq seen before is a duplicate (soon)
   * or a replay (later); a seq at or below the forgotten floor is a replay; a huge jump is believed only
   * after the peer has been silent. A different generation is adopted only when the current one has gone
   * quiet for two keepalives and the new one shows up consistently (two packets with rising seq, a
   * timestamp not older than the current one's) — or when the peer is dead/unknown. So one forged packet
   * with a higher hg is counted and dropped while genuine packets keep flowing.
   */
  private admit(peer: Peer, hg: number, seq: number, ts: number, now: number, out: Action[]): 'ok' | 'reject' {
    if (peer.status === 'dead' && peer.deadByShutdown && hg === peer.hg) return 'reject'; // the tail of a stopped incarnation
    const quietMs = now - peer.lastHeardMs;
    const quiet = !peer.heard || peer.status === 'dead' || quietMs >= 2 * this.cfg.keepaliveMs;
    if (peer.hg === undefined || (peer.status === 'dead' && hg !== peer.hg && (peer.lastTs === undefined || ts + 2 >= peer.lastTs))) {
      if (peer.hg !== undefined) {
        this.counters.generationChanges++;
        out.push(this.log('info', 'generation-change', `node ${peer.name}: generation ${peer.hg.toString(16)} -> ${hg.toString(16)}`, { peer: peer.name, from: peer.hg, to: hg }));
      }
      this.adoptGeneration(peer, hg);
    } else if (hg !== peer.hg) {
      let c = peer.candidates.get(hg);
      if (!c) {
        if (peer.candidates.size >= 8) peer.candidates.clear();
        c = { count: 0, lastSeq: -1, lastTs: ts };
        peer.candidates.set(hg, c);
      }
      if (seq > c.lastSeq) {
        c.count++;
        c.lastSeq = seq;
        c.lastTs = ts;
      }
      const fresh = peer.lastTs === undefined || ts + 2 >= peer.lastTs;
      if (quiet && c.count >= 2 && fresh) {
        this.counters.generationChanges++;
        out.push(this.log('warn', 'generation-change', `node ${peer.name}: generation ${peer.hg.toString(16)} -> ${hg.toString(16)} (old one silent ${Math.round(quietMs)} ms)`, { peer: peer.name, from: peer.hg, to: hg }));
        this.adoptGeneration(peer, hg);
      } else {
        this.counters.generationRejected++;
        out.push(...this.rateLog('warn', 'generation-rejected', `node ${peer.name}: packet with generation ${hg.toString(16)} rejected while generation ${peer.hg.toString(16)} is alive (forged or replayed?)`, now, { peer: peer.name, hg, current: peer.hg, seq }));
        return 'reject';
      }
    }
    // within the generation
    if (seq <= peer.floor) {
      // A forger holding the key can push the floor above the genuine seqs with a long jumped stream (after a
      // hiccup made the jump believable). Genuine packets then arrive as a run of rising seqs with current
      // timestamps, which a replay of old captures cannot fake: after RESYNC_RUN of them, follow that stream.
      const fresh = peer.lastTs === undefined || ts + 2 >= peer.lastTs;
      const run = peer.belowFloor;
      peer.belowFloor = fresh ? { lastSeq: seq, count: run && seq > run.lastSeq ? run.count + 1 : 1 } : undefined;
      if (peer.belowFloor && peer.belowFloor.count >= RESYNC_RUN) {
        this.counters.seqResyncs++;
        out.push(this.log('warn', 'seq-resync', `node ${peer.name}: ${RESYNC_RUN} fresh packets below the replay floor ${peer.floor.toString(16)}: following seq ${seq.toString(16)} (the floor had been pushed up by forged packets)`, { peer: peer.name, seq, floor: peer.floor }));
        peer.floor = 0;
        peer.maxSeq = 0;
        peer.seen.clear();
        peer.missing.clear();
        peer.belowFloor = undefined;
      } else {
        this.counters.replaysRejected++;
        out.push(...this.rateLog('warn', 'replay-rejected', `node ${peer.name}: old seq ${seq.toString(16)} rejected (replay)`, now, { peer: peer.name, seq }));
        return 'reject';
      }
    }
    const seenAt = peer.seen.get(seq);
    if (seenAt !== undefined) {
      if (now - seenAt <= DUP_WINDOW_MS) this.counters.duplicates++;
      else {
        this.counters.replaysRejected++;
        out.push(...this.rateLog('warn', 'replay-rejected', `node ${peer.name}: seq ${seq.toString(16)} seen before (replay)`, now, { peer: peer.name, seq }));
      }
      return 'reject';
    }
    if (peer.maxSeq > 0 && seq > peer.maxSeq + MAX_SEQ_JUMP && !quiet) {
      this.counters.seqJumpsRejected++;
      out.push(...this.rateLog('warn', 'seq-jump-rejected', `node ${peer.name}: seq jump ${peer.maxSeq.toString(16)} -> ${seq.toString(16)} rejected while the node is talking`, now, { peer: peer.name, seq, max: peer.maxSeq }));
      return 'reject';
    }
    peer.seen.set(seq, now);
    peer.missing.delete(seq);
    if (seq > peer.maxSeq) {
      const gap = seq - peer.maxSeq - 1;
      if (peer.maxSeq > 0 && gap > 0 && gap <= MAX_REXMIT_GAP && peer.heard && peer.status !== 'dead') {
        for (let s = peer.maxSeq + 1; s < seq; s++) peer.missing.add(s);
        this.counters.retransmitRequests++;
        out.push(this.sendCtl(now, [['t', 'NS_rexmit'], ['firstseq', String(peer.maxSeq + 1)], ['lastseq', String(seq - 1)], ['dest', peer.name]]));
        out.push(this.log('debug', 'rexmit-request', `node ${peer.name}: asking for seq ${peer.maxSeq + 1}..${seq - 1} again`));
      }
      peer.maxSeq = seq;
    }
    if (ts) peer.lastTs = Math.max(peer.lastTs ?? 0, ts);
    while (peer.seen.size > SEQ_MEMORY) {
      const [oldest] = peer.seen.keys();
      peer.seen.delete(oldest!);
      peer.floor = Math.max(peer.floor, oldest!);
    }
    return 'ok';
  }

  private adoptGeneration(peer: Peer, hg: number): void {
    peer.hg = hg;
    peer.maxSeq = 0;
    peer.floor = 0;
    peer.seen.clear();
    peer.missing.clear();
    peer.candidates.clear();
    peer.belowFloor = undefined;
    peer.lastAckedSeq = 0;
    peer.lastTs = undefined;
  }

  private onRexmitRequest(msg: HbMessage, peer: Peer, now: number): Action[] {
    const dest = getField(msg, 'dest');
    if (dest && dest !== this.cfg.node) return [];
    const first = parseInt(getField(msg, 'firstseq') ?? '', 10);
    const last = parseInt(getField(msg, 'lastseq') ?? '', 10);
    if (!Number.isFinite(first) || !Number.isFinite(last) || last < first || last - first > MAX_REXMIT_GAP) {
      this.counters.malformedFields++;
      return this.rateLog('warn', 'malformed', `bad NS_rexmit from ${peer.name}`, now);
    }
    const out: Action[] = [];
    for (let s = first; s <= last; s++) {
      const h = this.history.find((x) => x.seq === s);
      if (h) {
        this.counters.retransmitsSent++;
        out.push({ type: 'send', msg: h.msg });
      } else {
        this.counters.naksSent++;
        out.push(this.sendCtl(now, [['t', 'NS_nak_rexmit'], ['firstseq', String(s)], ['dest', peer.name]]));
      }
    }
    return out;
  }

  private maybeAck(peer: Peer, now: number): Action[] {
    if (peer.maxSeq - peer.lastAckedSeq < 10 || peer.missing.size > 0) return [];
    peer.lastAckedSeq = peer.maxSeq;
    const pairs: Array<[string, string | Buffer]> = [['t', 'NS_ackmsg'], ['dest', peer.name], ['ackseq', peer.maxSeq.toString(16)]];
    if (peer.uuid) pairs.push(['destuuid', peer.uuid]);
    pairs.push(['src', this.cfg.node], ['srcuuid', this.cfg.uuid], ['hg', this.cfg.generation.toString(16)], ['ts', this.tsHex(now)], ['ttl', '3']);
    return [{ type: 'send', msg: buildMessage(pairs) }];
  }

  private dispatch(type: string, msg: HbMessage, peer: Peer, now: number): Action[] {
    switch (type) {
      case 'status':
        return [];
      case 'reqnodes': {
        if (getField(msg, 'dest') && getField(msg, 'dest') !== this.cfg.node) return [];
        const pairs: Array<[string, string | Buffer]> = [['dest', peer.name], ['t', 'repnodes'], ['nodelist', this.cfg.nodes.join(' ') + ' '], ['delnodelist', ' ']];
        if (peer.uuid) pairs.push(['destuuid', peer.uuid]);
        return [this.sendMsg(now, pairs)];
      }
      case 'starting':
        return this.onStarting(peer, now);
      case 'resource':
        return this.onResources(msg, peer, now);
      case 'ask_resources':
        return this.askForResources(msg, false, now);
      case 'hb_takeover':
        return this.onTakeoverRequest(msg, peer, now);
      case 'shutdone':
        return this.onShutdone(peer, now);
      case 'ip-request':
        return this.onIpRequest(msg, peer, now);
      case 'ip-request-resp':
        return this.onIpRequestResp(msg, peer, now);
      case CLIENTS_TYPE:
        return this.onPeerClients(msg, peer, now);
      default:
        return []; // stonith, repnodes, ... need nothing from us
    }
  }

  /** A peer's learned clients: malformed entries are skipped and counted, the rest go to the announcer. */
  private onPeerClients(msg: HbMessage, peer: Peer, now: number): Action[] {
    this.counters.peerClientLists++;
    const { clients, bad } = parseClientList(getField(msg, 'clients') ?? '');
    const out: Action[] = [];
    if (bad) {
      this.counters.badClientEntries += bad;
      out.push(...this.rateLog('warn', 'bad-clients', `${bad} malformed client entr${bad === 1 ? 'y' : 'ies'} from ${peer.name} skipped`, now, { peer: peer.name }));
    }
    if (clients.length) out.push({ type: 'peer-clients', node: peer.name, clients });
    return out;
  }

  /** Tell live peers the clients we have learned (hadiag-clients), when there are any. */
  private sendClients(now: number): Action[] {
    if (!this.clientList) return [];
    this.clientsSentMs = now;
    if (this.shuttingDown || ![...this.peers.values()].some((p) => p.status !== 'dead')) return [];
    return [this.sendMsg(now, [['t', CLIENTS_TYPE], ['clients', this.clientList]])];
  }

  // ---------------------------------------------------------------- ticks

  private onTick(now: number): Action[] {
    const out: Action[] = [];
    for (const p of this.peers.values()) {
      if (p.status === 'dead') continue;
      if (!p.heard) {
        if (now >= this.startMs + this.cfg.initdeadMs) {
          out.push(this.log('warn', 'initdead', `node ${p.name}: not heard within initdead (${this.cfg.initdeadMs} ms): dead`, { peer: p.name }));
          out.push(...this.declareDead(p, now));
        }
        continue;
      }
      const silent = now - p.lastHeardMs;
      if (silent >= this.cfg.deadtimeMs) {
        out.push(this.log('warn', 'peer-dead', `node ${p.name}: dead (no heartbeat for ${Math.round(silent)} ms, deadtime ${this.cfg.deadtimeMs} ms)`, { peer: p.name, silentMs: silent }));
        out.push(...this.declareDead(p, now));
      } else if (!p.warned && silent >= this.cfg.warntimeMs) {
        p.warned = true;
        out.push(this.log('warn', 'late-heartbeat', `node ${p.name}: late heartbeat (${Math.round(silent)} ms since the last one, warntime ${this.cfg.warntimeMs} ms)`, { peer: p.name, silentMs: silent }));
      }
    }
    if (!this.commUp && [...this.peers.values()].every((p) => p.heard || p.status === 'dead')) out.push(...this.doCommUp(now));
    if (this.localTakeoverAt && now >= this.localTakeoverAt) {
      this.localTakeoverAt = 0;
      if (this.rstate === 'rscrcvd' || this.rstate === 'starting' || this.rstate === 'bothstarting') {
        out.push(this.log('info', 'rqstdelay', `no stable answer within ${this.cfg.rqstDelayMs} ms: taking our own resources`));
        this.rstate = 'stable';
        out.push(...this.reqOurResources(false, now));
        out.push(this.sendResourcesHeld(now, true));
      }
    }
    if (this.standbyDeadline && now >= this.standbyDeadline) {
      this.standbyDeadline = 0;
      if (this.standby !== 'not') {
        out.push(this.log('warn', 'standby-timeout', `standby (${this.standby}) got no answer: abandoned`));
        this.standby = 'not';
      }
    }
    if (this.legacyWaitUntil && now >= this.legacyWaitUntil) {
      this.legacyWaitUntil = 0;
      const left = [...this.legacyAsked.values()];
      this.legacyAsked.clear();
      out.push(this.log('warn', 'ip-request-timeout', `no ip-request-resp for ${left.join(', ')} within ${this.cfg.ipRequestTimeoutMs} ms: taking our groups anyway`));
      out.push(...this.reqOurResources(true, now));
    }
    if (this.shutdownDeadline && now >= this.shutdownDeadline && !this.shuttingDown) {
      out.push(this.log('warn', 'shutdown-forced', 'resource activity did not settle: shutting down anyway'));
      out.push(...this.giveupResources(now, true));
    }
    if (now >= this.lastStatusMs + this.cfg.keepaliveMs && !this.exited) out.push(this.sendStatus(now));
    if (this.clientList && now >= this.clientsSentMs + CLIENTS_EVERY_MS && !this.exited) out.push(...this.sendClients(now));
    return out;
  }

  private declareDead(p: Peer, now: number): Action[] {
    this.hgAtDeath.set(p.name, p.hg);
    // a new partition: its heal must be announced again however soon after the last one
    this.lastKeepMs = -Infinity;
    this.lastKeepToldMs = -Infinity;
    p.status = 'dead';
    p.warned = false;
    this.counters.peerDeaths++;
    return this.recoverDeadResources(p, now);
  }

  private doCommUp(now: number): Action[] {
    this.commUp = true;
    this.status = 'active';
    const out: Action[] = [this.sendStatus(now)];
    out.push(this.log('info', 'comm-up', `communications up: ${this.cfg.node} active`));
    if (this.cfg.autoFailback === 'legacy') {
      const alive = [...this.peers.values()].find((p) => p.status !== 'dead');
      if (alive && this.cfg.groups.some((g) => g.node === this.cfg.node)) {
        // ask the peer to free our groups first (it may hold them as foreign): one ip-request per group named by
        // its key, as Heartbeat's req_resource does. The real rc.d/ip-request gives the group up (givegroup, IPaddr
        // stop) and only then answers ip-request-resp (ipaddr=<key>, weown=yes|no, ok=OK); its rc.d/ip-request-resp
        // takes the group (takegroup) on that answer. So each group is taken when its answer comes, not before.
        for (const g of this.groupsOf(RSC_LOCAL)) {
          const key = groupKey(this.cfg.groups[g]!);
          this.legacyAsked.set(g, key);
          out.push(this.sendMsg(now, [['t', 'ip-request'], ['dest', alive.name], ['ipaddr', key]]));
        }
        out.push(this.log('info', 'ip-request', `asking ${alive.name} for our groups back (ip-request): ${[...this.legacyAsked.values()].join(', ')}`, { peer: alive.name }));
        this.legacyWaitUntil = now + this.cfg.ipRequestTimeoutMs;
      } else out.push(...this.reqOurResources(true, now));
      this.rstate = 'stable';
      return out;
    }
    this.rstate = 'starting';
    out.push(this.sendMsg(now, [['t', 'starting']]));
    // if every peer is already known dead (alone in the world), take everything now
    if ([...this.peers.values()].every((p) => p.status === 'dead')) {
      this.rstate = 'stable';
      out.push(...this.reqOurResources(true, now));
      out.push(this.sendResourcesHeld(now, true));
    }
    return out;
  }

  // ---------------------------------------------------------------- resources (nice_failback)

  private get nice(): boolean {
    return this.cfg.autoFailback !== 'legacy';
  }

  private groupsOf(bits: number): number[] {
    const out: number[] = [];
    this.cfg.groups.forEach((g, i) => {
      const local = g.node === this.cfg.node;
      if ((local && bits & RSC_LOCAL) || (!local && bits & RSC_FOREIGN)) out.push(i);
    });
    return out;
  }

  /** Start a job acquiring (in order) or releasing (in reverse order) groups; `then` runs when all are done. */
  private job(op: 'acquire' | 'release', groups: number[], reason: string, then: (now: number) => Action[], now: number): Action[] {
    const list = op === 'acquire'
      ? groups.filter((g) => !this.holding.has(g) && !this.pendingGroups.has(g))
      : groups.filter((g) => this.holding.has(g) || this.pendingGroups.has(g)).reverse();
    if (list.length === 0) return then(now);
    const id = this.nextJob++;
    this.jobs.set(id, { id, remaining: list.length, then });
    const out: Action[] = [];
    for (const g of list) {
      this.pendingGroups.add(g);
      out.push({ type: op, group: g, job: id, reason });
    }
    return out;
  }

  private onResourceDone(ev: Extract<MachineEvent, { type: 'resource-done' }>, now: number): Action[] {
    const out: Action[] = [];
    this.pendingGroups.delete(ev.group);
    const label = this.cfg.groups[ev.group]?.label ?? `#${ev.group}`;
    const dur = ev.durationMs !== undefined ? ` in ${ev.durationMs.toFixed(1)} ms` : '';
    if (ev.op === 'acquire') {
      if (ev.ok) this.holding.set(ev.group, now);
      out.push(this.log(ev.ok ? 'info' : 'error', ev.ok ? 'acquired' : 'acquire-failed', `${ev.ok ? 'acquired' : 'FAILED to acquire'} ${label}${dur}${ev.detail ? `: ${ev.detail}` : ''}`, { group: ev.group, durationMs: ev.durationMs }));
    } else {
      this.holding.delete(ev.group);
      out.push(this.log(ev.ok ? 'info' : 'error', ev.ok ? 'released' : 'release-failed', `${ev.ok ? 'released' : 'FAILED to release'} ${label}${dur}${ev.detail ? `: ${ev.detail}` : ''}`, { group: ev.group, durationMs: ev.durationMs }));
    }
    const job = this.jobs.get(ev.job);
    if (job && --job.remaining <= 0) {
      this.jobs.delete(ev.job);
      out.push(...job.then(now));
    }
    if (this.needsShutdown && this.jobs.size === 0 && !this.shuttingDown) out.push(...this.giveupResources(now, false));
    return out;
  }

  private isStable(): boolean {
    if (!this.nice) return this.jobs.size === 0;
    return this.otherStable && !this.takeoverInProgress && this.standby === 'not' && this.jobs.size === 0 &&
      (this.rstate === 'stable' || this.rstate === 'shutdown' || this.rstate === 'init');
  }

  private sendResourcesHeld(now: number, stable: boolean, info?: string, extra: Array<[string, string]> = []): Action {
    const pairs: Array<[string, string]> = [['t', 'resource'], ['rsc_hold', rscName(this.held)], ['rtype', 'full'], ['isstable', stable ? '1' : '0']];
    if (info) pairs.push(['info', info]);
    pairs.push(...extra);
    return this.sendMsg(now, pairs);
  }

  /** Heartbeat's req_our_resources(getthemanyway). */
  private reqOurResources(anyway: boolean, now: number): Action[] {
    if (this.shuttingDown) return [];
    if (this.nice) {
      if ((this.otherHolds & RSC_FOREIGN || this.held & RSC_LOCAL) && !anyway && this.standby === 'not') {
        return [this.log('info', 'local-acquisition', 'local resource acquisition completed (none: held elsewhere or already ours)')];
      }
      this.held |= RSC_LOCAL;
    }
    return this.job('acquire', this.groupsOf(RSC_LOCAL), 'req_our_resources', (t) => {
      const out: Action[] = [this.log('info', 'local-acquisition', 'local resource acquisition completed')];
      if (this.nice) out.push(this.sendResourcesHeld(t, true, 'req_our_resources()', this.sinceFields()));
      return out;
    }, now);
  }

  private onStarting(peer: Peer, now: number): Action[] {
    if (!this.nice) return [];
    if (this.rstate === 'starting') this.rstate = 'bothstarting';
    else if (this.rstate === 'init') return [this.log('warn', 'starting-early', `'starting' from ${peer.name} before we are up: ignored`)];
    this.otherStable = false;
    return [this.sendResourcesHeld(now, this.rstate === 'stable', undefined, this.sinceFields())];
  }

  private onResources(msg: HbMessage, peer: Peer, now: number): Action[] {
    if (!this.nice) return [];
    const n = rscBits(getField(msg, 'rsc_hold'));
    if (n === undefined) {
      this.counters.malformedFields++;
      return this.rateLog('warn', 'malformed', `resource message from ${peer.name} with a bad rsc_hold`, now);
    }
    const full = getField(msg, 'rtype') === 'full';
    const out: Action[] = [];
    if (this.rstate === 'starting' || this.rstate === 'bothstarting') {
      this.rstate = 'rscrcvd';
      this.localTakeoverAt = now + this.cfg.rqstDelayMs;
    } else if (this.rstate === 'init') return out;
    this.otherHolds = full ? n : n === RSC_NONE ? RSC_NONE : n | this.otherHolds;
    const st = getField(msg, 'isstable');
    if (st === '1') {
      if (!this.otherStable) {
        this.otherStable = true;
        out.push(this.log('info', 'remote-stable', `${peer.name}: resource transition completed (holds ${rscName(this.otherHolds)})`));
        out.push(this.sendResourcesHeld(now, this.rstate === 'stable', undefined, this.sinceFields()));
        out.push(...this.performAutoFailback(now));
      }
    } else if (st !== undefined) this.otherStable = false;
    if (this.rstate !== 'stable' && this.rstate !== 'shutdown' && this.otherStable) {
      this.localTakeoverAt = 0;
      this.rstate = 'stable';
      out.push(...this.reqOurResources(false, now));
      out.push(this.sendResourcesHeld(now, true, undefined, this.sinceFields()));
      out.push(...this.performAutoFailback(now));
    }
    out.push(...this.resolveContest(msg, peer, now));
    return out;
  }

  /** hadiag extension fields (ignored by Heartbeat): when we got our local/foreign groups. */
  private sinceFields(): Array<[string, string]> {
    const since = (bits: number) => {
      const ts = this.groupsOf(bits).map((g) => this.holding.get(g)).filter((x): x is number => x !== undefined);
      return ts.length ? Math.min(...ts) : undefined;
    };
    const out: Array<[string, string]> = [];
    const l = since(RSC_LOCAL);
    const f = since(RSC_FOREIGN);
    if (l !== undefined) out.push(['hd_lsince', Math.round(l).toString(16)]);
    if (f !== undefined) out.push(['hd_fsince', Math.round(f).toString(16)]);
    return out;
  }

  /**
   * Both nodes hold the same groups (after a partition healed): settle to one owner without restarting.
   * on / legacy: each group goes home. off: whoever acquired it first keeps it (home node on a tie or when
   * the peer does not say).
   */
  private resolveContest(msg: HbMessage, peer: Peer, now: number): Action[] {
    if (this.jobs.size > 0 || this.shuttingDown || this.standby !== 'not' || this.rstate !== 'stable') return [];
    const out: Action[] = [];
    const myForeignHeld = this.groupsOf(RSC_FOREIGN).filter((g) => this.holding.has(g));
    const myLocalHeld = this.groupsOf(RSC_LOCAL).filter((g) => this.holding.has(g));
    const otherHasTheirLocal = (this.otherHolds & RSC_LOCAL) !== 0;
    const otherHasMyLocal = (this.otherHolds & RSC_FOREIGN) !== 0;
    const theirL = parseInt(getField(msg, 'hd_lsince') ?? '', 16);
    const theirF = parseInt(getField(msg, 'hd_fsince') ?? '', 16);
    if (myForeignHeld.length && otherHasTheirLocal) {
      let iYield = true;
      if (this.cfg.autoFailback === 'off' && Number.isFinite(theirL)) {
        const mine = Math.min(...myForeignHeld.map((g) => this.holding.get(g)!));
        iYield = !(Math.round(mine) < theirL);
      }
      if (iYield) {
        out.push(this.log('warn', 'contest', `both ${this.cfg.node} and ${peer.name} hold ${peer.name}'s groups: releasing ours (auto_failback ${this.cfg.autoFailback})`));
        this.held &= ~RSC_FOREIGN;
        this.needsFailback = false;
        out.push(...this.job('release', myForeignHeld, 'partition heal', (t) => [this.sendResourcesHeld(t, true, 'heal', this.sinceFields())], now));
      } else out.push(...this.keep(myForeignHeld, peer, now));
    }
    if (myLocalHeld.length && otherHasMyLocal) {
      let iYield = false;
      if (this.cfg.autoFailback === 'off' && Number.isFinite(theirF)) {
        const mine = Math.min(...myLocalHeld.map((g) => this.holding.get(g)!));
        iYield = theirF < Math.round(mine);
      }
      if (iYield) {
        out.push(this.log('warn', 'contest', `both ${this.cfg.node} and ${peer.name} hold our groups; ${peer.name} had them first: releasing (auto_failback off)`));
        this.held &= ~RSC_LOCAL;
        out.push(...this.job('release', myLocalHeld, 'partition heal', (t) => [this.sendResourcesHeld(t, true, 'heal', this.sinceFields())], now));
      } else out.push(...this.keep(myLocalHeld, peer, now));
    }
    return out;
  }

  /**
   * We keep contested groups: tell the peer what we hold (after a one-way cut it never saw us die, so it
   * has no other way to learn it must yield) and announce them again (the peer announced them meanwhile).
   */
  private lastKeepMs = -Infinity;
  private lastKeepToldMs = -Infinity;
  private keep(groups: number[], peer: Peer, now: number): Action[] {
    const out: Action[] = [];
    if (now - this.lastKeepToldMs >= this.cfg.keepaliveMs && this.nice) {
      this.lastKeepToldMs = now;
      out.push(this.sendResourcesHeld(now, true, 'heal', this.sinceFields()));
    }
    if (now - this.lastKeepMs < 5000) return out;
    this.lastKeepMs = now;
    return [
      this.log('warn', 'contest', `both ${this.cfg.node} and ${peer.name} hold ${groups.map((g) => this.cfg.groups[g]!.label).join(', ')}: keeping them (auto_failback ${this.cfg.autoFailback}), announcing again`),
      ...out,
      ...groups.map((group): Action => ({ type: 'announce', group, reason: 'partition heal' })),
    ];
  }

  private performAutoFailback(now: number): Action[] {
    if (!(this.held & RSC_FOREIGN) || !this.needsFailback || this.cfg.autoFailback !== 'on') {
      this.needsFailback = false;
      return [];
    }
    if (this.standby !== 'not') return [this.log('warn', 'failback-ignored', 'auto failback ignored: standby in progress')];
    this.needsFailback = false;
    this.standbyType = RSC_FOREIGN;
    return [this.log('info', 'auto-failback', 'auto failback: giving foreign resources back to their home node'), ...this.sendStandbyMsg('me', now)];
  }

  /** Send ask_resources and process it as Heartbeat does with its own messages. */
  private sendStandbyMsg(info: Standby, now: number): Action[] {
    const msg = this.buildSeq(now, [['t', 'ask_resources'], ['rsc_hold', rscName(this.standbyType)], ['info', info]]);
    return [{ type: 'send', msg }, ...this.askForResources(msg, true, now)];
  }

  /** Heartbeat's three-phase standby protocol (ask_for_resources). */
  private askForResources(msg: HbMessage, fromMe: boolean, now: number): Action[] {
    if (!this.nice) return [this.log('info', 'standby-unsupported', 'standby needs auto_failback on or off')];
    if (this.rstate === 'shutdown') return [];
    const info = getField(msg, 'info') ?? '';
    const from = getField(msg, 'src') ?? '';
    const rtype = rscBits(getField(msg, 'rsc_hold')) ?? RSC_ALL;
    const out: Action[] = [];
    const ignored = () => out.push(this.log('warn', 'standby-ignored', `ignored standby message '${info}' from ${from} in state ${this.standby}`));
    switch (this.standby) {
      case 'not':
        if (info !== 'me') {
          ignored();
          break;
        }
        if (!this.otherStable || this.rstate !== 'stable') {
          out.push(this.log('warn', 'standby-ignored', `standby request [${info}] from ${from} ignored: ${!this.otherStable ? 'other side in flux' : 'local resources in flux'}`));
          break;
        }
        this.standbyType = rtype;
        this.otherStable = false;
        out.push(this.log('info', 'standby', `${from} wants to go standby [${rscName(rtype)}]`));
        if (fromMe) {
          this.standby = 'me';
          this.standbyDeadline = now + this.cfg.standbyTimeoutMs;
        } else {
          this.standby = 'other';
          this.standbyDeadline = now + 60 * 60_000;
          out.push(...this.sendStandbyMsg('other', now));
        }
        break;
      case 'me':
        if (!fromMe) {
          if (info === 'other') {
            this.standbyType = rtype;
            this.standbyDeadline = now + 60 * 60_000;
            out.push(this.log('info', 'standby', `${from} can take our ${rscName(rtype)} resources`));
            out.push(...this.goStandby('me', rtype, now));
          } else ignored();
        } else if (info === 'done') {
          out.push(this.log('info', 'standby', `local standby completed [${rscName(rtype)}]`));
          this.standby = 'done';
          this.held &= ~this.standbyType;
        } else if (info !== 'me') ignored();
        break;
      case 'other':
        this.standbyType = rtype;
        if (info === 'done') {
          if (!fromMe) {
            out.push(this.log('info', 'standby', `standby: acquiring [${rscName(rtype)}] resources from ${from}`));
            this.standby = 'done';
            out.push(...this.goStandby('other', rtype, now));
          } else ignored();
        } else if (!fromMe || info !== 'other') ignored();
        break;
      case 'done':
        this.standbyType = rtype;
        if (info === 'done') {
          this.standbyDeadline = 0;
          this.standby = 'not';
          if (fromMe) {
            const rup = rtype === RSC_LOCAL ? RSC_FOREIGN : rtype === RSC_FOREIGN ? RSC_LOCAL : RSC_ALL;
            this.held |= rup;
            out.push(this.log('info', 'standby', `standby resource acquisition done [${rscName(rtype)}]`));
          } else out.push(this.log('info', 'standby', `${from} completed standby takeover of ${rscName(rtype)} resources`));
          out.push(this.sendResourcesHeld(now, true, undefined, this.sinceFields()));
        } else ignored();
        break;
    }
    return out;
  }

  /** Heartbeat's go_standby(who, resourceset): give up (who=me) or acquire (who=other) a resource set. */
  private goStandby(who: 'me' | 'other', set: number, now: number): Action[] {
    const out: Action[] = [];
    let act: number;
    if (set === RSC_FOREIGN) act = who === 'me' ? RSC_FOREIGN : RSC_LOCAL;
    else if (set === RSC_LOCAL) act = who === 'me' ? RSC_LOCAL : RSC_FOREIGN;
    else act = RSC_ALL;
    if (who === 'me') {
      this.otherStable = false;
      this.held &= ~set;
      out.push(this.sendResourcesHeld(now, false, 'standby'));
      out.push(...this.job('release', this.groupsOf(act), 'standby', (t) => this.sendStandbyMsg('done', t), now));
    } else {
      out.push(...this.job('acquire', this.groupsOf(act), 'standby takeover', (t) => this.sendStandbyMsg('done', t), now));
    }
    return out;
  }

  /** A peer asked (hb_takeover) to get resources: we go standby for what it wants. */
  private onTakeoverRequest(msg: HbMessage, peer: Peer, now: number): Action[] {
    const want = rscBits(getField(msg, 'rsc_hold')) ?? RSC_ALL;
    // what the peer calls local is our foreign
    const mine = want === RSC_LOCAL ? RSC_FOREIGN : want === RSC_FOREIGN ? RSC_LOCAL : RSC_ALL;
    return [this.log('info', 'takeover-request', `${peer.name} asks to take over [${rscName(want)}]`), ...this.startStandby(mine, now)];
  }

  private startStandby(type: number, now: number): Action[] {
    if (!this.nice) return [this.log('warn', 'standby-unsupported', 'standby/takeover need auto_failback on or off (not legacy)')];
    if (this.standby !== 'not' || this.rstate !== 'stable' || !this.otherStable) {
      return [this.log('warn', 'standby-refused', `standby refused: ${this.standby !== 'not' ? 'standby already in progress' : 'resources in flux'}`)];
    }
    if ([...this.peers.values()].every((p) => p.status === 'dead')) return [this.log('warn', 'standby-refused', 'standby refused: no other node is up')];
    this.standbyType = type;
    return this.sendStandbyMsg('me', now);
  }

  private onShutdone(peer: Peer, now: number): Action[] {
    const out: Action[] = [this.log('info', 'peer-shutdown', `node ${peer.name}: shut down gracefully (shutdone)`, { peer: peer.name })];
    this.hgAtDeath.set(peer.name, peer.hg);
    peer.status = 'dead';
    peer.deadByShutdown = true;
    this.otherStable = true;
    this.otherHolds = RSC_NONE;
    if (this.shuttingDown) return out;
    if (!this.nice) return [...out, ...this.takeoverFrom(peer, now)];
    if (this.held !== RSC_ALL || this.groupsOf(RSC_ALL).some((g) => !this.holding.has(g))) {
      const rtype = this.held === RSC_FOREIGN ? RSC_LOCAL : this.held === RSC_LOCAL ? RSC_FOREIGN : RSC_ALL;
      this.standby = 'done';
      this.standbyType = rtype;
      this.needsFailback = true;
      if (this.rstate !== 'stable') this.rstate = 'stable';
      out.push(...this.job('acquire', this.groupsOf(RSC_ALL), 'peer shut down', (t) => {
        this.held = RSC_ALL;
        this.standby = 'not';
        this.standbyDeadline = 0;
        return [this.sendMsg(t, [['t', 'ask_resources'], ['rsc_hold', rscName(rtype)], ['info', 'done']]), this.sendResourcesHeld(t, true, undefined, this.sinceFields())];
      }, now));
    }
    return out;
  }

  /** Heartbeat's hb_rsc_recover_dead_resources + takeover_from_node. */
  private recoverDeadResources(peer: Peer, now: number): Action[] {
    this.standby = 'not';
    this.standbyDeadline = 0;
    if (this.shuttingDown) return [];
    this.needsFailback = true;
    return this.takeoverFrom(peer, now);
  }

  private takeoverFrom(peer: Peer, now: number): Action[] {
    const out: Action[] = [this.log('info', 'takeover', `resources being acquired from ${peer.name}`, { peer: peer.name })];
    if (this.nice) {
      this.held |= RSC_FOREIGN;
      this.otherHolds = RSC_NONE;
      this.otherStable = true;
      this.takeoverInProgress = true;
    }
    if (this.rstate !== 'shutdown') this.rstate = 'stable';
    this.localTakeoverAt = 0;
    this.legacyWaitUntil = 0;
    this.legacyAsked.clear();
    out.push(...this.job('acquire', this.groupsOf(RSC_FOREIGN), 'mach_down', (t) => {
      this.takeoverInProgress = false;
      this.otherStable = true;
      const r: Action[] = [this.log('info', 'takeover-done', `mach_down takeover complete`)];
      if (this.nice) r.push(this.sendMsg(t, [['t', 'resource'], ['rsc_hold', 'foreign'], ['info', 'mach_down']]));
      return r;
    }, now));
    out.push(...this.reqOurResources(true, now));
    return out;
  }

  /** A dead peer is heard again (restarted, or a partition healed). */
  private onPeerReturn(peer: Peer, healed: boolean, now: number): Action[] {
    if (this.cfg.autoFailback === 'legacy') {
      // the home node takes its groups back: free them at once when it is a heal (a restarted one asks)
      if (!healed) return [];
      const mine = this.groupsOf(RSC_LOCAL).filter((g) => this.holding.has(g));
      return [...this.releaseForeignTo(peer, now), ...(mine.length ? this.keep(mine, peer, now) : [])];
    }
    if (healed && this.rstate === 'stable') {
      // tell the peer what we hold; both sides then settle contested groups (resolveContest)
      this.otherStable = true;
      return [this.sendResourcesHeld(now, true, 'heal', this.sinceFields())];
    }
    return [];
  }

  private releaseForeignTo(peer: Peer, now: number): Action[] {
    const groups = this.groupsOf(RSC_FOREIGN).filter((g) => this.holding.has(g) && this.cfg.groups[g]!.node === peer.name);
    if (!groups.length) return [];
    return [this.log('info', 'failback', `giving ${peer.name}'s groups back`), ...this.job('release', groups, 'failback (legacy)', () => [], now)];
  }

  private onIpRequest(msg: HbMessage, peer: Peer, now: number): Action[] {
    if (getField(msg, 'dest') && getField(msg, 'dest') !== this.cfg.node) return [];
    const ipaddr = getField(msg, 'ipaddr');
    // the group the peer names (Heartbeat's ResourceManager finds the haresources line holding that word;
    // hadiag also accepts the same address written another way), every group of the peer's when it names none
    const ipOf = (w: string) => /(?:^|::)(\d+\.\d+\.\d+\.\d+)/.exec(w)?.[1];
    const named = (g: number) => {
      if (!ipaddr) return true;
      const grp = this.cfg.groups[g]!;
      const words = [groupKey(grp), ...grp.label.split(/\s+/), ...(grp.ips ?? [])];
      return words.includes(ipaddr) || (ipOf(ipaddr) !== undefined && words.some((w) => ipOf(w) === ipOf(ipaddr)));
    };
    const heldForeign = this.groupsOf(RSC_FOREIGN).filter((g) => this.holding.has(g) || this.pendingGroups.has(g));
    const groups = heldForeign.filter((g) => this.cfg.groups[g]!.node === peer.name && named(g));
    // answered after the release, as the real rc.d/ip-request does (weown: we held the group when asked)
    const reply = (t: number) => [this.sendMsg(t, [['t', 'ip-request-resp'], ['dest', peer.name], ...(ipaddr ? [['ipaddr', ipaddr] as [string, string]] : []), ['weown', groups.length ? 'yes' : 'no'], ['ok', 'OK']])];
    if (groups.length === heldForeign.length) this.held &= ~RSC_FOREIGN;
    if (!groups.length) return reply(now);
    return [this.log('info', 'failback', `${peer.name} asks for its groups back`), ...this.job('release', groups, 'ip-request', reply, now)];
  }

  /** legacy: the peer answered one of our ip-requests; take that group (Heartbeat's rc.d/ip-request-resp). */
  private onIpRequestResp(msg: HbMessage, peer: Peer, now: number): Action[] {
    if (this.cfg.autoFailback !== 'legacy' || getField(msg, 'dest') !== this.cfg.node || !this.legacyAsked.size) return [];
    const ipaddr = getField(msg, 'ipaddr');
    const ok = getField(msg, 'ok');
    const groups = [...this.legacyAsked].filter(([, key]) => !ipaddr || key === ipaddr).map(([g]) => g);
    const out: Action[] = [this.log('info', 'ip-request-resp', `${peer.name} answered ip-request ${ipaddr ?? '(no ipaddr)'}: ok=${ok ?? '-'} weown=${getField(msg, 'weown') ?? '-'}`, { peer: peer.name, ipaddr, ok })];
    for (const g of groups) this.legacyAsked.delete(g);
    if (!this.legacyAsked.size) this.legacyWaitUntil = 0;
    if (ok !== 'OK') {
      out.push(this.log('warn', 'ip-request-denied', `${peer.name} did not give ${ipaddr ?? 'our groups'} up (ok=${ok ?? '-'}): not taking it`));
      return out;
    }
    if (!groups.length || this.shuttingDown) return out;
    out.push(...this.job('acquire', groups, 'ip-request-resp', (t) => (this.legacyAsked.size ? [] : [this.log('info', 'local-acquisition', 'local resource acquisition completed')]), now));
    return out;
  }

  // ---------------------------------------------------------------- commands

  private onCommand(cmd: 'standby' | 'takeover' | 'shutdown', now: number): Action[] {
    switch (cmd) {
      case 'standby':
        return [this.log('info', 'command', 'standby requested'), ...this.startStandby(RSC_ALL, now)];
      case 'takeover': {
        if (!this.nice) return [this.log('warn', 'standby-unsupported', 'takeover needs auto_failback on or off (not legacy)')];
        const alive = [...this.peers.values()].find((p) => p.status !== 'dead');
        if (!alive) return [this.log('info', 'command', 'takeover requested: no other node is up'), ...this.job('acquire', this.groupsOf(RSC_ALL), 'takeover', () => [], now)];
        return [this.log('info', 'command', `takeover requested: asking ${alive.name} to go standby`), this.sendMsg(now, [['t', 'hb_takeover'], ['rsc_hold', 'all']])];
      }
      case 'shutdown':
        return [this.log('info', 'command', 'shutdown requested'), ...this.giveupResources(now, false)];
    }
  }

  /** Graceful shutdown: tell the peer we give up, release everything (reverse order), send shutdone, exit. */
  private giveupResources(now: number, force: boolean): Action[] {
    if (this.shuttingDown) return [];
    if (this.jobs.size > 0 && !force) {
      this.needsShutdown = true;
      if (!this.shutdownDeadline) this.shutdownDeadline = now + Math.max(this.cfg.deadtimeMs, 5000);
      return [this.log('warn', 'shutdown-delayed', 'shutdown delayed until current resource activity finishes')];
    }
    this.shuttingDown = true;
    this.needsShutdown = false;
    this.shutdownDeadline = 0;
    this.localTakeoverAt = 0;
    this.rstate = 'shutdown';
    this.held = RSC_NONE;
    const out: Action[] = [this.log('info', 'shutdown', `${this.cfg.node} shutting down: giving up all resources`)];
    if (this.nice) out.push(this.sendResourcesHeld(now, false, 'shutdown'));
    const all = this.cfg.groups.map((_, i) => i);
    out.push(...this.job('release', all, 'shutdown', (t) => {
      this.status = 'dead';
      this.exited = true;
      return [
        this.log('info', 'shutdone', 'all resources released: sending shutdone'),
        this.sendMsg(t, [['t', 'shutdone'], ['st', 'dead']]),
        { type: 'exit', code: 0 },
      ];
    }, now));
    return out;
  }

  // ---------------------------------------------------------------- message building

  private tsHex(now: number): string {
    return Math.floor(now / 1000).toString(16);
  }

  /** A sequenced message: the given fields, then src, srcuuid, seq, hg, ts, ld, ttl (Heartbeat's order). */
  private buildSeq(now: number, pairs: Array<[string, string | Buffer]>): HbMessage {
    this.seq++;
    const msg = buildMessage([
      ...pairs,
      ['src', this.cfg.node],
      ['srcuuid', this.cfg.uuid],
      ['seq', this.seq.toString(16)],
      ['hg', this.cfg.generation.toString(16)],
      ['ts', this.tsHex(now)],
      ['ld', this.cfg.load ? this.cfg.load() : '0.00 0.00 0.00 1/100 1'],
      ['ttl', '3'],
    ]);
    this.history.push({ seq: this.seq, msg });
    if (this.history.length > HISTORY) this.history.shift();
    return msg;
  }

  private sendMsg(now: number, pairs: Array<[string, string | Buffer]>): Action {
    return { type: 'send', msg: this.buildSeq(now, pairs) };
  }

  /** Control messages (NS_*) carry no seq. */
  private sendCtl(now: number, pairs: Array<[string, string | Buffer]>): Action {
    return {
      type: 'send',
      msg: buildMessage([...pairs, ['src', this.cfg.node], ['srcuuid', this.cfg.uuid], ['hg', this.cfg.generation.toString(16)], ['ts', this.tsHex(now)], ['ttl', '3']]),
    };
  }

  private sendStatus(now: number): Action {
    this.lastStatusMs = now;
    return this.sendMsg(now, [['t', 'status'], ['st', this.status], ['dt', this.cfg.deadtimeMs.toString(16)], ['protocol', '1']]);
  }

  private log(level: LogLevel, event: string, text: string, data?: Record<string, unknown>): Extract<Action, { type: 'log' }> {
    return data ? { type: 'log', level, event, text, data } : { type: 'log', level, event, text };
  }

  /** At most one log line per event kind every few seconds (the counters keep the totals). */
  private rateLog(level: LogLevel, event: string, text: string, now: number, data?: Record<string, unknown>): Action[] {
    const last = this.lastLog.get(event);
    if (last !== undefined && now - last < LOG_EVERY_MS) return [];
    this.lastLog.set(event, now);
    return [this.log(level, event, text, data)];
  }
}
