/**
 * The I/O-free membership and resource state machine of a Heartbeat (3.0.x, haresources mode) node.
 *
 * Fed events (a decoded message, a timer tick, an operator command, the result of a resource action)
 * with the current time in ms; returns actions (send a message, acquire/release a resource group, log,
 * exit). The daemon wires it to sockets, timers and `ip`; the unit tests drive it with a simulated clock.
 *
 * It composes parts: the transport (outbox.ts: our sequenced messages and their retransmission; per peer a
 * sequence-guard.ts judging replays, gaps and generations), membership.ts (ticks, deaths, comm-up), a
 * resource-book.ts of held groups and jobs, and one resource policy chosen at construction from auto_failback:
 * nice-failback.ts (on/off: Heartbeat's nice_failback model with its three-phase standby protocol) or
 * legacy-failback.ts (nice_failback off: ip-request at start, failback when the home node returns).
 * Messages reach the parts through a table of handlers by message type.
 */
import { getField, getBinary, type HbMessage } from '../../codecs/heartbeat/message.js';
import { packPeerBook, parsePeerBook, type PairedClient, type PeerBookPart } from '../strategy/client-book.js';
import { LegacyFailback } from './legacy-failback.js';
import { Membership, type Peer } from './membership.js';
import { NiceFailback } from './nice-failback.js';
import { Outbox } from './outbox.js';
import { Ipfail, ipfailGiveupDelayMs } from './ipfail.js';
import { PingNodes } from './ping-nodes.js';
import { Reporter } from './report.js';
import { ResourceBook, type ResourceDone } from './resource-book.js';
import type { MessageHandler, ResourcePolicy } from './resource-policy.js';
import { MAX_REXMIT_GAP } from './sequence-guard.js';
import { CLIENTS_EVERY_MS, CLIENTS_TYPE, RSC_FOREIGN, RSC_LOCAL, rscName, type Action, type Fields, type MachineConfig, type MachineEvent, type MachineStatus, type NodeStatus } from './types.js';

export * from './types.js';

const HEX_FIELD = /^[0-9a-fA-F]{1,16}$/;

export class NodeMachine {
  readonly cfg: Required<Omit<MachineConfig, 'load' | 'ping'>> & Pick<MachineConfig, 'load' | 'ping'>;
  private readonly report = new Reporter();
  private readonly outbox: Outbox;
  private readonly members: Membership;
  private readonly book: ResourceBook;
  private readonly policy: ResourcePolicy;
  private readonly handlers: Readonly<Record<string, MessageHandler>>;
  private readonly pingNodes: PingNodes | undefined;
  private readonly ipfail: Ipfail | undefined;
  /** peers ipfail has told its count since they were last dead (ipfail's "join") */
  private readonly ipfailJoined = new Set<string>();
  private status: NodeStatus = 'init';
  private lastStatusMs = -Infinity;
  private needsShutdown = false;
  private shuttingDown = false;
  private shutdownDeadline = 0;
  private exited = false;
  /** the learned clients (and the VIPs each uses) as sent: one hadiag-clients message per part, each one datagram */
  private clientKey = '';
  private clientParts: PeerBookPart[] = [];
  private clientsSentMs = -Infinity;

  constructor(config: MachineConfig, opts: { now: number }) {
    this.cfg = { rqstDelayMs: 10_000, standbyTimeoutMs: 10_000, ipRequestTimeoutMs: 10_000, ...config } as NodeMachine['cfg'];
    if (!config.nodes.includes(config.node)) throw new Error(`node ${config.node} is not in the node list`);
    this.outbox = new Outbox(this.cfg);
    this.members = new Membership(config.node, config.nodes, this.cfg, this.report, opts.now);
    this.book = new ResourceBook(config.node, this.cfg.groups);
    const ctx = { cfg: this.cfg, report: this.report, outbox: this.outbox, book: this.book, members: this.members, shuttingDown: () => this.shuttingDown };
    this.policy = this.cfg.autoFailback === 'legacy' ? new LegacyFailback(ctx) : new NiceFailback(ctx, this.cfg.autoFailback);
    const ping = this.cfg.ping;
    this.pingNodes = ping?.nodes.length ? new PingNodes(ping.nodes, ping.deadpingMs, this.report, opts.now) : undefined;
    const pn = this.pingNodes;
    if (ping?.ipfail && pn) {
      this.ipfail = new Ipfail({ ...ctx, policy: this.policy, pingCount: () => pn.count(), settled: () => pn.settled(), giveupDelayMs: ipfailGiveupDelayMs(this.cfg.keepaliveMs, ping.deadpingMs) });
    }
    this.handlers = {
      ...this.ipfail?.handlers,
      reqnodes: (msg, peer, now) => this.onReqNodes(msg, peer, now),
      shutdone: (_msg, peer, now) => this.policy.peerShutdown(peer, now),
      [CLIENTS_TYPE]: (msg, peer, now) => this.onPeerClients(msg, peer, now),
      ...this.policy.handlers,
    };
  }

