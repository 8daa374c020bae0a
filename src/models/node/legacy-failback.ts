/**
 * auto_failback legacy (Heartbeat's nice_failback off): at start a node asks the peer for its groups back
 * with one ip-request per group and takes each when the answer (ip-request-resp) comes; it frees a returning
 * home node's groups when a partition heals. No resource sets on the wire, no standby protocol.
 */
import { getField, type HbMessage } from '../../codecs/heartbeat/message.js';
import type { Peer } from './membership.js';
import { ResourcePolicy, type MessageHandler } from './resource-policy.js';
import { groupKey, rscBits, rscName, RSC_ALL, RSC_FOREIGN, RSC_LOCAL, type Action } from './types.js';

export class LegacyFailback extends ResourcePolicy {
  private waitUntil = 0;
  /** our groups asked back with ip-request, not answered yet (group -> key) */
  private readonly asked = new Map<number, string>();
  protected readonly tellsWhatItKeeps = false;

  readonly handlers: Readonly<Record<string, MessageHandler>> = {
    ask_resources: () => [this.ctx.report.log('info', 'standby-unsupported', 'standby needs auto_failback on or off')],
    hb_takeover: (msg, peer) => [
      this.ctx.report.log('info', 'takeover-request', `${peer.name} asks to take over [${rscName(rscBits(getField(msg, 'rsc_hold')) ?? RSC_ALL)}]`),
      this.unsupported('standby/takeover need auto_failback on or off (not legacy)'),
    ],
    'ip-request': this.onIpRequest,
    'ip-request-resp': (msg, peer, now) => this.onIpRequestResp(msg, peer, now),
  };

  /**
   * Ask the peer to free our groups first (it may hold them as foreign): one ip-request per group named by its
   * key, as Heartbeat's req_resource does. The real rc.d/ip-request gives the group up (givegroup, IPaddr stop)
   * and only then answers ip-request-resp (ipaddr=<key>, weown=yes|no, ok=OK); its rc.d/ip-request-resp takes
   * the group (takegroup) on that answer. So each group is taken when its answer comes, not before.
   */
  commUp(now: number, out: Action[]): void {
    const { cfg, book, outbox } = this.ctx;
    const alive = this.ctx.members.firstAlive();
    if (alive && cfg.groups.some((g) => g.node === cfg.node)) {
      for (const g of book.groupsOf(RSC_LOCAL)) {
        const key = groupKey(cfg.groups[g]!);
        this.asked.set(g, key);
        out.push(outbox.send(now, [['t', 'ip-request'], ['dest', alive.name], ['ipaddr', key]]));
      }
      out.push(this.ctx.report.log('info', 'ip-request', `asking ${alive.name} for our groups back (ip-request): ${[...this.asked.values()].join(', ')}`, { peer: alive.name }));
      this.waitUntil = now + cfg.ipRequestTimeoutMs;
    } else out.push(...this.reqOurResources(true, now));
    this.rstate = 'stable';
  }

  protected onShutdone(peer: Peer, now: number, out: Action[]): void {
    out.push(...this.takeoverFrom(peer, now));
  }

  /** The home node takes its groups back: free them at once when it is a heal (a restarted one asks). */
  onPeerReturn(peer: Peer, healed: boolean, now: number): Action[] {
    if (!healed) return [];
    const { book, cfg } = this.ctx;
    const mine = book.groupsOf(RSC_LOCAL).filter((g) => book.holds(g));
    const foreign = book.groupsOf(RSC_FOREIGN).filter((g) => book.holds(g) && cfg.groups[g]!.node === peer.name);
    const giveBack = foreign.length ? [this.ctx.report.log('info', 'failback', `giving ${peer.name}'s groups back`), ...book.job('release', foreign, 'failback (legacy)', () => [], now)] : [];
    return [...giveBack, ...(mine.length ? this.keep(mine, peer, now) : [])];
  }

  command(cmd: 'standby' | 'takeover'): Action[] {
    if (cmd === 'standby') return [this.ctx.report.log('info', 'command', 'standby requested'), this.unsupported('standby/takeover need auto_failback on or off (not legacy)')];
    return [this.unsupported('takeover needs auto_failback on or off (not legacy)')];
  }

  tick(now: number, out: Action[]): void {
    if (!this.waitUntil || now < this.waitUntil) return;
    this.waitUntil = 0;
    const left = [...this.asked.values()];
    this.asked.clear();
    out.push(this.ctx.report.log('warn', 'ip-request-timeout', `no ip-request-resp for ${left.join(', ')} within ${this.ctx.cfg.ipRequestTimeoutMs} ms: taking our groups anyway`));
    out.push(...this.reqOurResources(true, now));
  }

  nextWakeMs(t: number): number {
    return this.waitUntil ? Math.min(t, this.waitUntil) : t;
  }

  protected prepareTakeover(): void {
    this.waitUntil = 0;
    this.asked.clear();
  }

  protected afterTakeover(): void {}

  protected ownResourcesWanted(): Action[] | undefined {
    return undefined;
  }

  protected afterOwnResources(): void {}

  private unsupported(text: string): Action {
    return this.ctx.report.log('warn', 'standby-unsupported', text);
  }

  /** The peer answered one of our ip-requests; take that group (Heartbeat's rc.d/ip-request-resp). */
  private onIpRequestResp(msg: HbMessage, peer: Peer, now: number): Action[] {
    if (getField(msg, 'dest') !== this.ctx.cfg.node || !this.asked.size) return [];
    const ipaddr = getField(msg, 'ipaddr');
    const ok = getField(msg, 'ok');
    const groups = [...this.asked].filter(([, key]) => !ipaddr || key === ipaddr).map(([g]) => g);
    const out: Action[] = [this.ctx.report.log('info', 'ip-request-resp', `${peer.name} answered ip-request ${ipaddr ?? '(no ipaddr)'}: ok=${ok ?? '-'} weown=${getField(msg, 'weown') ?? '-'}`, { peer: peer.name, ipaddr, ok })];
    for (const g of groups) this.asked.delete(g);
    if (!this.asked.size) this.waitUntil = 0;
    if (ok !== 'OK') {
      out.push(this.ctx.report.log('warn', 'ip-request-denied', `${peer.name} did not give ${ipaddr ?? 'our groups'} up (ok=${ok ?? '-'}): not taking it`));
      return out;
    }
    if (!groups.length || this.ctx.shuttingDown()) return out;
    out.push(...this.ctx.book.job('acquire', groups, 'ip-request-resp', () => (this.asked.size ? [] : [this.ctx.report.log('info', 'local-acquisition', 'local resource acquisition completed')]), now));
    return out;
  }
}
