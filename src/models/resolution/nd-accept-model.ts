/**
 * Would this Linux host's kernel create or change its neighbour entry when this neighbour-discovery frame
 * arrives? A pure prediction from the state *before* the frame, following net/ipv6/ndisc.c (ndisc_rcv,
 * ndisc_recv_na, ndisc_recv_ns) and neigh_update() in net/core/neighbour.c as of Linux 6.x, checked live in
 * test/integration/garp-ipv6.test.ts (docs/ipv6.md has the measured table). The entry is the NA's *target* or
 * the NS's *source*.
 *
 * Before any of it: a frame to another host's unicast MAC is not processed (PACKET_OTHERHOST); to a multicast
 * address the host has not joined (ff02::1 and the solicited-node groups of its addresses are joined), or to a
 * unicast address not its own, neither. ND messages with a hop limit other than 255 or a code other than 0, or
 * an option of length 0, are dropped.
 *
 * NA (ndisc_recv_na):
 *  - a multicast target, or the solicited flag on a multicast destination: dropped;
 *  - drop_unsolicited_na=1 drops every NA with the solicited flag clear (it wins over accept_untracked_na);
 *  - a target that is one of this host's addresses: a tentative one fails DAD, else the NA is ignored;
 *  - no entry: nothing, unless the host forwards (forwarding=1) and accept_untracked_na is 1 (or 2 and the
 *    source is on a prefix of the interface) and the NA carries a target link-layer option: a STALE entry;
 *  - a FAILED entry is never repaired by an NA; PERMANENT/NOARP never change;
 *  - an INCOMPLETE entry takes the target link-layer address whatever the O flag (REACHABLE if solicited, else
 *    STALE); without that option nothing changes;
 *  - a valid entry: without the option the MAC stays; a different MAC with O set replaces it (REACHABLE if S,
 *    else STALE); with O clear the MAC stays and a REACHABLE entry goes STALE (weak override), others do not
 *    change; the same MAC: REACHABLE if S, else the state stays. The router flag follows R unless O was clear
 *    with a different MAC; a router entry losing it makes the host drop the routes through it.
 *
 * NS (ndisc_recv_ns): only an NS for one of this host's (non-tentative) addresses is processed. From :: (DAD)
 * it teaches nothing (for a tentative address of this host it fails DAD); otherwise the source's entry is
 * created or updated to the source link-layer address, STALE, overriding whatever MAC it had — an NS to a
 * multicast destination without that option creates nothing. Unlike an NA it also repairs a FAILED entry. The
 * host then answers with an NA sent through that entry, which puts a STALE entry in DELAY at once (measured).
 */
import { isGroupMac } from '../../codecs/addr.js';
import type { NdMessage } from '../../codecs/nd.js';
import type { Ipv6Header } from '../../codecs/ipv6.js';
import type { NeighState, Prediction } from './accept-model.js';

export interface HostNdState {
  /** this host's MAC on the interface */
  hostMac: string;
  /** this host's IPv6 addresses on the interface (link-local included) */
  hostIps: string[];
  /** those still in DAD (tentative) */
  tentativeIps?: string[];
  /** net.ipv6.conf.IF.forwarding */
  forwarding: boolean;
  /** net.ipv6.conf.IF.drop_unsolicited_na */
  dropUnsolicitedNa: boolean;
  /** net.ipv6.conf.IF.accept_untracked_na (undefined: the kernel has no such sysctl, < 5.18) */
  acceptUntrackedNa?: number;
  /** for accept_untracked_na=2: is the NA's IPv6 source on a prefix of the interface (default true) */
  sourceOnLink?: boolean;
  /** the entry for the NA's target / the NS's source before the frame */
  entry: { state: NeighState; mac?: string; router?: boolean };
}

export interface NdPrediction extends Prediction {
  /** the address whose entry this is about */
  ip: string;
  /** the entry's router flag after the frame (undefined: no entry) */
  routerAfter?: boolean;
  /** the frame makes one of this host's tentative addresses fail DAD */
  dadFailure?: string;
}

const VALID: NeighState[] = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'NOARP', 'PERMANENT'];
const isMulticast6 = (ip: string) => /^ff/i.test(ip);
const lower32 = (ip: string) => ip.toLowerCase();

/** The multicast groups a host with these addresses has joined: all nodes and each solicited-node group. */
function joined(dst: string, hostIps: string[]): boolean {
  if (dst === 'ff02::1') return true;
  const m = /^ff02::1:ff([0-9a-f]{1,2}):([0-9a-f]{1,4})$/i.exec(dst);
  if (!m) return false;
  const low = ((parseInt(m[1]!, 16) << 16) | parseInt(m[2]!, 16)) >>> 0;
  return hostIps.some((ip) => (ipLow24(ip) ?? -1) === low);
}

/** The low 24 bits of an IPv6 address text. */
function ipLow24(ip: string): number | undefined {
  const words = expand(ip);
  if (!words) return undefined;
  return (((words[6]! & 0xff) << 16) | words[7]!) >>> 0;
}

