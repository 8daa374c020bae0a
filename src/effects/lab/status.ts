import { alive } from '../io/netns.js';
import { mainPid } from './managers/common.js';
import { labHost, labVips, type LabState, type LabVip } from './types.js';
import { ifaceInfo, vipView } from './vip.js';

export interface HostStatus {
  name: string;
  role: 'server' | 'client';
  netns: string;
  ifname: string;
  address: string;
  address6?: string;
  /** clients: the VIPs it talks to */
  vips?: string[];
  mac: string;
  link: 'up' | 'down' | 'gone';
  holdsVip: boolean;
  profile?: string;
  manager?: { name: string; pid?: number; running: boolean; logs: string[] };
}

export interface LabStatus {
  id: string;
  dir: string;
  ready: boolean;
  manager: string;
  timers: string;
  timerSummary: string;
  subnet: string;
  vip: string;
  /** every VIP (vips[0] = vip) */
  vips: LabVip[];
  vipHolders: string[];
  /** several VIPs: servers holding some but not all */
  vipPartial?: { host: string; held: number }[];
  /** IPv6 VIPs still tentative (duplicate-address detection) or dadfailed on a server, as `ADDR on HOST` */
  vipTentative?: string[];
  /** servers with the VIP on an interface that is down */
  vipStale: string[];
  /** healthy = exactly one VIP holder and every manager running */
  healthy: boolean;
  hosts: HostStatus[];
  net: LabState['net'];
  faults: LabState['faults'];
  /** --heartbeat-link separate: the heartbeat bridge, subnet, and each server's heartbeat interface state */
  heartbeatLink?: { bridge: string; subnet: string; links: { host: string; ifname: string; address: string; link: 'up' | 'down' | 'gone' }[] };
  /** --ping-node: the ping node's address */
  pingNode?: string;
}

export async function labStatus(lab: LabState): Promise<LabStatus> {
  const view = await vipView(lab);
  const hosts: HostStatus[] = [];
  const vipSet = new Set(labVips(lab).map((v) => v.address));
  const tentative: string[] = [];
  for (const h of lab.hosts) {
    const info = await ifaceInfo(h);
    if (h.role === 'server') for (const a of [...(info?.tentative ?? []), ...(info?.dadfailed ?? [])].filter((x) => vipSet.has(x))) tentative.push(`${a} on ${h.name}${info!.dadfailed.includes(a) ? ' (dadfailed)' : ''}`);
    const pid = mainPid(h);
    hosts.push({
      name: h.name,
      role: h.role,
      netns: h.netns,
      ifname: h.ifname,
      address: h.address,
      ...(h.address6 ? { address6: h.address6 } : {}),
      ...(h.vips ? { vips: h.vips } : {}),
      mac: h.mac,
      link: !info ? 'gone' : info.up ? 'up' : 'down',
      holdsVip: view.holders.includes(h.name),
      ...(h.profile ? { profile: h.profile } : {}),
      ...(h.manager ? { manager: { name: lab.manager, ...(pid ? { pid } : {}), running: pid !== undefined && alive(pid), logs: h.manager.logs } } : {}),
    });
  }
  const hbLinks: NonNullable<LabStatus['heartbeatLink']>['links'] = [];
  for (const h of lab.hosts) {
    if (!h.hb) continue;
    const info = await ifaceInfo({ ...h, ifname: h.hb.ifname });
    hbLinks.push({ host: h.name, ifname: h.hb.ifname, address: h.hb.address, link: !info ? 'gone' : info.up ? 'up' : 'down' });
  }
  const managersUp = hosts.filter((h) => h.role === 'server').every((h) => h.manager?.running);
  return {
    id: lab.id,
    dir: lab.dir,
    ready: lab.ready,
    manager: lab.manager,
    timers: lab.timers.text,
    timerSummary: lab.timers.summary,
    subnet: lab.subnet,
    vip: lab.vip,
    vips: labVips(lab),
    vipHolders: view.holders,
    ...(view.partial?.length ? { vipPartial: view.partial } : {}),
    ...(tentative.length ? { vipTentative: tentative } : {}),
    vipStale: view.stale,
    healthy: view.holders.length === 1 && managersUp,
    hosts,
    net: lab.net,
    faults: lab.faults,
    ...(lab.heartbeatLink ? { heartbeatLink: { ...lab.heartbeatLink, links: hbLinks } } : {}),
    ...(lab.pingNode ? { pingNode: lab.pingNode } : {}),
  };
}

/** argv that runs `cmd` on a lab host: in its network namespace, and for heartbeat nodes also in its UTS + mount namespaces. */
export function hostCommand(lab: LabState, hostName: string, cmd: string[]): string[] {
  const h = labHost(lab, hostName);
  const pid = mainPid(h);
  if (h.manager?.enter === 'uts+mount' && pid) return ['nsenter', '--target', String(pid), '--net', '--uts', '--mount', '--', ...cmd];
  return ['ip', 'netns', 'exec', h.netns, ...cmd];
}
