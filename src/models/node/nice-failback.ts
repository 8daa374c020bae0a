/**
 * Heartbeat's nice_failback resource policy (auto_failback on and off): resource sets none/local/foreign/all,
 * `starting` / `resource` messages and RQSTDELAY when both start, the three-phase standby protocol
 * (`ask_resources` me → other → done, hb_standby / hb_takeover), and settling groups both nodes hold after a
 * partition. The two modes differ in two rules, fixed at construction: whether foreign groups go home once
 * their node is stable again (on), and who keeps a contested group (on: its home node; off: whoever had it
 * first).
 */
import { getField, type HbMessage } from '../../codecs/heartbeat/message.js';
import type { Peer } from './membership.js';
import { ResourcePolicy, type MessageHandler, type PolicyContext } from './resource-policy.js';
import { rscBits, rscName, RSC_ALL, RSC_FOREIGN, RSC_LOCAL, RSC_NONE, type Action, type Standby } from './types.js';

/** how long an accepted standby hand-over may take before it is abandoned */
const STANDBY_HANDOVER_MS = 60 * 60_000;

/** The other side's name for a resource set: our local is its foreign. */
const mirrored = (set: number): number => (set === RSC_LOCAL ? RSC_FOREIGN : set === RSC_FOREIGN ? RSC_LOCAL : RSC_ALL);

interface StandbyMessage {
  info: string;
  from: string;
  rtype: number;
  fromMe: boolean;
}

export class NiceFailback extends ResourcePolicy {
  private standbyType = RSC_ALL; // standby_rsctype
  private standbyDeadline = 0;
  private localTakeoverAt = 0; // local_takeover_time
  /** auto_failback on: foreign groups go back to their home node once it is stable */
  private readonly failsBack: boolean;
  /** auto_failback off: a contested group stays with whoever acquired it first */
  private readonly firstHolderKeeps: boolean;
  protected readonly tellsWhatItKeeps = true;

  readonly handlers: Readonly<Record<string, MessageHandler>> = {
    starting: (_msg, peer, now) => this.onStarting(peer, now),
    resource: (msg, peer, now) => this.onResources(msg, peer, now),
    ask_resources: (msg, _peer, now) => this.askForResources(msg, false, now),
    hb_takeover: (msg, peer, now) => this.onTakeoverRequest(msg, peer, now),
    'ip-request': this.onIpRequest,
  };

  constructor(ctx: PolicyContext, mode: 'on' | 'off') {
    super(ctx);
    this.failsBack = mode === 'on';
    this.firstHolderKeeps = mode === 'off';
  }

  commUp(now: number, out: Action[]): void {
    this.rstate = 'starting';
    out.push(this.ctx.outbox.send(now, [['t', 'starting']]));
    // if every peer is already known dead (alone in the world), take everything now
    if (this.ctx.members.allDead()) {
      this.rstate = 'stable';
      out.push(...this.reqOurResources(true, now));
      out.push(this.resourcesHeld(now, true));
    }
  }

  override stopping(now: number): Action[] {
    super.stopping(now);
    this.localTakeoverAt = 0;
    return [this.resourcesHeld(now, false, 'shutdown')];
  }

  override onPeerDead(peer: Peer, now: number): Action[] {
    this.standbyDeadline = 0;
    return super.onPeerDead(peer, now);
  }

  protected onShutdone(_peer: Peer, now: number, out: Action[]): void {
    const { book } = this.ctx;
    if (this.held === RSC_ALL && book.groupsOf(RSC_ALL).every((g) => book.holds(g))) return;
    const rtype = this.held === RSC_FOREIGN ? RSC_LOCAL : this.held === RSC_LOCAL ? RSC_FOREIGN : RSC_ALL;
    this.standby = 'done';
    this.standbyType = rtype;
    this.needsFailback = true;
    if (this.rstate !== 'stable') this.rstate = 'stable';
    out.push(...book.job('acquire', book.groupsOf(RSC_ALL), 'peer shut down', (t) => {
      this.held = RSC_ALL;
      this.standby = 'not';
      this.standbyDeadline = 0;
      return [this.ctx.outbox.send(t, [['t', 'ask_resources'], ['rsc_hold', rscName(rtype)], ['info', 'done']]), this.resourcesHeld(t, true, undefined, this.sinceFields())];
    }, now));
  }