  // ---------------------------------------------------------------- public API

  /** Start: the first status messages (init, up). Call once. */
  start(now: number): Action[] {
    const out: Action[] = [];
    out.push(this.report.log('info', 'start', `${this.cfg.node} starting: generation ${this.cfg.generation}, ${this.members.peers.size} peer(s), auto_failback ${this.cfg.autoFailback}`));
    out.push(this.sendStatus(now)); // st=init
    this.status = 'up';
    out.push(this.sendStatus(now));
    if (this.members.peers.size === 0 && this.members.commUpDue()) out.push(...this.commUp(now));
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
        return ev.cmd === 'shutdown' ? [this.report.log('info', 'command', 'shutdown requested'), ...this.giveupResources(now, false)] : this.policy.command(ev.cmd, now);
      case 'resource-done':
        return this.onResourceDone(ev, now);
      case 'ping-reply': {
        const out: Action[] = [];
        const changed = this.pingNodes?.reply(ev.host, now, out) ?? false;
        return [...out, ...this.onPingChange(changed, now)];
      }
      case 'clients': {
        const book: PairedClient[] = ev.clients;
        const parts = packPeerBook(book);
        const key = parts.map((p) => `${p.clients}|${p.vips ?? ''}|${p.pairs ?? ''}`).join('\n');
        if (key === this.clientKey) return [];
        this.clientKey = key;
        this.clientParts = parts;
        const pairs = book.reduce((n, c) => n + (c.vips?.length ?? 0), 0);
        return [this.report.log('info', 'clients-learned', `${ev.clients.length} client(s) learned${pairs ? ` (${pairs} client-VIP pairs)` : ''}: telling peers (${CLIENTS_TYPE}, ${parts.length} message(s))`, { count: ev.clients.length, pairs, messages: parts.length }), ...this.sendClients(now)];
      }
    }
  }

  /** When the machine next needs a tick (ms, absolute). */
  nextWakeMs(): number {
    let t = this.members.nextWakeMs(this.lastStatusMs + this.cfg.keepaliveMs);
    t = this.policy.nextWakeMs(t);
    if (this.shutdownDeadline) t = Math.min(t, this.shutdownDeadline);
    if (this.clientParts.length) t = Math.min(t, this.clientsSentMs + CLIENTS_EVERY_MS);
    if (this.pingNodes) t = this.pingNodes.nextWakeMs(t);
    if (this.ipfail) t = this.ipfail.nextWakeMs(t);
    return t;
  }

  getStatus(): MachineStatus {
    const view = this.policy.view();
    const alive = this.members.firstAlive();
    return {
      node: this.cfg.node,
      status: this.status,
      generation: this.cfg.generation,
      seq: this.outbox.seq,
      resourceState: view.resourceState,
      holds: rscName(view.held),
      standby: view.standby,
      peers: this.members.all().map((p) => ({
        name: p.name, status: p.status, reported: p.reported, lastHeardMs: p.heard ? p.lastHeardMs : undefined,
        generation: p.guard.hg, maxSeq: p.guard.maxSeq || undefined, ip: p.ip, holds: rscName(view.otherHolds), stable: view.otherStable,
      })),
      groups: this.cfg.groups.map((g, index) => {
        const cls = g.node === this.cfg.node ? RSC_FOREIGN : RSC_LOCAL; // class from the peer's point of view
        const holder = this.book.holds(index) ? this.cfg.node : alive && view.otherHolds & cls ? alive.name : null;
        return { index, label: g.label, home: g.node, holder, pending: this.book.isPending(index) };
      }),
      counters: { ...this.report.counters },
      ...(this.pingNodes ? { pingNodes: this.pingNodes.view() } : {}),
      ...(this.ipfail && this.pingNodes ? { ipfail: { ...this.ipfail.view(), count: this.pingNodes.count() } } : {}),
    };
  }

  /** Groups this node holds right now (acquired and not released). */
  heldGroups(): number[] {
    return this.book.held();
  }

  // ---------------------------------------------------------------- messages

  private onMessage(msg: HbMessage, now: number, from?: { ip: string; port: number }): Action[] {
    const { counters } = this.report;
    counters.received++;
    const type = getField(msg, 't');
    const src = getField(msg, 'src');
    if (!type || !src) {
      counters.malformedFields++;
      return this.report.rateLog('warn', 'malformed', `message without t or src dropped`, now);
    }
    if (src === this.cfg.node) return []; // our own broadcast coming back
    const peer = this.members.peers.get(src);
    if (!peer) {
      counters.unknownNode++;
      return this.report.rateLog('warn', 'unknown-node', `message from unknown node "${src}" dropped (not a node in ha.cf)`, now, { src, ip: from?.ip });
    }
    // control messages carry no seq
    if (type === 'NS_ackmsg' || type === 'NS_nak_rexmit') return [];
    if (type === 'NS_rexmit') return this.onRexmitRequest(msg, peer, now);
    const out: Action[] = [];
    if (!this.admit(msg, type, peer, now, out)) return out;
    counters.accepted++;
    if (from) peer.ip = from.ip;
    const uuid = getBinary(msg, 'srcuuid');
    if (uuid) peer.uuid = uuid;
    const returned = this.members.heard(peer, type, getField(msg, 'st'), now, out);
    if (returned) out.push(...this.policy.onPeerReturn(returned.peer, returned.healed, now));
    out.push(...this.maybeAck(peer, now));
    if (this.ipfail && !this.ipfailJoined.has(peer.name) && peer.status !== 'dead') {
      this.ipfailJoined.add(peer.name);
      out.push(...this.ipfail.askPeer(now, `${peer.name} is up`));
    }
    if (this.members.commUpDue()) out.push(...this.commUp(now));
    out.push(...(this.handlers[type]?.(msg, peer, now) ?? []));
    return out;
  }

  /** A sequenced message passes the peer's sequence guard (a gap before it is asked for again). */
  private admit(msg: HbMessage, type: string, peer: Peer, now: number, out: Action[]): boolean {
    const seqText = getField(msg, 'seq');
    const hgText = getField(msg, 'hg');
    if (!HEX_FIELD.test(seqText ?? '') || !HEX_FIELD.test(hgText ?? '')) {
      this.report.counters.malformedFields++;
      out.push(...this.report.rateLog('warn', 'malformed', `message from ${peer.name} without a valid seq/hg dropped`, now, { src: peer.name, type }));
      return false;
    }
    const ts = parseInt(getField(msg, 'ts') ?? '0', 16) || 0;
    const verdict = peer.guard.admit(parseInt(hgText!, 16), parseInt(seqText!, 16), ts, now, this.members.liveness(peer), out);
    if (!verdict.ok) return false;
    if (verdict.rexmit) {
      const { first, last } = verdict.rexmit;
      out.push(this.outbox.control(now, [['t', 'NS_rexmit'], ['firstseq', String(first)], ['lastseq', String(last)], ['dest', peer.name]]));
      out.push(this.report.log('debug', 'rexmit-request', `node ${peer.name}: asking for seq ${first}..${last} again`));
    }
    return true;
  }

  /** The peer missed some of our messages: resend what we still have, NS_nak_rexmit the rest. */
  private onRexmitRequest(msg: HbMessage, peer: Peer, now: number): Action[] {
    const dest = getField(msg, 'dest');
    if (dest && dest !== this.cfg.node) return [];
    const first = parseInt(getField(msg, 'firstseq') ?? '', 10);
    const last = parseInt(getField(msg, 'lastseq') ?? '', 10);
    if (!Number.isFinite(first) || !Number.isFinite(last) || last < first || last - first > MAX_REXMIT_GAP) {
      this.report.counters.malformedFields++;
      return this.report.rateLog('warn', 'malformed', `bad NS_rexmit from ${peer.name}`, now);
    }
    const out: Action[] = [];
    for (let s = first; s <= last; s++) {
      const sent = this.outbox.sent(s);
      if (sent) {
        this.report.counters.retransmitsSent++;
        out.push({ type: 'send', msg: sent });
      } else {
        this.report.counters.naksSent++;
        out.push(this.outbox.control(now, [['t', 'NS_nak_rexmit'], ['firstseq', String(s)], ['dest', peer.name]]));
      }
    }
    return out;
  }

  private maybeAck(peer: Peer, now: number): Action[] {
    const ackseq = peer.guard.ackDue();
    if (ackseq === undefined) return [];
    const pairs: Fields = [['t', 'NS_ackmsg'], ['dest', peer.name], ['ackseq', ackseq.toString(16)]];
    if (peer.uuid) pairs.push(['destuuid', peer.uuid]);
    return [this.outbox.control(now, pairs)];
  }

  private onReqNodes(msg: HbMessage, peer: Peer, now: number): Action[] {
    if (getField(msg, 'dest') && getField(msg, 'dest') !== this.cfg.node) return [];
    const pairs: Fields = [['dest', peer.name], ['t', 'repnodes'], ['nodelist', this.cfg.nodes.join(' ') + ' '], ['delnodelist', ' ']];
    if (peer.uuid) pairs.push(['destuuid', peer.uuid]);
    return [this.outbox.send(now, pairs)];
  }

  /** A peer's learned clients: malformed entries are skipped and counted, the rest go to the announcer. */
  private onPeerClients(msg: HbMessage, peer: Peer, now: number): Action[] {
    this.report.counters.peerClientLists++;
    const { clients, bad } = parsePeerBook(getField(msg, 'clients') ?? '', getField(msg, 'vips'), getField(msg, 'pairs'));
    const out: Action[] = [];
    if (bad) {
      this.report.counters.badClientEntries += bad;
      out.push(...this.report.rateLog('warn', 'bad-clients', `${bad} malformed client entr${bad === 1 ? 'y' : 'ies'} from ${peer.name} skipped`, now, { peer: peer.name }));
    }
    if (clients.length) out.push({ type: 'peer-clients', node: peer.name, clients });
    return out;
  }

  /** Tell live peers the clients we have learned (hadiag-clients), when there are any. */
  private sendClients(now: number): Action[] {
    if (!this.clientParts.length) return [];
    this.clientsSentMs = now;
    if (this.shuttingDown || !this.members.firstAlive()) return [];
    return this.clientParts.map((part) => {
      const fields: Fields = [['t', CLIENTS_TYPE], ['clients', part.clients]];
      if (part.vips) fields.push(['vips', part.vips], ['pairs', part.pairs!]);
      return this.outbox.send(now, fields);
    });
  }

  // ---------------------------------------------------------------- ticks

  private onTick(now: number): Action[] {
    const out: Action[] = [];
    this.members.expire(now, out, (p) => {
      this.members.markDead(p);
      return this.policy.onPeerDead(p, now);
    });
    if (this.members.commUpDue()) out.push(...this.commUp(now));
    for (const p of this.members.all()) if (p.status === 'dead') this.ipfailJoined.delete(p.name);
    if (this.pingNodes) {
      const changed = this.pingNodes.expire(now, out);
      out.push(...this.onPingChange(changed, now));
    }
    this.policy.tick(now, out);
    this.ipfail?.tick(now, out);
    if (this.shutdownDeadline && now >= this.shutdownDeadline && !this.shuttingDown) {
      out.push(this.report.log('warn', 'shutdown-forced', 'resource activity did not settle: shutting down anyway'));
      out.push(...this.giveupResources(now, true));
    }
    if (now >= this.lastStatusMs + this.cfg.keepaliveMs && !this.exited) out.push(this.sendStatus(now));
    if (this.clientParts.length && now >= this.clientsSentMs + CLIENTS_EVERY_MS && !this.exited) out.push(...this.sendClients(now));
    return out;
  }

  /** A ping node came up or died: ipfail tells the peer our new count; what waited for the first verdicts runs. */
  private onPingChange(changed: boolean, now: number): Action[] {
    const out: Action[] = [];
    if (!this.ipfail) return out;
    if (changed) out.push(...this.ipfail.askPeer(now, 'a ping node changed status'));
    out.push(...this.ipfail.settle(now));
    return out;
  }

  private commUp(now: number): Action[] {
    this.status = 'active';
    const out: Action[] = [this.sendStatus(now), this.report.log('info', 'comm-up', `communications up: ${this.cfg.node} active`)];
    this.policy.commUp(now, out);
    return out;
  }

  private onResourceDone(ev: ResourceDone, now: number): Action[] {
    const out = this.book.done(ev, now);
    if (this.needsShutdown && !this.book.busy() && !this.shuttingDown) out.push(...this.giveupResources(now, false));
    return out;
  }

  /** Graceful shutdown: tell the peer we give up, release everything (reverse order), send shutdone, exit. */
  private giveupResources(now: number, force: boolean): Action[] {
    if (this.shuttingDown) return [];
    if (this.book.busy() && !force) {
      this.needsShutdown = true;
      if (!this.shutdownDeadline) this.shutdownDeadline = now + Math.max(this.cfg.deadtimeMs, 5000);
      return [this.report.log('warn', 'shutdown-delayed', 'shutdown delayed until current resource activity finishes')];
    }
    this.shuttingDown = true;
    this.needsShutdown = false;
    this.shutdownDeadline = 0;
    const out: Action[] = [this.report.log('info', 'shutdown', `${this.cfg.node} shutting down: giving up all resources`), ...this.policy.stopping(now)];
    const all = this.cfg.groups.map((_, i) => i);
    out.push(...this.book.job('release', all, 'shutdown', (t) => {
      this.status = 'dead';
      this.exited = true;
      return [
        this.report.log('info', 'shutdone', 'all resources released: sending shutdone'),
        this.outbox.send(t, [['t', 'shutdone'], ['st', 'dead']]),
        { type: 'exit', code: 0 },
      ];
    }, now));
    return out;
  }

  private sendStatus(now: number): Action {
    this.lastStatusMs = now;
    return this.outbox.send(now, [['t', 'status'], ['st', this.status], ['dt', this.cfg.deadtimeMs.toString(16)], ['protocol', '1']]);
  }
}
