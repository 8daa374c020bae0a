/**
 * answer-probes, pure part: after a takeover, a client whose entry still holds the dead MAC re-confirms it
 * with ARP requests unicast to that MAC (3 of them, 1 s apart, by default). A bridge that no longer knows the
 * dead MAC floods them, so the new holder sees them; the kernel drops them (not its MAC), so the node
 * answers itself with an ARP reply sent to the client's MAC: the client's entry goes to the new MAC,
 * REACHABLE, at its first probe instead of after its broadcast.
 *
 * IPv6, the same: a client whose entry for the VIP went STALE → DELAY → PROBE sends NSs for the VIP unicast to
 * the dead MAC (ucast_solicit of them, retrans_time apart); the node answers each with an NA, solicited and
 * override set, target link-layer option = our MAC, to the client's MAC and address — what the VIP's owner
 * would answer, so the client's entry goes to our MAC, REACHABLE (ndisc_recv_na; drop_unsolicited_na does not
 * drop it, it is solicited). A DAD probe (source ::) or an NS to a multicast MAC (resolution, which the kernel
 * holding the VIP answers itself) is no probe of the dead MAC.
 */
import { ARP_REQUEST, buildGarp } from '../../codecs/arp.js';
import { decodeFrame } from '../../codecs/decode.js';
import { MAC_BROADCAST, isGroupMac } from '../../codecs/addr.js';
import { buildNa, UNSPECIFIED } from '../../codecs/nd.js';

export interface ProbeSeen {
  vip: string;
  clientIp: string;
  clientMac: string;
  /** the MAC the probe was sent to (the old holder) */
  deadMac: string;
}

/**
 * The reply to send for one captured frame, if it is an ARP request for a VIP we hold (`held`: VIP → our
 * MAC) that was not addressed to us or to everyone. undefined for anything else (never throws).
 */
export function answerFor(frame: Buffer, held: ReadonlyMap<string, string>, opts: { router?: boolean } = {}): { reply: Buffer; seen: ProbeSeen } | undefined {
  const f = decodeFrame(frame);
  if (f.nd) return answerNs(f, held, opts);
  const a = f.arp;
  if (!a || !f.eth || a.op !== ARP_REQUEST) return undefined;
  const own = held.get(a.targetIp);
  if (!own || a.senderIp === a.targetIp || a.senderIp === '0.0.0.0') return undefined;
  if (f.eth.dst === MAC_BROADCAST || f.eth.dst === own || a.senderMac === own) return undefined;
  const reply = buildGarp('unicast-reply', { vip: a.targetIp, mac: own, targetIp: a.senderIp, targetMac: a.senderMac, vlan: f.eth.vlan });
  return { reply, seen: { vip: a.targetIp, clientIp: a.senderIp, clientMac: a.senderMac, deadMac: f.eth.dst } };
}

/** IPv6: the solicited NA for an NS for a held VIP sent to another host's MAC (the dead one). `router`: this host forwards. */
function answerNs(f: ReturnType<typeof decodeFrame>, held: ReadonlyMap<string, string>, opts: { router?: boolean }): { reply: Buffer; seen: ProbeSeen } | undefined {
  const nd = f.nd!;
  const ip6 = f.ipv6;
  if (nd.kind !== 'ns' || !ip6 || !f.eth || nd.badOptions || ip6.hopLimit !== 255) return undefined;
  const own = held.get(nd.target);
  if (!own || ip6.src === UNSPECIFIED || ip6.src === nd.target) return undefined;
  const dst = f.eth.dst;
  if (!dst || isGroupMac(dst) || dst === own || f.eth.src === own) return undefined;
  const clientMac = nd.sourceLinkAddr ?? f.eth.src;
  const reply = buildNa({ vip: nd.target, mac: own, dst: ip6.src, ethDst: clientMac, solicited: true, override: true, router: opts.router, vlan: f.eth.vlan });
  return { reply, seen: { vip: nd.target, clientIp: ip6.src, clientMac, deadMac: dst } };
}