  onPeerReturn(_peer: Peer, healed: boolean, now: number): Action[] {
    if (!healed || this.rstate !== 'stable') return [];
    // tell the peer what we hold; both sides then settle contested groups (resolveContest)
    this.otherStable = true;
    return [this.resourcesHeld(now, true, 'heal', this.sinceFields())];
  }

  override giveUp(type: number, now: number): Action[] {
    return this.startStandby(type, now);
  }

  command(cmd: 'standby' | 'takeover', now: number): Action[] {
    const log = this.ctx.report.log.bind(this.ctx.report);
    if (cmd === 'standby') return [log('info', 'command', 'standby requested'), ...this.startStandby(RSC_ALL, now)];
    const alive = this.ctx.members.firstAlive();
    if (!alive) return [log('info', 'command', 'takeover requested: no other node is up'), ...this.ctx.book.job('acquire', this.ctx.book.groupsOf(RSC_ALL), 'takeover', () => [], now)];
    return [log('info', 'command', `takeover requested: asking ${alive.name} to go standby`), this.ctx.outbox.send(now, [['t', 'hb_takeover'], ['rsc_hold', 'all']])];
  }

  tick(now: number, out: Action[]): void {
    if (this.localTakeoverAt && now >= this.localTakeoverAt) {
      this.localTakeoverAt = 0;
      if (this.rstate === 'rscrcvd' || this.rstate === 'starting' || this.rstate === 'bothstarting') {
        out.push(this.ctx.report.log('info', 'rqstdelay', `no stable answer within ${this.ctx.cfg.rqstDelayMs} ms: taking our own resources`));
        this.rstate = 'stable';
        out.push(...this.reqOurResources(false, now));
        out.push(this.resourcesHeld(now, true));
      }
    }
    if (this.standbyDeadline && now >= this.standbyDeadline) {
      this.standbyDeadline = 0;
      if (this.standby !== 'not') {
        out.push(this.ctx.report.log('warn', 'standby-timeout', `standby (${this.standby}) got no answer: abandoned`));
        this.standby = 'not';
      }
    }
  }

  nextWakeMs(t: number): number {
    if (this.localTakeoverAt) t = Math.min(t, this.localTakeoverAt);
    if (this.standbyDeadline) t = Math.min(t, this.standbyDeadline);
    return t;
  }

  protected prepareTakeover(): void {
    this.held |= RSC_FOREIGN;
    this.otherHolds = RSC_NONE;
    this.otherStable = true;
    this.localTakeoverAt = 0;
  }

  protected afterTakeover(now: number, out: Action[]): void {
    out.push(this.ctx.outbox.send(now, [['t', 'resource'], ['rsc_hold', 'foreign'], ['info', 'mach_down']]));
  }

  protected ownResourcesWanted(anyway: boolean): Action[] | undefined {
    if ((this.otherHolds & RSC_FOREIGN || this.held & RSC_LOCAL) && !anyway && this.standby === 'not') {
      return [this.ctx.report.log('info', 'local-acquisition', 'local resource acquisition completed (none: held elsewhere or already ours)')];
    }
    this.held |= RSC_LOCAL;
    return undefined;
  }

  protected afterOwnResources(now: number, out: Action[]): void {
    out.push(this.resourcesHeld(now, true, 'req_our_resources()', this.sinceFields()));
  }

  // ---------------------------------------------------------------- starting / resource messages

