/**
 * ipfail's policy, built in (Heartbeat 3.0.6's contrib/ipfail/ipfail.c, read for its messages and decisions):
 * - when our count of live ping nodes changes (a ping node up or dead), or the peer comes (ipfail's "join"),
 *   tell the peer: `t=num_ping_nodes num_ping=N dest=PEER` (ask_ping_nodes);
 * - a peer's num_ping_nodes is compared with our count: we see more → `t=you_are_dead` to it; we see fewer →
 *   give up all our resources after a delay (delay_giveup); equal → `t=abort_giveup` to it, cancel our
 *   own delayed giveup, or with auto_failback on and stable resources give up our foreign ones (they go home);
 * - `you_are_dead` → give up all after the delay; `abort_giveup` → cancel the delayed giveup;
 * - the delay leaves the peer time to see the same ping node die (the ping node itself down: both counts drop,
 *   the peer's abort comes). ipfail waits 2 × keepalive because Heartbeat echoes once per keepalive; hadiag
 *   echoes at least ten times per deadping (ping-nodes.ts echoIntervalMs), so the two verdicts are at most
 *   one echo interval apart and the wait is 1.5 echo intervals (the half for timer jitter and the message);
 * - giving up is hb_standby (ask_resources rsc_hold=all|foreign info=me), done only when resources are stable;
 *   otherwise once they are, the counts are asked again (ipfail sleeps 10 s there first; we do not).
 * The same messages as the real ipfail, so a peer running Heartbeat with ipfail understands them.
 */
import { getField, type HbMessage } from '../../codecs/heartbeat/message.js';
import type { Membership, Peer } from './membership.js';
import { echoIntervalMs } from './ping-nodes.js';
import type { Outbox } from './outbox.js';
import type { Reporter } from './report.js';
import type { MessageHandler, ResourcePolicy } from './resource-policy.js';
import { RSC_ALL, RSC_FOREIGN, rscName, type Action, type AutoFailback, type Fields } from './types.js';

export const IPFAIL_TYPES = { count: 'num_ping_nodes', dead: 'you_are_dead', abort: 'abort_giveup' } as const;

/**
 * The addressing fields the real ipfail's messages carry (heartbeat's API adds them to a sendnodemsg; captured
 * from Heartbeat 3.0.6, docs/facts/heartbeat-wire.md): to the peer's ipfail client.
 */
function toIpfail(peer: Peer): Fields {
  const f: Fields = [['dest', peer.name], ['from_id', 'ipfail'], ['to_id', 'ipfail'], ['client_gen', '0']];
  if (peer.uuid) f.push(['destuuid', peer.uuid]);
  return f;
}

export interface IpfailContext {
  cfg: { node: string; autoFailback: AutoFailback };
  report: Reporter;
  outbox: Outbox;
  members: Membership;
  policy: ResourcePolicy;
  /** live ping nodes now */
  pingCount: () => number;
  /** every ping node has had its first verdict (no `init` left): until then our count means nothing */
  settled: () => boolean;
  /** the wait between the decision to give up and the giveup (ipfailGiveupDelayMs) */
  giveupDelayMs: number;
}

/** 1.5 echo intervals: the peer's own verdict on the same ping node, plus timer jitter and the message. */
export function ipfailGiveupDelayMs(keepaliveMs: number, deadpingMs: number): number {
  return Math.round(1.5 * echoIntervalMs(keepaliveMs, deadpingMs));
}

export interface IpfailView {
  /** the last count the peer told us */
  peerCount?: number;
  /** when a delayed giveup fires (ms), and of what */
  giveupAt?: number;
  giveup?: string;
  waitingForStable: boolean;
}

export class Ipfail {
  private giveupAt = 0;
  private giveupType = RSC_ALL;
  private needStandby = false;
  private peerCount: number | undefined;
  /** asked before our ping nodes settled: what to do once they have */
  private pendingAsk: string | undefined;
  private pendingPeer: { msg: HbMessage; peer: Peer } | undefined;
  readonly handlers: Readonly<Record<string, MessageHandler>>;

  constructor(private readonly ctx: IpfailContext) {
    this.handlers = {
      [IPFAIL_TYPES.count]: (msg, peer, now) => (this.forUs(msg) ? this.onPeerCount(msg, peer, now) : []),
      [IPFAIL_TYPES.dead]: (msg, peer, now) => (this.forUs(msg) ? this.onYouAreDead(peer, now) : []),
      [IPFAIL_TYPES.abort]: (msg, peer) => (this.forUs(msg) ? this.abortGiveup(`${peer.name} says the counts are balanced`) : []),
    };
  }

  /** Our count changed, or the peer arrived: tell the peer our count (ipfail's ask_ping_nodes). */
  askPeer(now: number, why: string): Action[] {
    const peer = this.ctx.members.firstAlive();
    if (!peer) return [];
    if (!this.ctx.settled()) {
      this.pendingAsk = why;
      return [];
    }
    const n = this.ctx.pingCount();
    return [
      this.ctx.report.log('info', 'ipfail-ask', `Asking other side for ping node count (${why}: we see ${n}).`, { num_ping: n, peer: peer.name }),
      this.ctx.outbox.send(now, [['t', IPFAIL_TYPES.count], ['num_ping', String(n)], ...toIpfail(peer)]),
    ];
  }

