/**
 * The cluster's story in a Heartbeat capture (hb-inspect's events): starts, graceful stops, silences,
 * partitions, takeovers and failbacks, read from the generations and resource messages each node sends; the
 * standby hand-overs (hb_standby's ask_resources) and ipfail's ping-node exchange (num_ping_nodes, you_are_dead,
 * abort_giveup): what each node says it sees of its ping nodes is on the wire, the ping nodes' echoes are not.
 * Pure; fed one message at a time by the HeartbeatInspector, in capture order.
 */
import type { MessageSummary } from '../../codecs/heartbeat/summary.js';

export type EventKind = 'start' | 'stop' | 'release' | 'dead' | 'silent' | 'takeover' | 'acquire' | 'failback' | 'partition' | 'standby' | 'ping-nodes';

export interface ClusterEvent {
  tsMs: number;
  kind: EventKind;
  node: string;
  /** The other node concerned (whose resources were taken over, who was declared dead, …). */
  peer?: string;
  detail: string;
}

/** What one message's generation meant, for the statistics and warnings kept by the inspector. */
export interface GenerationSeen {
  /** The node restarted with this message (a newer generation). */
  restarted: boolean;
  /** Set when the message's generation is older than the newest seen from that node: the newest one. */
  olderThan?: number;
}

interface NodeLife {
  lastTsMs: number;
  maxHg?: number;
  stopped: boolean;
  declaredDeadBy?: string;
  /** generations whose start was reported */
  started: Set<number>;
}

export class ClusterTimeline {
  private readonly nodes = new Map<string, NodeLife>();
  private readonly events: ClusterEvent[] = [];
  /** node whose resources were taken over -> the node that took them */
  private readonly heldBy = new Map<string, string>();
  /** a standby hand-over under way: who asked to go standby, and for which resources */
  private standby: { node: string; rscHold: string } | undefined;

  /** `keepaliveMs` from ha.cf, if known: how long a node may be quiet before it counts as gone. */
  constructor(private readonly keepaliveMs: number | undefined) {}

  /** A node's first message. Nodes are considered in this order when looking for the one that went down. */
  join(node: string, tsMs: number): void {
    this.nodes.set(node, { lastTsMs: tsMs, stopped: false, started: new Set() });
  }

  /**
   * One (non-duplicate) message of a joined node: its generation `hg` (if any), then its resource meaning.
   * `deadtimeMs` is the deadtime that applies to the node; `firstMessage` says it is the node's first one.
   */
  message(node: string, tsMs: number, m: MessageSummary, deadtimeMs: number, firstMessage: boolean): GenerationSeen {
    const s = this.nodes.get(node)!;
    const seen = m.hg === undefined ? { restarted: false } : this.generation(s, node, tsMs, m, m.hg, deadtimeMs, firstMessage);
    s.lastTsMs = tsMs;
    this.resourceEvents(m, node, tsMs);
    return seen;
  }

  /** A new generation is a (re)start; an older one after a newer one means two at once. */
  private generation(s: NodeLife, node: string, tsMs: number, m: MessageSummary, hg: number, dt: number, firstMessage: boolean): GenerationSeen {
    const seen: GenerationSeen = { restarted: false };
    const quietMs = tsMs - s.lastTsMs;
    if (s.maxHg !== undefined && hg < s.maxHg) {
      seen.olderThan = s.maxHg;
    } else if (s.maxHg !== undefined && hg > s.maxHg) {
      const after = s.stopped ? ' after its graceful stop' : quietMs > dt ? ` after ${(quietMs / 1000).toFixed(1)} s of silence` : '';
      this.event(tsMs, 'start', node, `${node} started, generation ${hg.toString(16)}${after}`);
      s.stopped = false;
      s.declaredDeadBy = undefined;
      seen.restarted = true;
    } else if (m.type === 'status' && m.status === 'init' && !s.started.has(hg)) {
      // Not necessarily its first message: a starting 3.0.6 node may send an NS_ackmsg just before.
      this.event(tsMs, 'start', node, `${node} started, generation ${hg.toString(16)}`);
    } else if (hg === s.maxHg && !firstMessage && !s.stopped && quietMs > dt) {
      // Silent longer than deadtime, back with the same generation: it kept running, cut off.
      this.event(s.lastTsMs + dt, 'silent', node, `${node} silent for ${(quietMs / 1000).toFixed(1)} s (deadtime ${(dt / 1000).toFixed(0)} s)`);
      const by = s.declaredDeadBy ? ` after ${s.declaredDeadBy} declared it dead` : '';
      this.event(tsMs, 'partition', node, `${node} is back with the same generation${by}: the cluster was partitioned (both sides ran alone)`, s.declaredDeadBy);
      s.declaredDeadBy = undefined;
    }
    if (m.type === 'status' && m.status === 'init') s.started.add(hg);
    if (s.maxHg === undefined || hg > s.maxHg) {
      if (s.maxHg !== undefined) s.started.add(hg); // its start was reported above
      s.maxHg = hg;
    }
    return seen;
  }

