/**
 * The node's start-up, one step per job: read the configuration, make the state directory, raise the
 * priority, resolve where each VIP goes, remove what a crashed run left behind, and build the machine.
 * The daemon (daemon.ts) runs these in order, with the sockets, the announcer and the control socket.
 */
import { hostname, setPriority } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { configError } from '../../core/errors.js';
import { nowMs } from '../../core/clock.js';
import { loadConfigDir } from '../config/load.js';
import type { Resource, ResourceGroup } from '../../models/config/haresources.js';
import { NodeMachine } from '../../models/node/machine.js';
import type { DaemonEmit } from './daemon-log.js';
import { NodeLog } from './log.js';
import { delVip, groupLabel, isIpv6Resource, listIpv6Sync, planVip, VipLedger, type Ipv4Addr, type VipPlan } from './resources.js';
import { loadavg, nextGeneration, nodeUuid } from './state-files.js';
import type { NodeOptions } from './options.js';

/** nice value of the node (Heartbeat runs at realtime priority: timers and announcements must not wait) */
export const NODE_PRIORITY = -10;

export type NodeConfig = Awaited<ReturnType<typeof loadConfigDir>>;

/** Read ha.cf, authkeys and haresources and find this node in them. */
export async function loadNodeConfig(o: NodeOptions): Promise<{ cfg: NodeConfig; name: string }> {
  const cfg = await loadConfigDir(o.configDir, { checkMode: o.checkMode ?? true });
  const hacf = cfg.hacf;
  const name = (o.node ?? hostname()).toLowerCase();
  if (!hacf.nodes.includes(name)) {
    throw configError(`this node "${name}" is not a node of ha.cf`, join(o.configDir, 'ha.cf'), `add "node ${name}" or run with --node ${hacf.nodes.join('|')} (Heartbeat uses uname -n)`);
  }
  if (hacf.nodes.length > 2) process.stderr.write(`hadiag: warning: ${hacf.nodes.length} nodes: haresources failover is a two-node protocol in Heartbeat\n`);
  return { cfg, name };
}

/** The node's log (ha.cf's logfile / logfacility), with the configuration's diagnostics as its first lines. */
export function openNodeLog(o: NodeOptions, cfg: NodeConfig, name: string): NodeLog {
  const { hacf } = cfg;
  return new NodeLog({ node: name, json: o.json, debug: !!o.debug, logfile: hacf.logfile && !hacf.logfile.startsWith('/dev/') ? hacf.logfile : undefined, debugfile: hacf.debugfile && !hacf.debugfile.startsWith('/dev/') ? hacf.debugfile : undefined, logfacility: hacf.logfacility });
}

export function reportDiagnostics(cfg: NodeConfig, log: DaemonEmit): void {
  for (const d of cfg.diagnostics) log.emit('warn', 'config', `${d.file}${d.line ? ':' + d.line : ''}: ${d.message}${d.fix ? ' — ' + d.fix : ''}`);
}

export async function makeStateDir(stateDir: string): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
}

/** Heartbeat runs at realtime priority: timers must fire on time under load. */
export function raisePriority(): void {
  try {
    setPriority(NODE_PRIORITY);
  } catch {
    /* not permitted: normal priority */
  }
}

/** Where each IP resource goes (findif): the interface and prefix of the address it falls in. */
export function planVips(groups: ResourceGroup[], addrs: Ipv4Addr[]): Map<Resource, VipPlan> {
  const plans = new Map<Resource, VipPlan>();
  const ips = groups.flatMap((g) => g.resources.filter((r): r is Extract<Resource, { kind: 'ip' }> => r.kind === 'ip'));
  const addrs6 = ips.some(isIpv6Resource) ? listIpv6Sync() : [];
  for (const r of ips) plans.set(r, planVip(r, addrs, addrs6));
  return plans;
}

/** Remove the addresses a crashed run added (its ledger); the ledger is ours from now on. */
export async function cleanStaleVips(stateDir: string, log: DaemonEmit): Promise<VipLedger> {
  const ledger = new VipLedger(stateDir);
  for (const p of await ledger.load()) {
    const r = await delVip(p);
    log.emit(r.ok ? 'warn' : 'error', 'stale-vip', `removing ${p.ip}/${p.prefixLen} on ${p.iface} left by an earlier run: ${r.detail}`);
    if (r.ok) ledger.remove(p);
  }
  return ledger;
}

/** A VIP already on this host, not added by us: someone else may hold it (we never remove it). */
export function warnPresentVips(groups: ResourceGroup[], localAddrs: Set<string>, log: DaemonEmit): void {
  const ips = groups.flatMap((g) => g.resources.filter((r): r is Extract<Resource, { kind: 'ip' }> => r.kind === 'ip'));
  const addrs6 = ips.some(isIpv6Resource) ? listIpv6Sync() : [];
  for (const r of ips) {
    if (localAddrs.has(r.ip)) {
      log.emit('warn', 'vip-present', `${r.ip} is already configured on this host (not by hadiag): another holder may exist; hadiag will not remove it`);
    }
    const copy = addrs6.find((a) => a.local === r.ip);
    if (!copy) continue;
    if (copy.dadfailed) log.emit('warn', 'vip-present', `${r.ip} is on ${copy.iface} in state dadfailed (another host answered its DAD: a split brain or a leftover): hadiag replaces it when it takes the VIP`);
    else log.emit('warn', 'vip-present', `${r.ip} is already configured on ${copy.iface} (not by hadiag): another holder may exist; hadiag will not remove it`);
  }
}

/** The machine for this start (and its start time): the next generation, our uuid, ha.cf's timers and haresources' groups. */
export async function buildMachine(cfg: NodeConfig, name: string, stateDir: string): Promise<{ machine: NodeMachine; now: number }> {
  const { hacf } = cfg;
  const generation = await nextGeneration(stateDir);
  const uuid = await nodeUuid(stateDir);
  const now = nowMs();
  const machine = new NodeMachine(
    {
      node: name,
      nodes: hacf.nodes,
      keepaliveMs: hacf.keepaliveMs,
      deadtimeMs: hacf.deadtimeMs,
      warntimeMs: hacf.warntimeMs,
      initdeadMs: hacf.initdeadMs,
      // Heartbeat waits RQSTDELAY (10 s) when both nodes start at once; with fast timers, less
      rqstDelayMs: Math.min(10_000, Math.max(hacf.initdeadMs, 2 * hacf.deadtimeMs)),
      autoFailback: hacf.autoFailback,
      groups: cfg.haresources.map((g) => ({ node: g.node, label: groupLabel(g), key: g.resources[0]?.raw, ips: g.resources.filter((r) => r.kind === 'ip').map((r) => r.raw) })),
      generation,
      uuid,
      load: loadavg,
      ping: { nodes: hacf.pingNodes.map((p) => ({ name: p.name, hosts: p.hosts })), deadpingMs: hacf.deadpingMs, ipfail: hacf.ipfail },
    },
    { now },
  );
  return { machine, now };
}
