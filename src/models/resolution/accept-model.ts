/**
 * Would this Linux host's kernel create or update its neighbour entry for the ARP sender's IP when this frame
 * arrives? A pure prediction from the state *before* the frame, following the kernel's arp_process() and
 * neigh_update() (net/ipv4/arp.c, net/core/neighbour.c), checked against docs/facts/arp-facts.md:
 *
 *  - frames to another host's MAC are not processed (PACKET_OTHERHOST); an ARP-family firewall drop wins;
 *  - drop_gratuitous_arp=1 ignores every frame with sender IP = target IP;
 *  - a request for one of this host's addresses ("directed") creates/updates the entry (STALE) regardless of
 *    arp_accept and of locktime, unless arp_ignore=8 keeps the host from answering;
 *  - with no entry, only arp_accept=1 (or 2 with the sender on-link) creates one, and only from a GARP
 *    (request with sender = target IP, or reply whose target MAC is its sender MAC) or a reply;
 *  - an existing entry takes the new MAC if the frame is a GARP or the last update was longer than
 *    locktime ago (1 s); otherwise it keeps the old MAC;
 *  - the new state is REACHABLE for a reply sent to this host's MAC, STALE otherwise; the same MAC with a
 *    STALE-level update leaves the state as it was; PERMANENT/NOARP entries never change.
 */
import { MAC_BROADCAST, isGroupMac } from '../../codecs/addr.js';
import { ARP_REPLY, ARP_REQUEST, type ArpPacket } from '../../codecs/arp.js';

export type NeighState = 'NONE' | 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'NOARP' | 'PERMANENT';

const VALID: NeighState[] = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'NOARP', 'PERMANENT'];

export interface HostArpState {
  /** this host's MAC on the interface */
  hostMac: string;
  /** this host's IPv4 addresses on the interface */
  hostIps: string[];
  arpAccept: number;
  dropGratuitousArp: boolean;
  /** arp_ignore (0 default; only 8 "never answer" changes learning from requests for our address) */
  arpIgnore?: number;
  /** verdict of the ARP-family firewall for this frame (evaluated beforehand, see arp-filter.ts) */
  firewall?: { verdict: 'accept' | 'drop' | 'maybe'; rule?: string };
  /** for arp_accept=2: is the sender IP in a subnet of the interface? (default true) */
  senderOnLink?: boolean;
  /** the entry for the sender's IP before the frame */
  entry: { state: NeighState; mac?: string };
  /** ms since the entry last changed (undefined: unknown, assumed longer than locktime) */
  msSinceUpdate?: number;
  /** neigh/IF/locktime in ms (default 1000) */
  locktimeMs?: number;
}

export type Outcome =
  /** a new entry is created */
  | 'create'
  /** the entry now points at the sender MAC (it pointed elsewhere or had no MAC) */
  | 'update'
  /** same MAC as before; the state may be confirmed to REACHABLE */
  | 'refresh'
  /** the frame changes nothing */
  | 'ignore';

export interface Prediction {
  outcome: Outcome;
  /** after the frame, the entry points at the frame's sender MAC */
  accepted: boolean;
  stateAfter: NeighState;
  macAfter?: string;
  reason: string;
  /** set when the prediction depends on something unknown (e.g. time since last update) */
  uncertain?: string;
}

const isZeroIp = (ip: string) => ip === '0.0.0.0';
const isMulticastIp = (ip: string) => {
  const a = Number(ip.split('.')[0]);
  return a >= 224 && a <= 239;
};
const isLoopbackIp = (ip: string) => ip.startsWith('127.');

