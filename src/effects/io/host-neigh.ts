/**
 * What decides ARP and IPv6 neighbour-discovery acceptance and recovery on one interface of this host (current
 * network namespace): sysctls, the neighbour entry for an IP, the ARP-family nftables rules, the interface's
 * own addresses.
 * Reads /proc/sys, `ip -json` and `nft -j`; the data types and the arithmetic on them are in
 * models/resolution/host-state.ts.
 */
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { parseNeighLine } from '../../models/measure/neigh-events.js';
import { ipJson, run } from './exec.js';
import { envError } from '../../core/errors.js';
import type { NeighState } from '../../models/resolution/accept-model.js';
import { parseNftJson } from '../../models/resolution/nft-arp-filter.js';
import { parseNeigh6Line, type ArpFirewall, type IfaceInfo, type Ipv6Addr, type NdSysctls, type NeighEntry, type NeighSysctls } from '../../models/resolution/host-state.js';

async function readNum(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Read the sysctls of `iface`. Throws an environment error if the interface has no IPv4 config here. */
export async function readNeighSysctls(iface: string): Promise<NeighSysctls> {
  const conf = (f: string) => readNum(`/proc/sys/net/ipv4/conf/${iface}/${f}`);
  const all = (f: string) => readNum(`/proc/sys/net/ipv4/conf/all/${f}`);
  const neigh = (f: string) => readNum(`/proc/sys/net/ipv4/neigh/${iface}/${f}`);
  const accept = await conf('arp_accept');
  if (accept === undefined) throw envError(`no interface ${iface}`, `/proc/sys/net/ipv4/conf/${iface}`, 'give an interface from `ip link` (in this network namespace)');
  const max = async (f: string) => Math.max((await conf(f)) ?? 0, (await all(f)) ?? 0);
  return {
    iface,
    arpAccept: await max('arp_accept'),
    arpIgnore: await max('arp_ignore'),
    arpAnnounce: await max('arp_announce'),
    dropGratuitousArp: ((await conf('drop_gratuitous_arp')) ?? 0) > 0 || ((await all('drop_gratuitous_arp')) ?? 0) > 0,
    ...(await neighTimers(neigh)),
    // locktime is in USER_HZ (1/100 s)
    locktimeMs: ((await neigh('locktime')) ?? 100) * 10,
    gcStaleTimeMs: ((await neigh('gc_stale_time')) ?? 60) * 1000,
  };
}

/** The neighbour timers both families have under /proc/sys/net/ipv{4,6}/neigh/IF (kernel defaults when unreadable). */
async function neighTimers(neigh: (f: string) => Promise<number | undefined>) {
  return {
    baseReachableTimeMs: (await neigh('base_reachable_time_ms')) ?? 30_000,
    delayFirstProbeTimeMs: ((await neigh('delay_first_probe_time')) ?? 5) * 1000,
    retransTimeMs: (await neigh('retrans_time_ms')) ?? 1000,
    ucastSolicit: (await neigh('ucast_solicit')) ?? 3,
    mcastSolicit: (await neigh('mcast_solicit')) ?? 3,
    mcastResolicit: (await neigh('mcast_resolicit')) ?? 0,
  };
}

/**
 * Read the IPv6 neighbour-discovery sysctls of `iface` (per interface: the kernel reads idev->cnf, conf/all is
 * not combined). Throws an environment error when the interface has no IPv6 (no /proc/sys/net/ipv6/conf/IF).
 */
export async function readNdSysctls(iface: string): Promise<NdSysctls> {
  const conf = (f: string) => readNum(`/proc/sys/net/ipv6/conf/${iface}/${f}`);
  const neigh = (f: string) => readNum(`/proc/sys/net/ipv6/neigh/${iface}/${f}`);
  const forwarding = await conf('forwarding');
  if (forwarding === undefined) throw envError(`no IPv6 on ${iface}`, `/proc/sys/net/ipv6/conf/${iface}`, 'give an interface with IPv6 (ip -6 addr), or an IPv4 --vip');
  return {
    iface,
    disableIpv6: ((await conf('disable_ipv6')) ?? 0) > 0,
    forwarding: forwarding > 0,
    dropUnsolicitedNa: ((await conf('drop_unsolicited_na')) ?? 0) > 0,
    acceptUntrackedNa: await conf('accept_untracked_na'),
    ndiscNotify: ((await conf('ndisc_notify')) ?? 0) > 0,
    acceptDad: (await conf('accept_dad')) ?? 1,
    dadTransmits: (await conf('dad_transmits')) ?? 1,
    forceTllao: ((await conf('force_tllao')) ?? 0) > 0,
    ...(await neighTimers(neigh)),
    gcStaleTimeMs: ((await neigh('gc_stale_time')) ?? 60) * 1000,
  };
}

/** The IPv6 addresses of `iface` with their DAD flags (tentative, dadfailed, nodad). */
export async function readIpv6Addrs(iface: string): Promise<Ipv6Addr[]> {
  const list = await ipJson<{ addr_info?: { family: string; local: string; prefixlen: number; scope?: string; tentative?: boolean; dadfailed?: boolean; nodad?: boolean }[] }[]>(['-6', 'addr', 'show', 'dev', iface]).catch(() => []);
  return (list[0]?.addr_info ?? [])
    .filter((a) => a.family === 'inet6')
    .map((a) => ({ ip: a.local, prefixLen: a.prefixlen, scope: a.scope, ...(a.tentative ? { tentative: true } : {}), ...(a.dadfailed ? { dadfailed: true } : {}), ...(a.nodad ? { nodad: true } : {}) }));
}

/** Every IPv6 neighbour entry on `iface` (with its router flag). */
export async function readNeighTable6(iface: string): Promise<NeighEntry[]> {
  const list = await ipJson<IpNeighJson[]>(['-6', '-s', 'neigh', 'show', 'dev', iface]);
  return list.map(toEntry);
}

interface IpNeighJson {
  dst: string;
  lladdr?: string;
  state?: string[];
  used?: number;
  confirmed?: number;
  updated?: number;
  probes?: number;
  router?: unknown;
}

/** The neighbour entry for `ip` on `iface`, or state NONE. */
export async function readNeighEntry(iface: string, ip: string): Promise<NeighEntry> {
  const list = await ipJson<IpNeighJson[]>(['-s', 'neigh', 'show', 'dev', iface, 'to', ip]);
  const e = list.find((x) => x.dst === ip);
  if (!e) return { ip, state: 'NONE' };
  return toEntry(e);
}

/** Every IPv6 neighbour entry of the host as `ip -6 -json neigh` prints it ([] when ip fails): the client book's IPv6 feed. */
export async function readNeighJson6(): Promise<{ dst?: string; dev?: string; lladdr?: string; state?: string[] }[]> {
  return ipJson<{ dst?: string; dev?: string; lladdr?: string; state?: string[] }[]>(['-6', 'neigh', 'show']).catch(() => []);
}

/** Every IPv4 neighbour entry on `iface`. */
export async function readNeighTable(iface: string): Promise<NeighEntry[]> {
  const list = await ipJson<IpNeighJson[]>(['-4', '-s', 'neigh', 'show', 'dev', iface]);
  return list.map(toEntry);
}

function toEntry(e: IpNeighJson): NeighEntry {
  const states = e.state ?? [];
  const state = (['PERMANENT', 'NOARP', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'INCOMPLETE'] as NeighState[]).find((s) => states.includes(s)) ?? 'NONE';
  return { ip: e.dst, state, mac: e.lladdr?.toLowerCase(), updatedS: e.updated, confirmedS: e.confirmed, usedS: e.used, probes: e.probes, router: e.router !== undefined };
}

export async function readIfaceInfo(iface: string): Promise<IfaceInfo> {
  const list = await ipJson<{ ifname: string; address?: string; flags?: string[]; addr_info?: { family: string; local: string; prefixlen: number }[] }[]>(['addr', 'show', 'dev', iface]).catch(() => {
    throw envError(`no interface ${iface}`, '`ip addr show`', 'give an interface from `ip link` (in this network namespace)');
  });
  const l = list[0];
  if (!l) throw envError(`no interface ${iface}`, '`ip addr show`', 'give an interface from `ip link`');
  return {
    iface,
    mac: (l.address ?? '').toLowerCase(),
    up: (l.flags ?? []).includes('UP'),
    ipv4: (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => ({ ip: a.local, prefixLen: a.prefixlen })),
  };
}

/** The ARP-family nftables ruleset (arptables-nft rules appear here too). */
export async function readArpFirewall(): Promise<ArpFirewall> {
  let r;
  try {
    r = await run(['nft', '-j', 'list', 'ruleset', 'arp'], { timeoutMs: 10_000 });
  } catch {
    return { available: false, ruleset: { chains: [], rules: [] }, note: 'nft is not installed: ARP firewall rules not checked' };
  }
  if (r.code !== 0) return { available: false, ruleset: { chains: [], rules: [] }, note: `nft failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}` };
  try {
    return { available: true, ruleset: parseNftJson(JSON.parse(r.stdout || '{}')) };
  } catch {
    return { available: false, ruleset: { chains: [], rules: [] }, note: 'nft printed something that is not JSON' };
  }
}

export interface NeighWatch {
  stop(): void;
}

/**
 * Follow neighbour-table changes on `iface` (IPv4 and IPv6) as they happen (`ip -ts monitor neigh`), so locktime decisions use
 * the real time of the last change instead of the kernel's whole-second counter. The child is ours: stop()
 * kills it by PID.
 */
export function watchNeigh(iface: string, onChange: (ip: string, e: { state: NeighState; mac?: string; router?: boolean }, tsMs: number) => void): NeighWatch {
  const child = spawn('ip', ['-ts', 'monitor', 'neigh', 'dev', iface], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TZ: 'UTC' } });
  child.on('error', () => undefined);
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const now = performance.timeOrigin + performance.now();
      const ev = parseNeighLine(line, now);
      if (!ev) {
        const v6 = parseNeigh6Line(line, now);
        if (v6) onChange(v6.ip, { state: v6.state, mac: v6.mac, router: v6.router }, v6.tsMs);
        continue;
      }
      const state = ev.deleted ? 'NONE' : ((ev.states[0] as NeighState | undefined) ?? 'NONE');
      onChange(ev.ip, { state, mac: ev.deleted ? undefined : ev.lladdr }, ev.tsMs);
    }
  });
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      if (child.pid !== undefined && child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
