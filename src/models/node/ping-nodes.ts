/**
 * Ping nodes as Heartbeat 3.0.6 has them: each `ping` address, and each `ping_group` as a whole, is a
 * pseudo-member whose only heartbeat is an ICMP echo reply. Status `init` until the first reply, `ping` while
 * replies come, `dead` after deadping without one (a group: without a reply from any of its hosts). Heartbeat's
 * log wording: "Link H:H up." / "Status update for node H: status ping" / "node H: is dead" / "Link H:H dead.".
 * The echoes themselves are sent by the daemon (effects/node/pinger.ts), which feeds each reply as an event.
 */
import type { Reporter } from './report.js';
import type { Action } from './types.js';

export type PingStatus = 'init' | 'ping' | 'dead';

/**
 * How often hadiag echoes each ping node: every keepalive as Heartbeat does, but at least ten times per
 * deadping. Two nodes watching the same ping node then see it die at most one interval apart, which is the
 * wait ipfail's giveup needs (see ipfail.ts): 100 ms at deadping 1 s instead of Heartbeat's keepalive.
 */
export function echoIntervalMs(keepaliveMs: number, deadpingMs: number): number {
  return Math.max(10, Math.min(keepaliveMs, Math.floor(deadpingMs / 10)));
}

export interface PingNodeConfig {
  /** the address (ping) or the group name (ping_group) */
  name: string;
  hosts: string[];
}

export interface PingNodeView {
  name: string;
  hosts: string[];
  status: PingStatus;
  lastReplyMs?: number;
  /** which host answered last (a group) */
  lastHost?: string;
}

interface PingNode extends PingNodeView {
  /** since when the node has been without a reply: the last reply, or the start */
  sinceMs: number;
}

export class PingNodes {
  private readonly nodes: PingNode[];
  private readonly byHost = new Map<string, PingNode[]>();

  constructor(config: PingNodeConfig[], private readonly deadpingMs: number, private readonly report: Reporter, now: number) {
    this.nodes = config.map((c) => ({ name: c.name, hosts: [...c.hosts], status: 'init', sinceMs: now }));
    for (const n of this.nodes) for (const h of n.hosts) this.byHost.set(h, [...(this.byHost.get(h) ?? []), n]);
  }

  get size(): number {
    return this.nodes.length;
  }

  /** How many ping nodes are up (status ping): what ipfail compares with its peer. */
  count(): number {
    return this.nodes.filter((n) => n.status === 'ping').length;
  }

  /** Every ping node has had its first verdict (up or dead). */
  settled(): boolean {
    return this.nodes.every((n) => n.status !== 'init');
  }

  /** An echo reply from `host`. True when a ping node came up (the count changed). */
  reply(host: string, now: number, out: Action[]): boolean {
    let changed = false;
    for (const n of this.byHost.get(host) ?? []) {
      n.lastReplyMs = now;
      n.lastHost = host;
      n.sinceMs = now;
      if (n.status === 'ping') continue;
      n.status = 'ping';
      changed = true;
      out.push(this.report.log('info', 'ping-node-up', `Link ${n.name}:${n.name} up.`, { pingNode: n.name, host }));
      out.push(this.report.log('info', 'ping-node-status', `Status update for node ${n.name}: status ping`, { pingNode: n.name, status: 'ping' }));
    }
    return changed;
  }

  /** Ping nodes without a reply for deadping are dead. True when one died (the count changed). */
  expire(now: number, out: Action[]): boolean {
    let changed = false;
    for (const n of this.nodes) {
      if (n.status === 'dead' || now - n.sinceMs < this.deadpingMs) continue;
      const wasUp = n.status === 'ping';
      n.status = 'dead';
      changed ||= wasUp;
      out.push(this.report.log('warn', 'ping-node-dead', `node ${n.name}: is dead`, { pingNode: n.name, deadpingMs: this.deadpingMs }));
      out.push(this.report.log('info', 'ping-node-link', `Link ${n.name}:${n.name} dead.`, { pingNode: n.name }));
    }
    return changed;
  }

  nextWakeMs(t: number): number {
    for (const n of this.nodes) if (n.status !== 'dead') t = Math.min(t, n.sinceMs + this.deadpingMs);
    return t;
  }

  view(): PingNodeView[] {
    return this.nodes.map(({ sinceMs: _s, ...v }) => ({ ...v, hosts: [...v.hosts] }));
  }
}
