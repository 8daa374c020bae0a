import { run } from '../io/exec.js';
import { sleep } from '../../core/clock.js';
import { envError } from '../../core/errors.js';
import type { LabHost, LabState } from './types.js';
import { labVips, servers, vipsHeld } from './types.js';
import { getManager } from './managers/index.js';

export interface IfaceInfo {
  up: boolean; // administratively up (flag UP)
  operstate: string;
  mac: string;
  addresses: string[]; // CIDR, IPv4 then global IPv6
  /** IPv6 addresses still in duplicate-address detection (tentative) or failed it (dadfailed) */
  tentative: string[];
  dadfailed: string[];
}

interface IpAddrJson {
  flags?: string[];
  operstate?: string;
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string; tentative?: boolean; dadfailed?: boolean }[];
}

/** `ip -n NS -json addr show dev IF`; undefined if the namespace or interface is gone. */
export async function ifaceInfo(host: LabHost): Promise<IfaceInfo | undefined> {
  const r = await run(['ip', '-n', host.netns, '-json', 'addr', 'show', 'dev', host.ifname]);
  if (r.code !== 0 || !r.stdout.trim()) return undefined;
  const j = (JSON.parse(r.stdout) as IpAddrJson[])[0];
  if (!j) return undefined;
  return {
    up: (j.flags ?? []).includes('UP'),
    operstate: j.operstate ?? 'UNKNOWN',
    mac: j.address ?? '',
    addresses: (j.addr_info ?? []).filter((a) => a.family === 'inet' || (a.family === 'inet6' && a.scope !== 'link')).map((a) => `${a.local}/${a.prefixlen}`),
    tentative: (j.addr_info ?? []).filter((a) => a.tentative && !a.dadfailed).map((a) => a.local),
    dadfailed: (j.addr_info ?? []).filter((a) => a.dadfailed).map((a) => a.local),
  };
}

export interface VipView {
  /** servers whose interface is up and carries the VIP (every VIP of the lab, when it has several) */
  holders: string[];
  /** servers that carry the VIP on an interface that is down (e.g. after link-down) */
  stale: string[];
  /** several VIPs: servers (interface up) that carry some of them but not all, with how many */
  partial?: { host: string; held: number }[];
}


export async function vipView(lab: LabState): Promise<VipView> {
  const view: VipView = { holders: [], stale: [] };
  const mgr = getManager(lab.manager);
  if (mgr.vipHolders) {
    view.holders = await mgr.vipHolders(lab);
    return view;
  }
  const vips = labVips(lab).map((v) => v.address);
  for (const h of servers(lab)) {
    const info = await ifaceInfo(h);
    // a tentative IPv6 address neither answers nor is announced yet: not held until DAD is over
    const usable = info ? info.addresses.filter((a) => !info.tentative.includes(a.split('/')[0]!) && !info.dadfailed.includes(a.split('/')[0]!)) : [];
    const held = info ? vipsHeld(usable, vips) : 0;
    if (held === 0) continue;
    if (!info!.up) view.stale.push(h.name);
    else if (held === vips.length) view.holders.push(h.name);
    else (view.partial ??= []).push({ host: h.name, held });
  }
  return view;
}

/** Wait until exactly one server holds the VIP; returns its name. */
export async function waitForVipHolder(lab: LabState, timeoutMs: number, opts: { not?: string } = {}): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: VipView = { holders: [], stale: [] };
  while (Date.now() < deadline) {
    last = await vipView(lab);
    if (last.holders.length === 1 && last.holders[0] !== opts.not) return last.holders[0]!;
    await sleep(100);
  }
  const logs = servers(lab).flatMap((h) => h.manager?.logs ?? []).join(', ');
  const partial = last.partial?.length ? `; partly: ${last.partial.map((p) => `${p.host} ${p.held} of ${labVips(lab).length}`).join(', ')}` : '';
  throw envError(
    `no single VIP holder after ${Math.round(timeoutMs / 1000)} s (holders: ${last.holders.join(', ') || 'none'}${partial})`,
    `lab ${lab.id}`,
    `read the manager logs: ${logs || lab.dir}`,
  );
}
