/**
 * The resource policy: what a node does with its resource groups as peers come, go and talk. One
 * implementation per auto_failback mode family, chosen once when the machine is built: nice_failback
 * (auto_failback on/off, nice-failback.ts) and legacy (legacy-failback.ts). This base holds what both share:
 * Heartbeat's resource-set state, taking over from a dead node, taking our own groups, giving groups back on
 * ip-request and keeping contested ones after a partition.
 */
import { getField, type HbMessage } from '../../codecs/heartbeat/message.js';
import type { Membership, Peer } from './membership.js';
import type { Outbox } from './outbox.js';
import type { Reporter } from './report.js';
import type { ResourceBook } from './resource-book.js';
import { groupKey, rscName, RSC_FOREIGN, RSC_LOCAL, RSC_NONE, type Action, type MachineConfig, type ResourceState, type Standby } from './types.js';

export type MessageHandler = (msg: HbMessage, peer: Peer, now: number) => Action[];

/** What a policy works with: the machine's other parts. */
export interface PolicyContext {
  cfg: Required<Omit<MachineConfig, 'load' | 'ping'>>;
  report: Reporter;
  outbox: Outbox;
  book: ResourceBook;
  members: Membership;
  /** the node is giving everything up (graceful shutdown) */
  shuttingDown: () => boolean;
}

/** The policy's state as the machine's status shows it. */
export interface PolicyView {
  resourceState: ResourceState;
  held: number;
  otherHolds: number;
  otherStable: boolean;
  standby: Standby;
}

export abstract class ResourcePolicy {
  // Heartbeat's names in comments
  protected rstate: ResourceState = 'init';
  protected held = RSC_NONE; // procinfo->i_hold_resources
  protected otherHolds = RSC_NONE; // other_holds_resources
  protected otherStable = false; // other_is_stable
  protected needsFailback = false; // rsc_needs_failback
  protected standby: Standby = 'not'; // going_standby
  private lastKeepMs = -Infinity;
  private lastKeepToldMs = -Infinity;

  /** handlers of the resource messages, by message type */
  abstract readonly handlers: Readonly<Record<string, MessageHandler>>;

  constructor(protected readonly ctx: PolicyContext) {}

  /** Communications are up: start taking resources. */
  abstract commUp(now: number, out: Action[]): void;
  /** A peer said shutdone (already marked dead). */
  protected abstract onShutdone(peer: Peer, now: number, out: Action[]): void;
  /** A dead peer is heard again (restarted, or a partition healed). */
  abstract onPeerReturn(peer: Peer, healed: boolean, now: number): Action[];
  /** The operator asks for standby (give our resources to the peer) or takeover (get everything). */
  abstract command(cmd: 'standby' | 'takeover', now: number): Action[];
  /** The policy's own timers. */
  abstract tick(now: number, out: Action[]): void;
  abstract nextWakeMs(t: number): number;
  /** Hooks of takeoverFrom / reqOurResources (nice_failback tracks resource sets and tells the peer). */
  protected abstract prepareTakeover(): void;
  protected abstract afterTakeover(now: number, out: Action[]): void;
  protected abstract ownResourcesWanted(anyway: boolean): Action[] | undefined;
  protected abstract afterOwnResources(now: number, out: Action[]): void;
  /** keeping contested groups: tell the peer what we hold? */
  protected abstract readonly tellsWhatItKeeps: boolean;

  /**
   * ipfail's giveup(): go standby for a resource set (RSC_ALL or RSC_FOREIGN) as hb_standby does. undefined when
   * the policy has no standby protocol (auto_failback legacy: ipfail refuses it too).
   */
  giveUp(_type: number, _now: number): Action[] | undefined {
    return undefined;
  }

  /** ipfail's is_stable(): resources are not in transition (no hand-over, no job running). */
  isStable(): boolean {
    return this.rstate === 'stable' && this.standby === 'not' && !this.ctx.book.busy();
  }

  view(): PolicyView {
    return { resourceState: this.rstate, held: this.held, otherHolds: this.otherHolds, otherStable: this.otherStable, standby: this.standby };
  }

  /** Graceful shutdown begins: we hold nothing from now on; what to tell the peer. */
  stopping(now: number): Action[] {
    this.rstate = 'shutdown';
    this.held = RSC_NONE;
    return [];
  }

  /** A peer was declared dead: Heartbeat's hb_rsc_recover_dead_resources. */
  onPeerDead(peer: Peer, now: number): Action[] {
    // a new partition: its heal must be announced again however soon after the last one
    this.lastKeepMs = -Infinity;
    this.lastKeepToldMs = -Infinity;
    this.standby = 'not';
    if (this.ctx.shuttingDown()) return [];
    this.needsFailback = true;
    return this.takeoverFrom(peer, now);
  }

  /** A peer's shutdone (Heartbeat: the peer has released everything; take over at once). */
  peerShutdown(peer: Peer, now: number): Action[] {
    const out: Action[] = [this.ctx.report.log('info', 'peer-shutdown', `node ${peer.name}: shut down gracefully (shutdone)`, { peer: peer.name })];
    this.ctx.members.markShutdown(peer);
    this.otherStable = true;
    this.otherHolds = RSC_NONE;
    if (!this.ctx.shuttingDown()) this.onShutdone(peer, now, out);
    return out;
  }

