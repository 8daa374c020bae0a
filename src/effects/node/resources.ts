/**
 * Running haresources resources for a node: IPaddr / IPaddr2 with `ip addr`, other resources as Heartbeat
 * runs them (`<config dir>/resource.d/NAME [args] start|stop`, else `/etc/init.d/NAME start|stop`).
 * Every address we add is recorded in the state directory so a crashed run's leftovers are removed at
 * the next start, and exactly what was added is removed.
 *
 * An IPv6 VIP (IPv6addr, or IPaddr2 with an IPv6 address) is added with `nodad`: usable at once, never
 * `tentative` (DAD would hold it up to a second, or ten with IPaddr2's defaults) and never turned `dadfailed` by
 * the old holder still answering. A `dadfailed` copy found on the interface (a split brain, a leftover) is
 * replaced by ours, recorded in the ledger and removed on release like any address we added.
 */
import { access, readFile } from 'node:fs/promises';
import { constants, renameSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { run } from '../io/exec.js';
import { configError, envError } from '../../core/errors.js';
import { ipv6InPrefix, type Resource, type ResourceGroup } from '../../models/config/haresources.js';
import { inSubnet } from '../../codecs/ipv4-address.js';

export interface Ipv4Addr {
  iface: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  label?: string;
}

/** IPv4 addresses of every interface (ip -json addr). */
export async function listIpv4(): Promise<Ipv4Addr[]> {
  const r = await run(['ip', '-json', 'addr', 'show']);
  if (r.code !== 0) throw envError('cannot list addresses', r.stderr.trim(), 'is iproute2 installed?');
  const links = JSON.parse(r.stdout || '[]') as { ifname: string; addr_info?: { family: string; local: string; prefixlen: number; broadcast?: string; label?: string }[] }[];
  const out: Ipv4Addr[] = [];
  for (const l of links) for (const a of l.addr_info ?? []) if (a.family === 'inet') out.push({ iface: l.ifname, local: a.local, prefixlen: a.prefixlen, broadcast: a.broadcast, label: a.label });
  return out;
}

/** What `ip addr add` gets for an IP resource. */
export interface VipPlan {
  ip: string;
  prefixLen: number;
  iface: string;
  label?: string;
  broadcast?: string;
  /** an IPv6 address (added with nodad) */
  ipv6?: true;
}

/** One IPv6 address of this host, with its DAD state. */
export interface Ipv6HostAddr {
  iface: string;
  local: string;
  prefixlen: number;
  scope?: string;
  tentative?: boolean;
  dadfailed?: boolean;
}

type AddrJson = { ifname: string; addr_info?: { family: string; local: string; prefixlen: number; scope?: string; tentative?: boolean; dadfailed?: boolean }[] }[];

function ipv6Of(links: AddrJson): Ipv6HostAddr[] {
  const out: Ipv6HostAddr[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      if (a.family !== 'inet6') continue;
      out.push({ iface: l.ifname, local: a.local, prefixlen: a.prefixlen, ...(a.scope ? { scope: a.scope } : {}), ...(a.tentative ? { tentative: true } : {}), ...(a.dadfailed ? { dadfailed: true } : {}) });
    }
  }
  return out;
}

/** IPv6 addresses of every interface (or of `iface`). */
export async function listIpv6(iface?: string): Promise<Ipv6HostAddr[]> {
  const r = await run(['ip', '-6', '-json', 'addr', 'show', ...(iface ? ['dev', iface] : [])]);
  if (r.code !== 0) return [];
  return ipv6Of(JSON.parse(r.stdout || '[]') as AddrJson);
}