/** Predict what the kernel does with an ARP frame (`ethDst` = the frame's Ethernet destination). */
export function predictArp(arp: ArpPacket, ethDst: string, host: HostArpState): Prediction {
  const before = host.entry;
  const keep = (reason: string, extra: Partial<Prediction> = {}): Prediction => ({
    outcome: 'ignore',
    accepted: before.state !== 'NONE' && before.mac === arp.senderMac && VALID.includes(before.state),
    stateAfter: before.state,
    macAfter: before.mac,
    reason,
    ...extra,
  });
  if (arp.op !== ARP_REQUEST && arp.op !== ARP_REPLY) return keep(`ARP op ${arp.op} is neither request nor reply`);
  const toHost = ethDst !== '' && ethDst === host.hostMac;
  if (ethDst && ethDst !== MAC_BROADCAST && !isGroupMac(ethDst) && !toHost) return keep(`sent to another host's MAC ${ethDst}: this host does not process it`);
  if (host.firewall?.verdict === 'drop') return keep(`dropped by the ARP firewall${host.firewall.rule ? ` (${host.firewall.rule})` : ''}`);
  const maybe = host.firewall?.verdict === 'maybe' ? `the ARP firewall may drop it${host.firewall.rule ? ` (${host.firewall.rule})` : ''}` : undefined;
  const sip = arp.senderIp;
  const tip = arp.targetIp;
  if (isMulticastIp(tip) || isLoopbackIp(tip)) return keep(`target IP ${tip} is multicast/loopback`);
  if (isZeroIp(sip)) return keep('ACD probe (sender IP 0.0.0.0): teaches nothing');
  if (sip === tip && host.dropGratuitousArp) return keep('drop_gratuitous_arp=1 ignores frames with sender IP = target IP');
  if (host.hostIps.includes(sip)) return keep(`sender IP ${sip} is this host's own address (address conflict)`);

  const locktime = host.locktimeMs ?? 1000;
  const entryExists = before.state !== 'NONE';
  const finish = (p: Prediction): Prediction => (maybe ? { ...p, uncertain: p.uncertain ? `${p.uncertain}; ${maybe}` : maybe } : p);

  // A request for one of our addresses: the kernel answers and learns the sender (neigh_event_ns, override).
  if (arp.op === ARP_REQUEST && host.hostIps.includes(tip)) {
    if (host.arpIgnore === 8) return finish(keep('arp_ignore=8: requests for this host are not answered, nothing is learnt'));
    return finish(apply(arp, host, 'STALE', true, `request for this host's address ${tip} (directed): learnt regardless of arp_accept and locktime`));
  }

  const accept = host.arpAccept === 1 || (host.arpAccept === 2 && host.senderOnLink !== false);
  const isGarp = sip === tip && (arp.op === ARP_REQUEST || arp.targetMac === arp.senderMac);
  if (!entryExists) {
    if (!accept) {
      const why = host.arpAccept === 2 ? 'arp_accept=2 but the sender is not on a subnet of this interface' : 'no entry and arp_accept=0: unsolicited ARP creates no entry';
      return finish(keep(why));
    }
    if (!isGarp && arp.op !== ARP_REPLY) return finish(keep(`no entry: arp_accept=${host.arpAccept} creates entries only from a GARP or a reply`));
    return finish(apply(arp, host, arp.op === ARP_REPLY && toHost ? 'REACHABLE' : 'STALE', true, `no entry: arp_accept=${host.arpAccept} creates it from ${isGarp ? 'a GARP' : 'a reply'}`));
  }

  const newState: NeighState = arp.op === ARP_REPLY && toHost ? 'REACHABLE' : 'STALE';
  let uncertain: string | undefined;
  let override: boolean;
  let why: string;
  if (isGarp) {
    override = true;
    why = arp.op === ARP_REQUEST ? 'GARP request (sender IP = target IP) replaces the entry' : 'GARP reply with target MAC = sender MAC replaces the entry even inside locktime';
  } else if (host.msSinceUpdate === undefined) {
    override = true;
    why = `last update assumed longer than locktime (${locktime} ms) ago`;
    uncertain = 'time since the last update is unknown: inside locktime this frame would be ignored';
  } else {
    override = host.msSinceUpdate > locktime;
    why = override
      ? `last update ${Math.round(host.msSinceUpdate)} ms ago, beyond locktime ${locktime} ms`
      : `inside locktime: last update ${Math.round(host.msSinceUpdate)} ms ago < ${locktime} ms, and only a request, a reply with target MAC = sender MAC or a directed request replace it then`;
  }
  const p = apply(arp, host, newState, override, why);
  return finish(uncertain && p.outcome !== 'refresh' ? { ...p, uncertain } : p);
}

/** neigh_update(): what the entry becomes. */
function apply(arp: ArpPacket, host: HostArpState, newState: NeighState, override: boolean, why: string): Prediction {
  const before = host.entry;
  const mac = arp.senderMac;
  if (before.state === 'PERMANENT' || before.state === 'NOARP') {
    return { outcome: 'ignore', accepted: before.mac === mac, stateAfter: before.state, macAfter: before.mac, reason: `the entry is ${before.state} (static): ARP never changes it` };
  }
  const valid = VALID.includes(before.state);
  if (before.state === 'NONE') return { outcome: 'create', accepted: true, stateAfter: newState, macAfter: mac, reason: why };
  if (valid && before.mac === mac) {
    const stateAfter = newState === 'STALE' ? before.state : newState;
    return { outcome: 'refresh', accepted: true, stateAfter, macAfter: mac, reason: `same MAC as the entry (${why.split(':')[0]})` + (stateAfter !== before.state ? `; confirmed ${stateAfter}` : '; state unchanged') };
  }
  if (valid && !override) {
    return { outcome: 'ignore', accepted: false, stateAfter: before.state, macAfter: before.mac, reason: why };
  }
  return { outcome: 'update', accepted: true, stateAfter: newState, macAfter: mac, reason: why };
}
