/**
 * IPv6: what this host's kernel did with each neighbour-discovery announcement of the VIP, told by the IPv6
 * acceptance model (models/resolution/nd-accept-model.ts) from the client's sysctls and its entry for the VIP
 * just before the frame. The measure layer reads ND as its ARP counterpart (frames.ts); this is where the IPv6
 * reasons come from: no override flag, no target link-layer option, drop_unsolicited_na, a FAILED entry …
 */
import { predictNd, type HostNdState } from '../resolution/nd-accept-model.js';
import type { NeighState } from '../resolution/accept-model.js';
import { dstMacOf, type ArpEvent, type NeighEvent } from './events.js';
import { neighStateOf } from './neigh-events.js';

/** What the verdict is judged on: the client's sysctls then and its neighbour events for the VIP. */
export interface NdContext {
  sysctls?: Record<string, number> | undefined;
  vipNeigh: readonly NeighEvent[];
}

export interface NdVerdict {
  /** the kernel takes the announced MAC into its entry for the VIP */
  accepted: boolean;
  /** the model's reason, e.g. "override flag clear: the entry keeps … and goes STALE" */
  reason: string;
  /** the entry before the frame as assumed (from `ip monitor neigh`, else REACHABLE with the MAC before) */
  entryBefore: string;
}

const STATES: readonly NeighState[] = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'INCOMPLETE', 'PERMANENT', 'NOARP', 'NONE'];

/** The VIP's entry just before `tsMs`: the last neighbour event, else REACHABLE with `macBefore` (this host was talking to it). */
export function entryBefore(vipNeigh: readonly NeighEvent[], tsMs: number, macBefore: string | undefined): HostNdState['entry'] {
  let last: NeighEvent | undefined;
  for (const n of vipNeigh) if (n.tsMs < tsMs) last = n;
  if (!last) return { state: macBefore ? 'REACHABLE' : 'NONE', ...(macBefore ? { mac: macBefore } : {}) };
  if (last.deleted) return { state: 'NONE' };
  const st = neighStateOf(last) as NeighState;
  const state: NeighState = STATES.includes(st) ? st : 'STALE';
  const mac = last.lladdr ?? (state === 'FAILED' || state === 'INCOMPLETE' ? undefined : macBefore);
  return { state, ...(mac ? { mac } : {}), ...(last.router ? { router: true } : {}) };
}

/** The kernel's verdict on one ND announcement of the VIP. */
export function ndVerdict(e: ArpEvent, ctx: NdContext, client: { ip?: string; mac?: string }, macBefore: string | undefined): NdVerdict | undefined {
  const nd = e.nd;
  if (!nd) return undefined;
  const sys = ctx.sysctls ?? {};
  const entry = entryBefore(ctx.vipNeigh, e.tsMs, macBefore);
  const hostIps = client.ip ? [client.ip] : [];
  // an NS from the VIP asks for one of this host's addresses (its link-local one is not known here)
  if (nd.msg.kind === 'ns' && !hostIps.includes(nd.msg.target)) hostIps.push(nd.msg.target);
  if (nd.msg.kind === 'na' && !/^ff/i.test(nd.dst) && !hostIps.includes(nd.dst)) hostIps.push(nd.dst);
  const host: HostNdState = {
    hostMac: client.mac ?? '',
    hostIps,
    forwarding: sys.forwarding === 1,
    dropUnsolicitedNa: sys.drop_unsolicited_na === 1,
    entry,
  };
  if (sys.accept_untracked_na !== undefined) host.acceptUntrackedNa = sys.accept_untracked_na;
  const ethDst = nd.ethDst || dstMacOf(e, client.mac);
  const p = predictNd(nd.msg, { src: nd.src, dst: nd.dst, hopLimit: nd.hopLimit }, client.mac ? ethDst : '', host);
  const accepted = p.macAfter !== undefined && p.macAfter === e.senderMac && (p.outcome === 'update' || p.outcome === 'create' || (p.outcome === 'refresh' && entry.mac === e.senderMac));
  return { accepted, reason: p.reason, entryBefore: `${entry.state}${entry.mac ? ` ${entry.mac}` : ''}` };
}
