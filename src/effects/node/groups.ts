/**
 * Acquiring and releasing resource groups on this host, one action at a time in order: IP resources with
 * `ip` (recorded in the address ledger first, announced by the announcer once added), script resources with
 * their resource scripts. Also re-announces held groups and reports each announcement's outcome.
 *
 * A held IPv6 VIP the kernel removed (setting the link down flushes IPv6 addresses unless keep_addr_on_down=1;
 * IPv4 ones stay) is added again at once and announced: an `ip monitor address` child runs while the node has
 * an IPv6 VIP, so a link flap shorter than deadtime does not leave the holder without its address.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HadiagError } from '../../core/errors.js';
import { nowMs } from '../../core/clock.js';
import type { Resource, ResourceGroup } from '../../models/config/haresources.js';
import type { Action, MachineEvent } from '../../models/node/machine.js';
import type { Announcer, AnnounceReport } from '../announce/garp-announcer.js';
import { addVip, addVips, delVips, listIpv4, planVip, runScript, scriptPath, vip6State, type VipLedger, type VipPlan } from './resources.js';
import type { DaemonCounters, DaemonEmit } from './daemon-log.js';
import { AddressWatch, type ReceivedAddressEvent } from '../io/address-watch.js';
import { onCleanup } from '../io/cleanup.js';

type ResourceAction = Extract<Action, { type: 'acquire' | 'release' }>;
type IpResource = Extract<Resource, { kind: 'ip' }>;
type ScriptResource = Extract<Resource, { kind: 'script' }>;

/** A group's resources as runs: consecutive IP resources together, each script resource alone (in order). */
export function runsOf(resources: readonly Resource[]): ({ kind: 'ip'; resources: IpResource[] } | { kind: 'script'; resource: ScriptResource })[] {
  const out: ({ kind: 'ip'; resources: IpResource[] } | { kind: 'script'; resource: ScriptResource })[] = [];
  for (const r of resources) {
    const last = out[out.length - 1];
    if (r.kind !== 'ip') out.push({ kind: 'script', resource: r });
    else if (last?.kind === 'ip') last.resources.push(r);
    else out.push({ kind: 'ip', resources: [r] });
  }
  return out;
}
type ResourceDone = Extract<MachineEvent, { type: 'resource-done' }>;
/** GARP reports kept for the status */
const GARP_REPORTS = 20;

export interface GroupRunnerSetup {
  configDir: string;
  stateDir: string;
  groups: ResourceGroup[];
  /** IP resources' addresses, resolved at start-up (findif) */
  vipPlans: Map<Resource, VipPlan>;
  ledger: VipLedger;
}

export class GroupRunner {
  announcer?: Announcer;
  private readonly heldVips = new Map<number, VipPlan[]>(); // group -> addresses we added
  /** VIPs whose current announcement is a re-announcement (its times count from the heal, not the add) */
  private readonly reannounced = new Set<string>();
  private readonly garpReports: AnnounceReport[] = [];
  private queue: Promise<void> = Promise.resolve();
  private addressWatch?: AddressWatch;

  constructor(
    private readonly setup: GroupRunnerSetup,
    private readonly counters: DaemonCounters,
    private readonly log: DaemonEmit,
  ) {
    if ([...setup.vipPlans.values()].some((p) => p.ipv6)) this.watchIpv6();
  }

  private watchIpv6(): void {
    const w = new AddressWatch({ onEvent: (e) => this.onAddress(e) });
    this.addressWatch = w;
    w.start().catch((err: Error) => this.log.emit('warn', 'address-watch', `${err.message}: a held IPv6 VIP the kernel removes is added again only at a partition heal`));
    onCleanup('the IPv6 VIP watch (ip monitor address)', () => w.close());
  }

  /**
   * A held IPv6 VIP deleted (an ifdown): added again after the queued actions. Our own release runs in the queue
   * too and drops the VIP from heldVips first, so the restore of an address we removed finds nothing to do.
   */
  private onAddress(e: ReceivedAddressEvent): void {
    if (e.kind !== 'deleted' || e.family !== 'inet6') return;
    for (const [gi, plans] of this.heldVips) {
      const p = plans.find((x) => x.ip === e.ip && x.iface === e.iface);
      if (p) this.queue = this.queue.then(() => this.restoreVip6(p, gi, 'removed by the kernel or by hand'));
    }
  }

  /** Run an acquire/release after those before it; `done` gets the machine's resource-done event. */
  enqueue(a: ResourceAction, done: (ev: ResourceDone) => void): void {
    this.queue = this.queue.then(async () => {
      const t0 = nowMs();
      let ok = true;
      const details: string[] = [];
      try {
        if (a.type === 'acquire') ok = await this.acquireGroup(a.group, details);
        else ok = await this.releaseGroup(a.group, details);
      } catch (err) {
        ok = false;
        details.push((err as Error).message);
      }
      done({ type: 'resource-done', job: a.job, group: a.group, op: a.type, ok, durationMs: nowMs() - t0, detail: details.join('; ') });
    });
  }