/** Is `ip` inside `net`/`len` (IPv6 texts)? */
export function inPrefix6(ip: string, net: string, len: number): boolean {
  const a = expand(ip.toLowerCase());
  const b = expand(net.toLowerCase());
  if (!a || !b) return false;
  for (let i = 0, left = len; i < 8 && left > 0; i++, left -= 16) {
    const mask = left >= 16 ? 0xffff : (0xffff << (16 - left)) & 0xffff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

function expand(ip: string): number[] | undefined {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const w = [...h, ...Array(Math.max(0, fill)).fill('0'), ...t].map((x) => parseInt(x, 16));
  return w.length === 8 && w.every((x) => x >= 0 && x <= 0xffff) ? w : undefined;
}

/** Predict what the kernel does with an NA or NS (`ethDst` '' when unknown, e.g. a cooked capture). */
export function predictNd(nd: NdMessage, ip6: Pick<Ipv6Header, 'src' | 'dst' | 'hopLimit'>, ethDst: string, host: HostNdState): NdPrediction {
  const ip = nd.kind === 'na' ? nd.target : ip6.src;
  const before = host.entry;
  const keep = (reason: string, extra: Partial<NdPrediction> = {}): NdPrediction => ({
    ip,
    outcome: 'ignore',
    accepted: before.state !== 'NONE' && VALID.includes(before.state) && before.mac !== undefined && before.mac === (nd.kind === 'na' ? nd.targetLinkAddr : nd.sourceLinkAddr),
    stateAfter: before.state,
    macAfter: before.mac,
    routerAfter: before.state === 'NONE' ? undefined : Boolean(before.router),
    reason,
    ...extra,
  });
  if (ethDst && !isGroupMac(ethDst) && ethDst !== host.hostMac) return keep(`sent to another host's MAC ${ethDst}: this host does not process it`);
  const hostIps = host.hostIps.map(lower32);
  if (isMulticast6(ip6.dst) ? !joined(lower32(ip6.dst), hostIps) : !hostIps.includes(lower32(ip6.dst))) {
    return keep(`to ${ip6.dst}, ${isMulticast6(ip6.dst) ? 'a group' : 'an address'} this host does not ${isMulticast6(ip6.dst) ? 'listen to' : 'have'}: not processed`);
  }
  if (ip6.hopLimit !== 255) return keep(`hop limit ${ip6.hopLimit}: neighbour discovery is dropped unless it is 255`);
  if (nd.code !== undefined && nd.code !== 0) return keep(`ICMPv6 code ${nd.code}: neighbour discovery is dropped unless it is 0`);
  if (isMulticast6(nd.target)) return keep(`target ${nd.target} is multicast: dropped`);
  if (nd.badOptions) return keep('an option of length 0 or past the end: the whole message is dropped');
  return nd.kind === 'na' ? predictNa(nd, ip6, host, keep) : predictNs(nd, ip6, host, keep);
}

type Keep = (reason: string, extra?: Partial<NdPrediction>) => NdPrediction;

function predictNa(nd: NdMessage, ip6: Pick<Ipv6Header, 'src' | 'dst'>, host: HostNdState, keep: Keep): NdPrediction {
  const target = lower32(nd.target);
  if (isMulticast6(ip6.dst) && nd.solicited) return keep('solicited flag on an NA to a multicast address: dropped');
  if (!nd.solicited && host.dropUnsolicitedNa) return keep('drop_unsolicited_na=1 drops every NA without the solicited flag');
  if ((host.tentativeIps ?? []).map(lower32).includes(target)) return keep(`NA for this host's tentative address ${nd.target}: its DAD fails`, { dadFailure: nd.target });
  if (host.hostIps.map(lower32).includes(target)) return keep(`NA for this host's own address ${nd.target}: ignored (the kernel logs "advertised our address")`);
  const lladdr = nd.targetLinkAddr;
  const before = host.entry;
  const newState: NeighState = nd.solicited ? 'REACHABLE' : 'STALE';
  const base = { ip: nd.target };
  if (before.state === 'NONE') {
    const untracked = host.acceptUntrackedNa ?? 0;
    const accepts = untracked === 1 || (untracked === 2 && host.sourceOnLink !== false);
    if (lladdr && host.forwarding && accepts) {
      return { ...base, outcome: 'create', accepted: true, stateAfter: 'STALE', macAfter: lladdr, routerAfter: Boolean(nd.router), reason: `no entry: accept_untracked_na=${untracked} with forwarding=1 creates it, STALE` };
    }
    const why =
      host.acceptUntrackedNa === undefined
        ? 'no entry: an NA creates none (this kernel has no accept_untracked_na)'
        : !accepts
          ? `no entry: an NA creates none (accept_untracked_na=${untracked}${untracked === 2 ? ', source not on a prefix of this interface' : ''})`
          : !host.forwarding
            ? `no entry: accept_untracked_na=${untracked} creates entries only when the interface forwards (forwarding=0 here)`
            : 'no entry and no target link-layer option: nothing to create it with';
    return keep(why);
  }
  if (before.state === 'FAILED') return keep('the entry is FAILED: an NA never repairs it (only a new resolution or an NS from that address does)');
  if (before.state === 'PERMANENT' || before.state === 'NOARP') return keep(`the entry is ${before.state} (static): ND never changes it`);
  if (before.state === 'INCOMPLETE') {
    if (!lladdr) return keep(`the entry is INCOMPLETE and the NA has no target link-layer option${nd.sourceLinkAddr ? ' (it carries a source link-layer option, which an NA is not read for)' : ''}: nothing to resolve it with`);
    return { ...base, outcome: 'update', accepted: true, stateAfter: newState, macAfter: lladdr, routerAfter: Boolean(nd.router), reason: `resolves the INCOMPLETE entry (${nd.solicited ? 'solicited: REACHABLE' : 'unsolicited: STALE'}${nd.override ? '' : ', even without the override flag'})` };
  }
  const mac = lladdr ?? before.mac;
  const same = mac === before.mac;
  if (!same && !nd.override) {
    if (before.state === 'REACHABLE') {
      return { ...base, outcome: 'update', accepted: false, stateAfter: 'STALE', macAfter: before.mac, routerAfter: Boolean(before.router), reason: `override flag clear: the entry keeps ${before.mac} and goes STALE (it will probe the old MAC)` };
    }
    return keep(`override flag clear: the ${before.state} entry keeps ${before.mac}`);
  }
  const routerAfter = Boolean(nd.router);
  const routerNote = before.router && !routerAfter ? '; router flag cleared: routes through it are dropped' : '';
  if (same) {
    const stateAfter = newState === 'STALE' ? before.state : 'REACHABLE';
    const what = lladdr ? 'same MAC' : `no target link-layer option: the MAC stays ${before.mac}`;
    return { ...base, outcome: 'refresh', accepted: Boolean(lladdr), stateAfter, macAfter: before.mac, routerAfter, reason: `${what}${stateAfter !== before.state ? `; confirmed ${stateAfter}` : '; state unchanged'}${routerNote}` };
  }
  return { ...base, outcome: 'update', accepted: true, stateAfter: newState, macAfter: mac, routerAfter, reason: `override flag set: the entry takes ${mac}, ${newState}${routerNote}` };
}

function predictNs(nd: NdMessage, ip6: Pick<Ipv6Header, 'src' | 'dst'>, host: HostNdState, keep: Keep): NdPrediction {
  const target = lower32(nd.target);
  const tentative = (host.tentativeIps ?? []).map(lower32).includes(target);
  const dad = ip6.src === '::';
  if (dad && nd.sourceLinkAddr) return keep('DAD probe with a source link-layer option: dropped');
  if (!host.hostIps.map(lower32).includes(target) && !tentative) return keep(`NS for ${nd.target}, not an address of this host: it learns nothing from it`);
  if (dad) return tentative ? keep(`DAD probe for this host's tentative address ${nd.target}: its DAD fails`, { dadFailure: nd.target }) : keep(`DAD probe for this host's address ${nd.target}: it defends it (NA to ff02::1), learns nothing`);
  if (tentative) return keep(`NS for this host's tentative address ${nd.target}: ignored until DAD ends`);
  const before = host.entry;
  const lladdr = nd.sourceLinkAddr;
  if (before.state === 'PERMANENT' || before.state === 'NOARP') return keep(`the entry is ${before.state} (static): ND never changes it`);
  const base = { ip: ip6.src, routerAfter: before.state === 'NONE' ? false : Boolean(before.router) };
  if (!lladdr) {
    if (VALID.includes(before.state)) return { ...base, outcome: 'refresh', accepted: false, stateAfter: before.state, macAfter: before.mac, reason: 'NS without a source link-layer option: the entry stays as it is (the host answers)' };
    return keep('NS without a source link-layer option: nothing learnt (the host resolves the sender to answer)', { uncertain: 'the answer may start a resolution (INCOMPLETE)' });
  }
  // the host then answers with an NA through the entry: a STALE entry goes DELAY at once
  const answered = (st: NeighState): NeighState => (st === 'STALE' ? 'DELAY' : st);
  const then = '; the host answers through it: DELAY';
  if (before.state === 'NONE') return { ...base, outcome: 'create', accepted: true, stateAfter: 'DELAY', macAfter: lladdr, reason: `NS for this host's address ${nd.target}: the sender's entry is created STALE whatever the sysctls${then}` };
  if (VALID.includes(before.state) && before.mac === lladdr) return { ...base, outcome: 'refresh', accepted: true, stateAfter: answered(before.state), macAfter: lladdr, reason: `NS with the same MAC: state unchanged${before.state === 'STALE' ? then : ''}` };
  return { ...base, outcome: 'update', accepted: true, stateAfter: 'DELAY', macAfter: lladdr, reason: `NS for this host's address ${nd.target}: the sender's ${before.state} entry takes ${lladdr}, STALE (an NS overrides${before.state === 'FAILED' ? ', even a FAILED entry' : ''})${then}` };
}