  private resourceEvents(m: MessageSummary, node: string, tsMs: number): void {
    const s = this.nodes.get(node)!;
    switch (m.type) {
      case 'shutdone':
        s.stopped = true;
        this.event(tsMs, 'stop', node, `${node} stopped gracefully (shutdone): its peers take over at once`);
        break;
      case 'resource':
        if (m.info === 'shutdown') this.event(tsMs, 'release', node, `${node} gives up its resources (shutting down)`);
        if (m.info === 'mach_down') {
          const peer = this.downPeer(node, tsMs);
          if (peer) this.heldBy.set(peer, node);
          this.event(tsMs, 'takeover', node, `${node} took over the resources of ${peer ?? 'the node that went down'} (mach_down, rsc_hold=${m.rscHold ?? '?'})`, peer);
        }
        break;
      case 'stonith': {
        const target = m.node?.toLowerCase();
        if (target) {
          const t = this.nodes.get(target);
          if (t && !t.stopped) t.declaredDeadBy = node;
          this.event(tsMs, 'dead', node, `${node} declared ${target} dead (stonith ${m.result ?? '?'})`, target);
        }
        break;
      }
      case 'ip-request-resp':
        if (m.weown === 'yes') {
          const from = this.heldBy.get(node);
          if (from && from !== node) {
            this.heldBy.delete(node);
            this.event(tsMs, 'failback', node, `${node} took back ${m.ipaddr ?? 'its resources'} from ${from}`, from);
          } else {
            this.event(tsMs, 'acquire', node, `${node} acquired ${m.ipaddr ?? 'its resources'}`);
          }
        }
        break;
      case 'hb_takeover':
        this.event(tsMs, 'standby', node, `${node} asks to hand over resources (hb_standby/hb_takeover${m.info ? ` ${m.info}` : ''})`);
        break;
      case 'ask_resources':
        this.standbyEvents(m, node, tsMs);
        break;
      case 'num_ping_nodes':
        if (m.numPing !== undefined) this.event(tsMs, 'ping-nodes', node, `${node} sees ${m.numPing} ping node(s) (ipfail asks ${m.dest ?? 'its peer'} for its count)`, m.dest);
        break;
      case 'you_are_dead':
        this.event(tsMs, 'ping-nodes', node, `${node} sees more ping nodes than ${m.dest ?? 'its peer'} (ipfail you_are_dead): ${m.dest ?? 'the peer'} is to give up its resources`, m.dest);
        break;
      case 'abort_giveup':
        this.event(tsMs, 'ping-nodes', node, `${node}: the ping node counts are balanced (ipfail abort_giveup to ${m.dest ?? 'its peer'})`, m.dest);
        break;
    }
  }

  /** hb_standby's three steps: `info=me` from the node going standby, `info=other` from its peer, then `info=done` from both. */
  private standbyEvents(m: MessageSummary, node: string, tsMs: number): void {
    if (m.info === 'me') {
      this.standby = { node, rscHold: m.rscHold ?? '?' };
      const what = m.rscHold === 'all' ? 'all its resources' : `its ${m.rscHold ?? ''} resources`;
      this.event(tsMs, 'standby', node, `${node} goes standby: hands over ${what} (${m.fromId === 'ipfail' ? 'ipfail gives up' : 'hb_standby'})`);
    } else if (m.info === 'done' && this.standby && this.standby.node !== node) {
      const from = this.standby.node;
      if (this.heldBy.get(node) === from) {
        this.heldBy.delete(node);
        this.event(tsMs, 'failback', node, `${node} took back its resources from ${from} (standby of ${from}'s ${this.standby.rscHold} resources)`, from);
      } else {
        this.heldBy.set(from, node);
        this.event(tsMs, 'takeover', node, `${node} took over the resources of ${from} (standby, rsc_hold=${this.standby.rscHold})`, from);
      }
      this.standby = undefined;
    }
  }

  /** The node that most plausibly went down, seen from `node`: declared dead, stopped or silent; else the only other node. */
  private downPeer(node: string, tsMs: number): string | undefined {
    let best: { name: string; score: number } | undefined;
    for (const [name, s] of this.nodes) {
      if (name === node) continue;
      const quiet = tsMs - s.lastTsMs;
      const score = s.declaredDeadBy === node ? 3 : s.stopped ? 2 : quiet > 1.5 * (this.keepaliveMs ?? 1000) ? 1 : 0;
      if (!best || score > best.score) best = { name, score };
    }
    if (!best) return undefined;
    return best.score > 0 || this.nodes.size === 2 ? best.name : undefined;
  }

  private event(tsMs: number, kind: EventKind, node: string, detail: string, peer?: string): void {
    const e: ClusterEvent = { tsMs, kind, node, detail };
    if (peer !== undefined) e.peer = peer;
    this.events.push(e);
  }

  /**
   * Every event so far in time order, plus a 'silent' event for each running node quiet for longer than its
   * deadtime (`deadtimeOf`) when the capture ended at `lastTsMs`.
   */
  timeline(lastTsMs: number | undefined, deadtimeOf: (node: string) => number): ClusterEvent[] {
    const events = [...this.events];
    for (const [node, s] of this.nodes) {
      const dt = deadtimeOf(node);
      if (lastTsMs !== undefined && !s.stopped && lastTsMs - s.lastTsMs > dt) {
        events.push({ tsMs: s.lastTsMs + dt, kind: 'silent', node, detail: `${node} silent for ${((lastTsMs - s.lastTsMs) / 1000).toFixed(1)} s until the end of the capture (deadtime ${(dt / 1000).toFixed(0)} s)` });
      }
    }
    return events.sort((a, b) => a.tsMs - b.tsMs);
  }
}