  /** Resolves when every queued action has run. */
  settled(): Promise<void> {
    return this.queue.catch(() => {});
  }

  /** The addresses we added, for the status. */
  vips(): string[] {
    return [...this.heldVips.values()].flat().map((p) => `${p.ip}/${p.prefixLen} ${p.iface}${p.label ? ` (${p.label})` : ''}`);
  }

  recentGarps(): AnnounceReport[] {
    return this.garpReports.slice(-5);
  }

  /** Announce a held group's addresses again (the peer had announced them during a partition). */
  reannounce(gi: number): void {
    for (const p of this.heldVips.get(gi) ?? []) {
      if (p.ipv6) {
        // after the queued actions: an ifdown flushed the IPv6 address (keep_addr_on_down=0), a DAD may have failed
        this.queue = this.queue.then(() => this.restoreVip6(p, gi, 'partition healed'));
        continue;
      }
      this.reannounced.add(p.ip);
      this.announcer?.announce(p.ip, p.iface, nowMs());
      this.log.emit('info', 'reannounce', `announcing ${p.ip} on ${p.iface} again (partition healed)`);
    }
  }

  /** A held IPv6 VIP that is gone (the interface went down) or dadfailed is added again before it is announced. */
  private async restoreVip6(p: VipPlan, gi: number, why: string): Promise<void> {
    if (!(this.heldVips.get(gi) ?? []).includes(p)) return;
    const state = await vip6State(p);
    if (state === 'ok' && why !== 'partition healed') return;
    if (state !== 'ok') {
      const res = await addVip(p);
      this.log.emit(res.ok ? 'warn' : 'error', 'resource', `${p.ip} was ${state === 'missing' ? 'no longer' : state} on ${p.iface} (an ifdown removes IPv6 addresses unless net.ipv6.conf.${p.iface}.keep_addr_on_down=1): ${res.ok ? 'added again' : 'FAILED to add it again'}: ${res.detail}`, { ip: p.ip, iface: p.iface, state });
      if (!res.ok) return;
    }
    this.reannounced.add(p.ip);
    this.announcer?.announce(p.ip, p.iface, nowMs());
    this.log.emit('info', 'reannounce', `announcing ${p.ip} on ${p.iface} again (${why})`);
  }

  onGarpReport(r: AnnounceReport, final: boolean): void {
    const since = this.reannounced.has(r.vip) ? 'the heal asked for it again' : 'the address was added';
    if (!final) {
      this.log.emit('info', 'garp-seen', `${r.vip.includes(':') ? 'NA/NS' : 'GARP'} for ${r.vip} seen on ${r.iface}, first ${r.firstSeenMs?.toFixed(1)} ms after ${since}`, { ...r });
      return;
    }
    this.reannounced.delete(r.vip);
    this.counters.garpsSent += r.sent;
    this.garpReports.push(r);
    if (this.garpReports.length > GARP_REPORTS) this.garpReports.shift();
    // an IPv6 VIP is announced with neighbour discovery (NA/NS), an IPv4 one with ARP
    const kind = r.vip.includes(':') ? 'NA/NS' : 'GARP';
    const wire = r.seen !== undefined ? `${kind} ${r.seen}/${r.planned} on wire, first ${r.firstSeenMs !== undefined ? r.firstSeenMs.toFixed(1) + ' ms' : '(none)'} after ${since}${r.pcap ? ` (pcap ${r.pcap})` : ''}` : `${kind} ${r.sent}/${r.planned} sent, first ${r.firstSentMs?.toFixed(1)} ms after ${since}`;
    this.log.emit(r.seen !== undefined && r.seen < r.planned ? 'warn' : 'info', 'garp', `${r.vip} on ${r.iface}: ${wire}`, { ...r });
  }

  /** Last resort: remove every address we added (synchronously, works inside process 'exit'). */
  forceRelease(): void {
    void this.addressWatch?.close(); // its SIGTERM is sent before the first await
    for (const p of this.setup.ledger.list()) {
      spawnSync('ip', ['addr', 'del', `${p.ip}/${p.prefixLen}`, 'dev', p.iface], { stdio: 'ignore' });
    }
    try {
      writeFileSync(join(this.setup.stateDir, 'vips.json'), '[]');
    } catch {
      /* nothing */
    }
  }

  private async acquireGroup(gi: number, details: string[]): Promise<boolean> {
    const added: VipPlan[] = this.heldVips.get(gi) ?? [];
    this.heldVips.set(gi, added);
    // consecutive IP resources go as one ip -batch; a script resource between them is a barrier (run in order)
    for (const run of runsOf(this.setup.groups[gi]!.resources)) {
      if (run.kind === 'ip') {
        if (!(await this.addAddresses(run.resources, added, details))) return false;
      } else if (!(await this.runScriptResource(run.resource, 'start'))) {
        details.push(`${run.resource.raw} start failed`);
        return false;
      }
    }
    return true;
  }