  private onStarting(peer: Peer, now: number): Action[] {
    if (this.rstate === 'starting') this.rstate = 'bothstarting';
    else if (this.rstate === 'init') return [this.ctx.report.log('warn', 'starting-early', `'starting' from ${peer.name} before we are up: ignored`)];
    this.otherStable = false;
    return [this.resourcesHeld(now, this.rstate === 'stable', undefined, this.sinceFields())];
  }

  private onResources(msg: HbMessage, peer: Peer, now: number): Action[] {
    const n = rscBits(getField(msg, 'rsc_hold'));
    if (n === undefined) {
      this.ctx.report.counters.malformedFields++;
      return this.ctx.report.rateLog('warn', 'malformed', `resource message from ${peer.name} with a bad rsc_hold`, now);
    }
    const full = getField(msg, 'rtype') === 'full';
    const out: Action[] = [];
    if (this.rstate === 'starting' || this.rstate === 'bothstarting') {
      this.rstate = 'rscrcvd';
      this.localTakeoverAt = now + this.ctx.cfg.rqstDelayMs;
    } else if (this.rstate === 'init') return out;
    this.otherHolds = full ? n : n === RSC_NONE ? RSC_NONE : n | this.otherHolds;
    const st = getField(msg, 'isstable');
    if (st === '1') {
      if (!this.otherStable) {
        this.otherStable = true;
        out.push(this.ctx.report.log('info', 'remote-stable', `${peer.name}: resource transition completed (holds ${rscName(this.otherHolds)})`));
        out.push(this.resourcesHeld(now, this.rstate === 'stable', undefined, this.sinceFields()));
        out.push(...this.performAutoFailback(now));
      }
    } else if (st !== undefined) this.otherStable = false;
    if (this.rstate !== 'stable' && this.rstate !== 'shutdown' && this.otherStable) {
      this.localTakeoverAt = 0;
      this.rstate = 'stable';
      out.push(...this.reqOurResources(false, now));
      out.push(this.resourcesHeld(now, true, undefined, this.sinceFields()));
      out.push(...this.performAutoFailback(now));
    }
    out.push(...this.resolveContest(msg, peer, now));
    return out;
  }

  /**
   * Both nodes hold the same groups (after a partition healed): settle to one owner without restarting.
   * on: each group goes home. off: whoever acquired it first keeps it (home node on a tie or when the peer
   * does not say).
   */
  private resolveContest(msg: HbMessage, peer: Peer, now: number): Action[] {
    if (this.ctx.book.busy() || this.ctx.shuttingDown() || this.standby !== 'not' || this.rstate !== 'stable') return [];
    return [...this.contestForeign(msg, peer, now), ...this.contestLocal(msg, peer, now)];
  }

  /** We hold the peer's groups and so does the peer. */
  private contestForeign(msg: HbMessage, peer: Peer, now: number): Action[] {
    const { book, cfg } = this.ctx;
    const myForeignHeld = book.groupsOf(RSC_FOREIGN).filter((g) => book.holds(g));
    if (!myForeignHeld.length || !(this.otherHolds & RSC_LOCAL)) return [];
    const theirs = parseInt(getField(msg, 'hd_lsince') ?? '', 16);
    const iYield = !(this.firstHolderKeeps && Number.isFinite(theirs) && Math.round(book.heldSince(myForeignHeld)!) < theirs);
    if (!iYield) return this.keep(myForeignHeld, peer, now);
    this.held &= ~RSC_FOREIGN;
    this.needsFailback = false;
    return [
      this.ctx.report.log('warn', 'contest', `both ${cfg.node} and ${peer.name} hold ${peer.name}'s groups: releasing ours (auto_failback ${cfg.autoFailback})`),
      ...book.job('release', myForeignHeld, 'partition heal', (t) => [this.resourcesHeld(t, true, 'heal', this.sinceFields())], now),
    ];
  }