/** The same, synchronously: start-up planning (planVips is synchronous, the daemon hands it the IPv4 list only). */
export function listIpv6Sync(): Ipv6HostAddr[] {
  const r = spawnSync('ip', ['-6', '-json', 'addr', 'show'], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return ipv6Of(JSON.parse(r.stdout || '[]') as AddrJson);
}

export const isIpv6Resource = (r: Extract<Resource, { kind: 'ip' }>): boolean => r.ip.includes(':');

/**
 * Resolve an IP resource against this host: the interface (given, or the one with an address in the VIP's
 * subnet, as Heartbeat's findif does), the prefix (given, else that address's) and the broadcast.
 */
export function planVip(res: Extract<Resource, { kind: 'ip' }>, addrs: Ipv4Addr[], addrs6?: Ipv6HostAddr[]): VipPlan {
  if (isIpv6Resource(res)) return planVip6(res, addrs6 ?? listIpv6Sync());
  let iface = res.nic;
  let prefixLen = res.prefixLen;
  if (!iface) {
    const match = addrs.filter((a) => a.local !== res.ip && inSubnet(res.ip, a.local, prefixLen ?? a.prefixlen));
    if (!match.length) throw configError(`no interface has an address in the subnet of ${res.ip}`, `haresources: ${res.raw}`, `name the interface (${res.agent}::${res.ip}/24/eth0) or add an address in that subnet`);
    iface = match[0]!.iface;
    prefixLen ??= match[0]!.prefixlen;
  } else if (prefixLen === undefined) {
    const m = addrs.find((a) => a.iface === iface && inSubnet(res.ip, a.local, a.prefixlen));
    prefixLen = m?.prefixlen ?? 32;
  }
  const plan: VipPlan = { ip: res.ip, prefixLen: prefixLen!, iface: iface! };
  if (res.label) plan.label = `${iface}:${res.label}`.slice(0, 15);
  else if (res.agent === 'IPaddr') {
    // Heartbeat's IPaddr puts the address on an alias label (eth0:0); keep that visible in `ip addr`
    plan.label = `${iface}:0`.length <= 15 ? `${iface}:0` : undefined;
  }
  if (res.broadcast) plan.broadcast = res.broadcast;
  return plan;
}

/**
 * An IPv6 resource: the interface (given, or the one with a global address whose prefix holds the VIP, as the
 * IPv6addr agent finds it) and the prefix (given, else that address's; 128 on a named interface without one).
 */
export function planVip6(res: Extract<Resource, { kind: 'ip' }>, addrs: Ipv6HostAddr[]): VipPlan {
  const onLink = addrs.filter((a) => a.scope !== 'link' && a.local !== res.ip && a.prefixlen < 128 && (!res.nic || a.iface === res.nic) && ipv6InPrefix(res.ip, a.local, res.prefixLen ?? a.prefixlen));
  const iface = res.nic ?? onLink[0]?.iface;
  if (!iface) throw configError(`no interface has an IPv6 prefix that contains ${res.ip}`, `haresources: ${res.raw}`, `name the interface (${res.agent}::${res.ip}/64/eth0) or add an address of that prefix`);
  return { ip: res.ip, prefixLen: res.prefixLen ?? onLink[0]?.prefixlen ?? 128, iface, ipv6: true };
}

const vipKey = (p: VipPlan) => `${p.ip}/${p.prefixLen} ${p.iface}`;

/** Addresses we added, persisted (state dir) so that a crashed run's leftovers are removed next time. */
export class VipLedger {
  private readonly file: string;
  private entries = new Map<string, VipPlan>();
  constructor(stateDir: string) {
    this.file = join(stateDir, 'vips.json');
  }
  async load(): Promise<VipPlan[]> {
    try {
      const list = JSON.parse(await readFile(this.file, 'utf8')) as VipPlan[];
      for (const p of list) this.entries.set(vipKey(p), p);
    } catch {
      /* none */
    }
    return [...this.entries.values()];
  }
  /** Synchronous on purpose: a tiny file, written before the address is added (a crash right after is covered). */
  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.entries.values()]));
    renameSync(tmp, this.file);
  }
  add(...plans: VipPlan[]): void {
    for (const p of plans) this.entries.set(vipKey(p), p);
    this.save();
  }
  remove(...plans: VipPlan[]): void {
    for (const p of plans) this.entries.delete(vipKey(p));
    if (plans.length) this.save();
  }
  list(): VipPlan[] {
    return [...this.entries.values()];
  }
}