  /** Our ping nodes changed: what was held back until they settled is done now. */
  settle(now: number): Action[] {
    if (!this.ctx.settled()) return [];
    const out: Action[] = [];
    const { pendingAsk, pendingPeer } = this;
    this.pendingAsk = undefined;
    this.pendingPeer = undefined;
    if (pendingPeer) out.push(...this.onPeerCount(pendingPeer.msg, pendingPeer.peer, now));
    else if (pendingAsk) out.push(...this.askPeer(now, pendingAsk));
    return out;
  }

  tick(now: number, out: Action[]): void {
    if (this.giveupAt && now >= this.giveupAt) {
      this.giveupAt = 0;
      out.push(...this.giveup(now));
    } else if (this.needStandby && this.ctx.policy.isStable()) {
      this.needStandby = false;
      out.push(...this.askPeer(now, 'resources are stable again'));
    }
  }

  nextWakeMs(t: number): number {
    if (this.giveupAt) t = Math.min(t, this.giveupAt);
    return t;
  }

  view(): IpfailView {
    const v: IpfailView = { waitingForStable: this.needStandby };
    if (this.peerCount !== undefined) v.peerCount = this.peerCount;
    if (this.giveupAt) {
      v.giveupAt = this.giveupAt;
      v.giveup = rscName(this.giveupType);
    }
    return v;
  }

  private forUs(msg: HbMessage): boolean {
    const dest = getField(msg, 'dest');
    return !dest || dest === this.ctx.cfg.node;
  }

  private onPeerCount(msg: HbMessage, peer: Peer, now: number): Action[] {
    const theirs = Number.parseInt(getField(msg, 'num_ping') ?? '', 10);
    const log = this.ctx.report.log.bind(this.ctx.report);
    if (!Number.isFinite(theirs) || theirs < 0) return [log('warn', 'ipfail-bad', `num_ping_nodes from ${peer.name} without a valid num_ping: ignored`)];
    this.peerCount = theirs;
    if (!this.ctx.settled()) {
      this.pendingPeer = { msg, peer };
      return [log('debug', 'ipfail-wait', `num_ping_nodes ${theirs} from ${peer.name}: answered once our ping nodes have their first verdict`)];
    }
    const ours = this.ctx.pingCount();
    const data = { ours, theirs, peer: peer.name };
    if (ours > theirs) {
      return [
        log('info', 'ipfail-more', `Telling other node that we have more visible ping nodes (${ours} > ${theirs}).`, data),
        this.ctx.outbox.send(now, [['t', IPFAIL_TYPES.dead], ...toIpfail(peer)]),
      ];
    }
    if (ours < theirs) return [log('info', 'ipfail-fewer', `Giving up because we have less visible ping nodes (${ours} < ${theirs}).`, data), ...this.delayGiveup(RSC_ALL, now)];
    const out: Action[] = [
      log('info', 'ipfail-balanced', `Ping node count is balanced (${ours}).`, data),
      this.ctx.outbox.send(now, [['t', IPFAIL_TYPES.abort], ...toIpfail(peer)]),
    ];
    if (this.giveupAt) out.push(...this.abortGiveup('the counts are balanced'));
    else if (this.ctx.cfg.autoFailback === 'on' && this.ctx.policy.isStable() && this.ctx.policy.view().held & RSC_FOREIGN) {
      out.push(log('info', 'ipfail-failback', 'Giving up foreign resources (auto_failback).'), ...this.delayGiveup(RSC_FOREIGN, now));
    }
    return out;
  }

  private onYouAreDead(peer: Peer, now: number): Action[] {
    return [
      this.ctx.report.log('info', 'ipfail-told', `Giving up because we were told that we have less ping nodes (by ${peer.name}).`, { peer: peer.name }),
      ...this.delayGiveup(RSC_ALL, now),
    ];
  }

  private delayGiveup(type: number, now: number): Action[] {
    const ms = this.ctx.giveupDelayMs;
    this.giveupAt = now + ms;
    this.giveupType = type;
    return [this.ctx.report.log('info', 'ipfail-delay', `Delayed giveup [${rscName(type)}] in ${ms} ms.`, { delayMs: ms, rsc: rscName(type) })];
  }

  private abortGiveup(why: string): Action[] {
    if (!this.giveupAt) return [this.ctx.report.log('debug', 'ipfail-abort', `No giveup timer to abort (${why}).`)];
    this.giveupAt = 0;
    return [this.ctx.report.log('info', 'ipfail-abort', `Aborted delayed giveup (${why}).`)];
  }

  private giveup(now: number): Action[] {
    const log = this.ctx.report.log.bind(this.ctx.report);
    if (!this.ctx.policy.isStable()) {
      this.needStandby = true;
      return [log('info', 'ipfail-wait', 'giveup() called: resources are in transition, asking again once they are stable')];
    }
    const actions = this.ctx.policy.giveUp(this.giveupType, now);
    if (!actions) return [log('warn', 'ipfail-unsupported', 'giveup() called: auto_failback legacy has no standby: nothing given up')];
    return [log('info', 'ipfail-giveup', `giveup() called: going standby [${rscName(this.giveupType)}]`), ...actions];
  }
}