  /** Heartbeat's takeover_from_node: acquire the dead peer's groups, then our own. */
  protected takeoverFrom(peer: Peer, now: number): Action[] {
    const out: Action[] = [this.ctx.report.log('info', 'takeover', `resources being acquired from ${peer.name}`, { peer: peer.name })];
    this.prepareTakeover();
    if (this.rstate !== 'shutdown') this.rstate = 'stable';
    out.push(...this.ctx.book.job('acquire', this.ctx.book.groupsOf(RSC_FOREIGN), 'mach_down', (t) => {
      this.otherStable = true;
      const r: Action[] = [this.ctx.report.log('info', 'takeover-done', `mach_down takeover complete`)];
      this.afterTakeover(t, r);
      return r;
    }, now));
    out.push(...this.reqOurResources(true, now));
    return out;
  }

  /** Heartbeat's req_our_resources(getthemanyway). */
  protected reqOurResources(anyway: boolean, now: number): Action[] {
    if (this.ctx.shuttingDown()) return [];
    const notWanted = this.ownResourcesWanted(anyway);
    if (notWanted) return notWanted;
    return this.ctx.book.job('acquire', this.ctx.book.groupsOf(RSC_LOCAL), 'req_our_resources', (t) => {
      const out: Action[] = [this.ctx.report.log('info', 'local-acquisition', 'local resource acquisition completed')];
      this.afterOwnResources(t, out);
      return out;
    }, now);
  }

  /** Our resource message: what we hold, whether we are stable, and hadiag's extension fields. */
  protected resourcesHeld(now: number, stable: boolean, info?: string, extra: Array<[string, string]> = []): Action {
    const pairs: Array<[string, string]> = [['t', 'resource'], ['rsc_hold', rscName(this.held)], ['rtype', 'full'], ['isstable', stable ? '1' : '0']];
    if (info) pairs.push(['info', info]);
    pairs.push(...extra);
    return this.ctx.outbox.send(now, pairs);
  }

  /** hadiag extension fields (ignored by Heartbeat): when we got our local/foreign groups. */
  protected sinceFields(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const l = this.ctx.book.heldSince(this.ctx.book.groupsOf(RSC_LOCAL));
    const f = this.ctx.book.heldSince(this.ctx.book.groupsOf(RSC_FOREIGN));
    if (l !== undefined) out.push(['hd_lsince', Math.round(l).toString(16)]);
    if (f !== undefined) out.push(['hd_fsince', Math.round(f).toString(16)]);
    return out;
  }

  /**
   * We keep contested groups: tell the peer what we hold (after a one-way cut it never saw us die, so it
   * has no other way to learn it must yield) and announce them again (the peer announced them meanwhile).
   */
  protected keep(groups: number[], peer: Peer, now: number): Action[] {
    const out: Action[] = [];
    if (now - this.lastKeepToldMs >= this.ctx.cfg.keepaliveMs && this.tellsWhatItKeeps) {
      this.lastKeepToldMs = now;
      out.push(this.resourcesHeld(now, true, 'heal', this.sinceFields()));
    }
    if (now - this.lastKeepMs < 5000) return out;
    this.lastKeepMs = now;
    return [
      this.ctx.report.log('warn', 'contest', `both ${this.ctx.cfg.node} and ${peer.name} hold ${groups.map((g) => this.ctx.cfg.groups[g]!.label).join(', ')}: keeping them (auto_failback ${this.ctx.cfg.autoFailback}), announcing again`),
      ...out,
      ...groups.map((group): Action => ({ type: 'announce', group, reason: 'partition heal' })),
    ];
  }

  /** The peer asks for its groups back (ip-request, legacy Heartbeat): free them, then answer. */
  readonly onIpRequest: MessageHandler = (msg, peer, now) => {
    const { book, cfg } = this.ctx;
    if (getField(msg, 'dest') && getField(msg, 'dest') !== cfg.node) return [];
    const ipaddr = getField(msg, 'ipaddr');
    const heldForeign = book.groupsOf(RSC_FOREIGN).filter((g) => book.holds(g) || book.isPending(g));
    const groups = heldForeign.filter((g) => cfg.groups[g]!.node === peer.name && namesGroup(ipaddr, cfg.groups[g]!));
    // answered after the release, as the real rc.d/ip-request does (weown: we held the group when asked)
    const reply = (t: number) => [this.ctx.outbox.send(t, [['t', 'ip-request-resp'], ['dest', peer.name], ...(ipaddr ? [['ipaddr', ipaddr] as [string, string]] : []), ['weown', groups.length ? 'yes' : 'no'], ['ok', 'OK']])];
    if (groups.length === heldForeign.length) this.held &= ~RSC_FOREIGN;
    if (!groups.length) return reply(now);
    return [this.ctx.report.log('info', 'failback', `${peer.name} asks for its groups back`), ...book.job('release', groups, 'ip-request', reply, now)];
  };
}

/**
 * Does ip-request's `ipaddr` name this group? Heartbeat's ResourceManager finds the haresources line holding
 * that word; hadiag also accepts the same address written another way. No ipaddr names every group.
 */
function namesGroup(ipaddr: string | undefined, grp: MachineConfig['groups'][number]): boolean {
  if (!ipaddr) return true;
  const ipOf = (w: string) => /(?:^|::)(\d+\.\d+\.\d+\.\d+)/.exec(w)?.[1];
  const words = [groupKey(grp), ...grp.label.split(/\s+/), ...(grp.ips ?? [])];
  return words.includes(ipaddr) || (ipOf(ipaddr) !== undefined && words.some((w) => ipOf(w) === ipOf(ipaddr)));
}