  /** We hold our own groups and so does the peer. */
  private contestLocal(msg: HbMessage, peer: Peer, now: number): Action[] {
    const { book, cfg } = this.ctx;
    const myLocalHeld = book.groupsOf(RSC_LOCAL).filter((g) => book.holds(g));
    if (!myLocalHeld.length || !(this.otherHolds & RSC_FOREIGN)) return [];
    const theirs = parseInt(getField(msg, 'hd_fsince') ?? '', 16);
    const iYield = this.firstHolderKeeps && Number.isFinite(theirs) && theirs < Math.round(book.heldSince(myLocalHeld)!);
    if (!iYield) return this.keep(myLocalHeld, peer, now);
    this.held &= ~RSC_LOCAL;
    return [
      this.ctx.report.log('warn', 'contest', `both ${cfg.node} and ${peer.name} hold our groups; ${peer.name} had them first: releasing (auto_failback off)`),
      ...book.job('release', myLocalHeld, 'partition heal', (t) => [this.resourcesHeld(t, true, 'heal', this.sinceFields())], now),
    ];
  }

  private performAutoFailback(now: number): Action[] {
    if (!(this.held & RSC_FOREIGN) || !this.needsFailback || !this.failsBack) {
      this.needsFailback = false;
      return [];
    }
    if (this.standby !== 'not') return [this.ctx.report.log('warn', 'failback-ignored', 'auto failback ignored: standby in progress')];
    this.needsFailback = false;
    this.standbyType = RSC_FOREIGN;
    return [this.ctx.report.log('info', 'auto-failback', 'auto failback: giving foreign resources back to their home node'), ...this.sendStandbyMsg('me', now)];
  }

  // ---------------------------------------------------------------- the standby protocol

  /** A peer asked (hb_takeover) to get resources: we go standby for what it wants. */
  private onTakeoverRequest(msg: HbMessage, peer: Peer, now: number): Action[] {
    const want = rscBits(getField(msg, 'rsc_hold')) ?? RSC_ALL;
    return [this.ctx.report.log('info', 'takeover-request', `${peer.name} asks to take over [${rscName(want)}]`), ...this.startStandby(mirrored(want), now)];
  }

  private startStandby(type: number, now: number): Action[] {
    const log = this.ctx.report.log.bind(this.ctx.report);
    if (this.standby !== 'not' || this.rstate !== 'stable' || !this.otherStable) {
      return [log('warn', 'standby-refused', `standby refused: ${this.standby !== 'not' ? 'standby already in progress' : 'resources in flux'}`)];
    }
    if (this.ctx.members.allDead()) return [log('warn', 'standby-refused', 'standby refused: no other node is up')];
    this.standbyType = type;
    return this.sendStandbyMsg('me', now);
  }

  /** Send ask_resources and process it as Heartbeat does with its own messages. */
  private sendStandbyMsg(info: Standby, now: number): Action[] {
    const msg = this.ctx.outbox.build(now, [['t', 'ask_resources'], ['rsc_hold', rscName(this.standbyType)], ['info', info]]);
    return [{ type: 'send', msg }, ...this.askForResources(msg, true, now)];
  }

  /** Heartbeat's three-phase standby protocol (ask_for_resources): one step per state of ours. */
  private askForResources(msg: HbMessage, fromMe: boolean, now: number): Action[] {
    if (this.rstate === 'shutdown') return [];
    const m: StandbyMessage = { info: getField(msg, 'info') ?? '', from: getField(msg, 'src') ?? '', rtype: rscBits(getField(msg, 'rsc_hold')) ?? RSC_ALL, fromMe };
    const out: Action[] = [];
    const step = { not: this.standbyNot, me: this.standbyMe, other: this.standbyOther, done: this.standbyDone }[this.standby];
    if (!step.call(this, m, now, out)) out.push(this.ctx.report.log('warn', 'standby-ignored', `ignored standby message '${m.info}' from ${m.from} in state ${this.standby}`));
    return out;
  }

