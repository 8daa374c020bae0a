/**
 * Who is alive: each peer's state (heard, last heard, late, dead, dead by shutdone), its sequence guard,
 * the initdead/warntime/deadtime timers and when communications are up (every peer heard or dead).
 */
import type { Reporter } from './report.js';
import { SequenceGuard, type PeerLiveness } from './sequence-guard.js';
import type { Action, NodeStatus } from './types.js';

export interface Peer {
  name: string;
  status: NodeStatus;
  heard: boolean;
  /** what the peer says about itself (st of its last status) */
  reported?: string;
  /** last accepted sequenced message (or the start time) */
  lastHeardMs: number;
  warned: boolean;
  deadByShutdown: boolean;
  guard: SequenceGuard;
  uuid?: Buffer;
  ip?: string;
}

export interface MembershipTimers {
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
}

/** A dead peer heard again: restarted, or (same generation, not shut down) a partition healed. */
export interface PeerReturn {
  peer: Peer;
  healed: boolean;
}

export class Membership {
  readonly peers = new Map<string, Peer>();
  private commUp = false;
  /** the generation each peer had when it was declared dead (restart detection) */
  private readonly hgAtDeath = new Map<string, number | undefined>();

  constructor(
    self: string,
    nodes: readonly string[],
    private readonly timers: MembershipTimers,
    private readonly report: Reporter,
    private readonly startMs: number,
  ) {
    for (const name of nodes) {
      if (name === self) continue;
      this.peers.set(name, {
        name, status: 'init', heard: false, lastHeardMs: startMs, warned: false, deadByShutdown: false,
        guard: new SequenceGuard(name, timers.keepaliveMs, report),
      });
    }
  }

  all(): Peer[] {
    return [...this.peers.values()];
  }

  /** The first peer not known dead. */
  firstAlive(): Peer | undefined {
    return this.all().find((p) => p.status !== 'dead');
  }

  allDead(): boolean {
    return this.all().every((p) => p.status === 'dead');
  }

  liveness(p: Peer): PeerLiveness {
    return { heard: p.heard, dead: p.status === 'dead', deadByShutdown: p.deadByShutdown, lastHeardMs: p.lastHeardMs };
  }

  /** Communications come up once every peer has been heard or declared dead (true once, then false). */
  commUpDue(): boolean {
    if (this.commUp || !this.all().every((p) => p.heard || p.status === 'dead')) return false;
    this.commUp = true;
    return true;
  }

  /** An accepted sequenced message of type `type` from `p`: liveness, and the peer's return when it was dead. */
  heard(p: Peer, type: string, st: string | undefined, now: number, out: Action[]): PeerReturn | undefined {
    const wasDead = p.status === 'dead';
    const neverHeard = !p.heard;
    p.heard = true;
    p.lastHeardMs = now;
    p.warned = false;
    if (type === 'status') p.reported = st;
    if (type !== 'shutdone' && (wasDead || neverHeard || p.status === 'init')) {
      const newStatus: NodeStatus = p.reported === 'active' ? 'active' : 'up';
      const healed = wasDead && !p.deadByShutdown && this.hgAtDeath.get(p.name) === p.guard.hg;
      p.status = newStatus;
      p.deadByShutdown = false;
      out.push(this.report.log('info', 'peer-up', `node ${p.name}: status ${newStatus}${healed ? ' (partition healed)' : ''}`, { peer: p.name, healed }));
      if (wasDead) return { peer: p, healed };
    } else if (type === 'status' && p.reported === 'active' && p.status === 'up') {
      p.status = 'active';
      out.push(this.report.log('info', 'peer-active', `node ${p.name}: status active`, { peer: p.name }));
    }
    return undefined;
  }

  /** Peers that died by now (initdead or deadtime) are logged and handed to `declare`; late ones warned about once. */
  expire(now: number, out: Action[], declare: (p: Peer) => Action[]): void {
    for (const p of this.peers.values()) {
      if (p.status === 'dead') continue;
      if (!p.heard) {
        if (now >= this.startMs + this.timers.initdeadMs) {
          out.push(this.report.log('warn', 'initdead', `node ${p.name}: not heard within initdead (${this.timers.initdeadMs} ms): dead`, { peer: p.name }));
          out.push(...declare(p));
        }
        continue;
      }
      const silent = now - p.lastHeardMs;
      if (silent >= this.timers.deadtimeMs) {
        out.push(this.report.log('warn', 'peer-dead', `node ${p.name}: dead (no heartbeat for ${Math.round(silent)} ms, deadtime ${this.timers.deadtimeMs} ms)`, { peer: p.name, silentMs: silent }));
        out.push(...declare(p));
      } else if (!p.warned && silent >= this.timers.warntimeMs) {
        p.warned = true;
        out.push(this.report.log('warn', 'late-heartbeat', `node ${p.name}: late heartbeat (${Math.round(silent)} ms since the last one, warntime ${this.timers.warntimeMs} ms)`, { peer: p.name, silentMs: silent }));
      }
    }
  }

  /** Declare a peer dead (deadtime, initdead): it must hand over everything. */
  markDead(p: Peer): void {
    this.hgAtDeath.set(p.name, p.guard.hg);
    p.status = 'dead';
    p.warned = false;
    this.report.counters.peerDeaths++;
  }

  /** A peer said shutdone: dead, and the tail of that incarnation is not accepted. */
  markShutdown(p: Peer): void {
    this.hgAtDeath.set(p.name, p.guard.hg);
    p.status = 'dead';
    p.deadByShutdown = true;
  }

  /** When a peer's next timer (initdead, warntime, deadtime) runs out, or `t` if sooner. */
  nextWakeMs(t: number): number {
    for (const p of this.peers.values()) {
      if (p.status === 'dead') continue;
      if (!p.heard) t = Math.min(t, this.startMs + this.timers.initdeadMs);
      else {
        if (!p.warned) t = Math.min(t, p.lastHeardMs + this.timers.warntimeMs);
        t = Math.min(t, p.lastHeardMs + this.timers.deadtimeMs);
      }
    }
    return t;
  }
}