export type AddResult = { ok: boolean; detail: string; existed: boolean };

/** The `ip` arguments that add an address (after `ip`). */
function addArgs(p: VipPlan): string[] {
  if (p.ipv6) return ['-6', 'addr', 'add', `${p.ip}/${p.prefixLen}`, 'dev', p.iface, 'nodad'];
  return ['addr', 'add', `${p.ip}/${p.prefixLen}`, 'brd', p.broadcast ?? '+', 'dev', p.iface, ...(p.label ? ['label', p.label] : [])];
}

export async function addVip(p: VipPlan): Promise<AddResult> {
  if (p.ipv6) return addVip6(p);
  const argv = ['ip', ...addArgs(p)];
  const r = await run(argv);
  if (r.code === 0) return { ok: true, detail: argv.slice(1).join(' '), existed: false };
  // older iproute2 prints the kernel's "File exists", newer its extack "Address already assigned"
  if (/File exists|already assigned/.test(r.stderr)) return { ok: true, detail: `${p.ip} was already on ${p.iface}`, existed: true };
  return { ok: false, detail: r.stderr.trim() || `exit ${r.code}`, existed: false };
}

/**
 * The lines of an `ip -force -batch` that failed ("Command failed -:N"), and whether the batch ran to its end
 * (a line ip cannot parse ends the batch there without that line).
 */
function batchFailures(stderr: string, code: number): { failed: Set<number>; complete: boolean } {
  const failed = new Set<number>();
  for (const m of stderr.matchAll(/Command failed [^:\n]*:(\d+)/g)) failed.add(Number(m[1]) - 1);
  const last = stderr.trim().split('\n').pop() ?? '';
  return { failed, complete: code === 0 || /Command failed/.test(last) };
}

/**
 * Several addresses with one `ip -force -batch` (one process, not one per address), in order. A line that
 * failed is tried again alone (an address already there, a dadfailed IPv6 copy: addVip's answers); if ip stopped
 * before the end, the lines it may not have run are failed (and stay in the ledger, so release removes them).
 */
export async function addVips(plans: VipPlan[]): Promise<AddResult[]> {
  if (plans.length === 1) return [await addVip(plans[0]!)];
  // a batch line takes no options (-6): the address says its family
  const line = (p: VipPlan) => addArgs(p).filter((a) => a !== '-6').join(' ');
  const r = await run(['ip', '-force', '-batch', '-'], { input: plans.map(line).join('\n') + '\n' });
  const { failed, complete } = batchFailures(r.stderr, r.code);
  const lastFailed = Math.max(-1, ...failed);
  const out: AddResult[] = [];
  for (const [i, p] of plans.entries()) {
    if (!complete && i > lastFailed) out.push({ ok: false, detail: `ip -batch stopped before the end: ${r.stderr.trim().split('\n').pop()}`, existed: false });
    else if (failed.has(i)) out.push(await addVip(p));
    else out.push({ ok: true, detail: `${line(p)} (ip -batch of ${plans.length})`, existed: false });
  }
  return out;
}

/** Several addresses removed with one `ip -force -batch`; a line that failed is tried again alone (delVip's answers). */
export async function delVips(plans: VipPlan[]): Promise<{ ok: boolean; detail: string }[]> {
  if (plans.length === 1) return [await delVip(plans[0]!)];
  const r = await run(['ip', '-force', '-batch', '-'], { input: plans.map((p) => `addr del ${p.ip}/${p.prefixLen} dev ${p.iface}`).join('\n') + '\n' });
  const { failed, complete } = batchFailures(r.stderr, r.code);
  const lastFailed = Math.max(-1, ...failed);
  const out: { ok: boolean; detail: string }[] = [];
  for (const [i, p] of plans.entries()) {
    if (failed.has(i) || (!complete && i > lastFailed)) out.push(await delVip(p));
    else out.push({ ok: true, detail: `ip addr del ${p.ip}/${p.prefixLen} dev ${p.iface} (ip -batch of ${plans.length})` });
  }
  return out;
}

