/** The client host as measure-failover sees it: its route to the VIP and the sysctls that decide its ARP behaviour. */
import { readFileSync } from 'node:fs';
import { envError, usageError } from '../../core/errors.js';
import { ipJson } from '../io/exec.js';

export interface Route {
  iface: string;
  clientIp?: string;
  clientMac?: string;
}

/**
 * Where does this host reach the VIP? It must be on a directly connected subnet: through a router, this host
 * never ARPs for the VIP (it ARPs for the router), so the takeover's ARP side cannot be seen from here.
 */
export async function resolveRoute(vip: string, iface?: string): Promise<Route> {
  if (iface) {
    const links = await ipJson<{ ifname: string; address?: string; operstate?: string }[]>(['link', 'show']).catch(() => []);
    if (!links.some((l) => l.ifname === iface)) throw envError(`no interface ${iface}`, 'IFACE', `name one of: ${links.map((l) => l.ifname).join(', ') || '(none)'}`);
  }
  let routes: { dst?: string; dev?: string; gateway?: string; prefsrc?: string; type?: string }[];
  try {
    routes = await ipJson(['route', 'get', vip, ...(iface ? ['oif', iface] : [])]);
  } catch {
    throw envError(`no route to ${vip}`, iface ? `via ${iface}` : 'routing table', 'give the interface on the VIP’s subnet, or bring it up');
  }
  const r = routes[0];
  if (!r?.dev) throw envError(`no route to ${vip}`, 'routing table', 'give the interface on the VIP’s subnet');
  if (r.type === 'local' || r.dev === 'lo') throw usageError(`${vip} is an address of this host`, 'route', 'run measure-failover on a client of the cluster, not on the node that holds the VIP');
  if (r.gateway) {
    throw usageError(
      `${vip} is not on a directly connected subnet`,
      `route via ${r.gateway} dev ${r.dev}`,
      `from here only the outage length could be measured, not the ARP cause (this host ARPs for the router ${r.gateway}, not the VIP); run it on a host on the VIP's subnet`,
    );
  }
  const route: Route = { iface: r.dev };
  if (r.prefsrc) route.clientIp = r.prefsrc;
  const link = await ipJson<{ address?: string }[]>(['link', 'show', 'dev', r.dev]).catch(() => []);
  if (link[0]?.address) route.clientMac = link[0].address.toLowerCase();
  return route;
}

/** Client sysctls that decide what it does with announcements and how long it keeps a dead MAC (IPv4 or IPv6 ones). */
export function readClientSysctls(iface: string, family: 4 | 6 = 4): Record<string, number> {
  const out: Record<string, number> = {};
  const read = (path: string, key: string) => {
    try {
      out[key] = Number(readFileSync(path, 'utf8').trim());
    } catch {
      /* not there on this kernel */
    }
  };
  if (family === 6) {
    // IPv6: what decides whether an NA is taken (nd-accept-model.ts) and how long a dead MAC is kept
    for (const k of ['drop_unsolicited_na', 'accept_untracked_na', 'forwarding']) read(`/proc/sys/net/ipv6/conf/${iface}/${k}`, k);
    for (const k of ['base_reachable_time_ms', 'delay_first_probe_time', 'retrans_time_ms', 'ucast_solicit', 'mcast_solicit', 'mcast_resolicit']) read(`/proc/sys/net/ipv6/neigh/${iface}/${k}`, k);
    return out;
  }
  for (const k of ['drop_gratuitous_arp', 'arp_accept']) read(`/proc/sys/net/ipv4/conf/${iface}/${k}`, k);
  for (const k of ['base_reachable_time_ms', 'delay_first_probe_time', 'ucast_solicit', 'mcast_solicit', 'mcast_resolicit']) read(`/proc/sys/net/ipv4/neigh/${iface}/${k}`, k);
  return out;
}