  /** Add a run of IP resources at once, announce them together, report each; false at the first that failed. */
  private async addAddresses(rs: IpResource[], added: VipPlan[], details: string[]): Promise<boolean> {
    const t0 = nowMs();
    const plans: VipPlan[] = [];
    for (const r of rs) plans.push(this.setup.vipPlans.get(r) ?? planVip(r, await listIpv4()));
    this.setup.ledger.add(...plans); // intent first: a crash right after `ip addr add` is cleaned up next start
    const results = await addVips(plans);
    const addedAt = nowMs();
    const present = plans.filter((p, i) => results[i]!.ok);
    for (const p of present) this.reannounced.delete(p.ip);
    if (present.length) this.announceAll(present, addedAt);
    this.setup.ledger.remove(...plans.filter((p, i) => results[i]!.existed || (!results[i]!.ok && !/stopped before the end/.test(results[i]!.detail))));
    let ok = true;
    for (const [i, r] of rs.entries()) {
      const res = results[i]!;
      const plan = plans[i]!;
      if (!res.ok) {
        if (/stopped before the end/.test(res.detail)) added.push(plan);
        details.push(`${r.raw}: ${res.detail}`);
        this.log.emit('error', 'resource', `start ${r.raw}: FAILED (${res.detail})`);
        ok = false;
        continue;
      }
      if (!res.existed) added.push(plan);
      this.log.emit('info', 'resource', `start ${r.raw}: ${res.detail} (${(addedAt - t0).toFixed(1)} ms)`, { resource: r.raw, op: 'start', durationMs: addedAt - t0, ip: plan.ip, iface: plan.iface });
    }
    return ok;
  }

  private announceAll(plans: VipPlan[], addedAt: number): void {
    const a = this.announcer;
    if (!a) return;
    if (a.announceAll) a.announceAll(plans.map((p) => ({ vip: p.ip, iface: p.iface })), addedAt);
    else for (const p of plans) a.announce(p.ip, p.iface, addedAt);
  }

  private async releaseGroup(gi: number, details: string[]): Promise<boolean> {
    let ok = true;
    const added = this.heldVips.get(gi) ?? [];
    for (const run of runsOf([...this.setup.groups[gi]!.resources].reverse())) {
      if (run.kind === 'ip') {
        if (!(await this.removeAddresses(run.resources, added, details))) ok = false;
      } else if (!(await this.runScriptResource(run.resource, 'stop'))) {
        ok = false;
        details.push(`${run.resource.raw} stop failed`);
      }
    }
    return ok;
  }

  /** Remove a run of addresses we added, in one ip -batch (one we did not add is left alone). */
  private async removeAddresses(rs: IpResource[], added: VipPlan[], details: string[]): Promise<boolean> {
    const t0 = nowMs();
    for (const r of rs) this.announcer?.cancel(r.ip);
    const mine = rs.map((r) => ({ r, plan: added.find((p) => p.ip === r.ip) })).filter((x): x is { r: IpResource; plan: VipPlan } => x.plan !== undefined);
    if (!mine.length) return true;
    const results = await delVips(mine.map((x) => x.plan));
    const ms = nowMs() - t0;
    let ok = true;
    for (const [i, { r, plan }] of mine.entries()) {
      const res = results[i]!;
      if (res.ok) {
        this.setup.ledger.remove(plan);
        added.splice(added.indexOf(plan), 1);
      } else {
        details.push(`${r.raw}: ${res.detail}`);
        ok = false;
      }
      this.log.emit(res.ok ? 'info' : 'error', 'resource', `stop ${r.raw}: ${res.detail} (${ms.toFixed(1)} ms)`, { resource: r.raw, op: 'stop', durationMs: ms });
    }
    return ok;
  }

  private async runScriptResource(r: ScriptResource, op: 'start' | 'stop'): Promise<boolean> {
    const t0 = nowMs();
    let path: string;
    try {
      path = await scriptPath(this.setup.configDir, r.name);
    } catch (err) {
      this.log.emit('error', 'resource', `${op} ${r.raw}: ${(err as HadiagError).message}`);
      return false;
    }
    const res = await runScript(path, r.args, op);
    const ms = nowMs() - t0;
    this.log.emit(res.code === 0 ? 'info' : 'error', 'resource', `${op} ${r.raw}: ${path} ${[...r.args, op].join(' ')} exited ${res.code} (${ms.toFixed(1)} ms)${res.out ? `: ${res.out}` : ''}`, { resource: r.raw, op, code: res.code, durationMs: ms });
    return res.code === 0;
  }
}