/** `ip -6 addr add … nodad`; a dadfailed copy already there is removed and added again (ours from then on). */
async function addVip6(p: VipPlan): Promise<AddResult> {
  const argv = ['ip', ...addArgs(p)];
  let r = await run(argv);
  if (r.code === 0) return { ok: true, detail: argv.join(' '), existed: false };
  // the kernel says "File exists" for IPv4, "ipv6: address already assigned" for IPv6
  if (!/File exists|already assigned/.test(r.stderr)) return { ok: false, detail: r.stderr.trim() || `exit ${r.code}`, existed: false };
  const copy = (await listIpv6(p.iface)).find((a) => a.local === p.ip);
  if (!copy?.dadfailed) return { ok: true, detail: `${p.ip} was already on ${p.iface}${copy?.tentative ? ' (tentative: its DAD is running, not added by hadiag)' : ''}`, existed: true };
  const del = await run(['ip', '-6', 'addr', 'del', `${p.ip}/${copy.prefixlen}`, 'dev', p.iface]);
  if (del.code !== 0) return { ok: false, detail: `a dadfailed copy of ${p.ip} is on ${p.iface} and could not be removed: ${del.stderr.trim()}`, existed: false };
  r = await run(argv);
  if (r.code !== 0) return { ok: false, detail: `removed a dadfailed copy of ${p.ip}, then: ${r.stderr.trim() || `exit ${r.code}`}`, existed: false };
  return { ok: true, detail: `replaced a dadfailed copy of ${p.ip}/${copy.prefixlen} on ${p.iface}: ${argv.join(' ')}`, existed: false };
}

/** Is this IPv6 VIP on its interface and usable (not tentative, not dadfailed)? */
export async function vip6State(p: VipPlan): Promise<'ok' | 'missing' | 'tentative' | 'dadfailed'> {
  const copy = (await listIpv6(p.iface)).find((a) => a.local === p.ip);
  return !copy ? 'missing' : copy.dadfailed ? 'dadfailed' : copy.tentative ? 'tentative' : 'ok';
}

export async function delVip(p: VipPlan): Promise<{ ok: boolean; detail: string }> {
  const r = await run(['ip', 'addr', 'del', `${p.ip}/${p.prefixLen}`, 'dev', p.iface]);
  if (r.code === 0) return { ok: true, detail: `ip addr del ${p.ip}/${p.prefixLen} dev ${p.iface}` };
  if (/Cannot assign|not found|No such/i.test(r.stderr)) return { ok: true, detail: `${p.ip} was not on ${p.iface}` };
  return { ok: false, detail: r.stderr.trim() || `exit ${r.code}` };
}

/** The program Heartbeat would run for a script resource. */
export async function scriptPath(configDir: string, name: string): Promise<string> {
  for (const p of [join(configDir, 'resource.d', name), join('/etc/init.d', name)]) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw configError(`resource script ${name} not found`, `${join(configDir, 'resource.d', name)} or /etc/init.d/${name}`, 'install the script (executable) or fix haresources');
}

export interface StepResult {
  resource: string;
  ok: boolean;
  code?: number;
  durationMs: number;
  detail: string;
}

export async function runScript(path: string, args: string[], op: 'start' | 'stop' | 'status', timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  const r = await run([path, ...args, op], { timeoutMs });
  return { code: r.code, out: (r.stdout + r.stderr).trim().split('\n').slice(-1)[0] ?? '' };
}

export const groupLabel = (g: ResourceGroup): string => `${g.node} ${g.resources.map((r) => r.raw).join(' ')}`;
