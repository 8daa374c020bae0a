import { run } from '../io/exec.js';
import { sleep } from '../../core/clock.js';
import { envError } from '../../core/errors.js';
import type { LabHost, LabState } from './types.js';
import { servers } from './types.js';
import { getManager } from './managers/index.js';

export interface IfaceInfo {
  up: boolean; // administratively up (flag UP)
  operstate: string;
  mac: string;
  addresses: string[]; // CIDR
}

interface IpAddrJson {
  flags?: string[];
  operstate?: string;
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
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
    addresses: (j.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  };
}

export interface VipView {
  /** servers whose interface is up and carries the VIP */
  holders: string[];
  /** servers that carry the VIP on an interface that is down (e.g. after link-down) */
  stale: string[];
}

export async function vipView(lab: LabState): Promise<VipView> {
  const view: VipView = { holders: [], stale: [] };
  const mgr = getManager(lab.manager);
  if (mgr.vipHolders) {
    view.holders = await mgr.vipHolders(lab);
    return view;
  }
  for (const h of servers(lab)) {
    const info = await ifaceInfo(h);
    if (!info?.addresses.some((a) => a.split('/')[0] === lab.vip)) continue;
    (info.up ? view.holders : view.stale).push(h.name);
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
  throw envError(
    `no single VIP holder after ${Math.round(timeoutMs / 1000)} s (holders: ${last.holders.join(', ') || 'none'})`,
    `lab ${lab.id}`,
    `read the manager logs: ${logs || lab.dir}`,
  );
}