  /** Not in standby: a node (we or the peer) wants to go standby. False: the message is ignored. */
  private standbyNot(m: StandbyMessage, now: number, out: Action[]): boolean {
    if (m.info !== 'me') return false;
    if (!this.otherStable || this.rstate !== 'stable') {
      out.push(this.ctx.report.log('warn', 'standby-ignored', `standby request [${m.info}] from ${m.from} ignored: ${!this.otherStable ? 'other side in flux' : 'local resources in flux'}`));
      return true;
    }
    this.standbyType = m.rtype;
    this.otherStable = false;
    out.push(this.ctx.report.log('info', 'standby', `${m.from} wants to go standby [${rscName(m.rtype)}]`));
    if (m.fromMe) {
      this.standby = 'me';
      this.standbyDeadline = now + this.ctx.cfg.standbyTimeoutMs;
    } else {
      this.standby = 'other';
      this.standbyDeadline = now + STANDBY_HANDOVER_MS;
      out.push(...this.sendStandbyMsg('other', now));
    }
    return true;
  }

  /** We asked to go standby: the peer agrees (other), or our own release is done. */
  private standbyMe(m: StandbyMessage, now: number, out: Action[]): boolean {
    if (!m.fromMe) {
      if (m.info !== 'other') return false;
      this.standbyType = m.rtype;
      this.standbyDeadline = now + STANDBY_HANDOVER_MS;
      out.push(this.ctx.report.log('info', 'standby', `${m.from} can take our ${rscName(m.rtype)} resources`));
      out.push(...this.goStandby('me', m.rtype, now));
    } else if (m.info === 'done') {
      out.push(this.ctx.report.log('info', 'standby', `local standby completed [${rscName(m.rtype)}]`));
      this.standby = 'done';
      this.held &= ~this.standbyType;
    } else if (m.info !== 'me') return false;
    return true;
  }

  /** The peer goes standby: once it has released (done), acquire what it gave up. */
  private standbyOther(m: StandbyMessage, now: number, out: Action[]): boolean {
    this.standbyType = m.rtype;
    if (m.info === 'done') {
      if (m.fromMe) return false;
      out.push(this.ctx.report.log('info', 'standby', `standby: acquiring [${rscName(m.rtype)}] resources from ${m.from}`));
      this.standby = 'done';
      out.push(...this.goStandby('other', m.rtype, now));
      return true;
    }
    return m.fromMe && m.info === 'other';
  }

  /** The hand-over is done on both sides. */
  private standbyDone(m: StandbyMessage, now: number, out: Action[]): boolean {
    this.standbyType = m.rtype;
    if (m.info !== 'done') return false;
    this.standbyDeadline = 0;
    this.standby = 'not';
    if (m.fromMe) {
      this.held |= mirrored(m.rtype);
      out.push(this.ctx.report.log('info', 'standby', `standby resource acquisition done [${rscName(m.rtype)}]`));
    } else out.push(this.ctx.report.log('info', 'standby', `${m.from} completed standby takeover of ${rscName(m.rtype)} resources`));
    out.push(this.resourcesHeld(now, true, undefined, this.sinceFields()));
    return true;
  }

  /** Heartbeat's go_standby(who, resourceset): give up (who=me) or acquire (who=other) a resource set. */
  private goStandby(who: 'me' | 'other', set: number, now: number): Action[] {
    const { book } = this.ctx;
    const act = set === RSC_ALL || set === RSC_NONE ? RSC_ALL : who === 'me' ? set : mirrored(set);
    if (who === 'other') return book.job('acquire', book.groupsOf(act), 'standby takeover', (t) => this.sendStandbyMsg('done', t), now);
    this.otherStable = false;
    this.held &= ~set;
    return [this.resourcesHeld(now, false, 'standby'), ...book.job('release', book.groupsOf(act), 'standby', (t) => this.sendStandbyMsg('done', t), now)];
  }
}
