/**
 * answer-probes, pure part: after a takeover, a client whose entry still holds the dead MAC re-confirms it
 * with ARP requests unicast to that MAC (3 of them, 1 s apart, by default). A bridge that no longer knows the
 * dead MAC floods them, so the new holder sees them; the kernel drops them (not its MAC), so the node
 * answers itself with an ARP reply sent to the client's MAC: the client's entry goes to the new MAC,
 * REACHABLE, at its first probe instead of after its broadcast.
 */
import { ARP_REQUEST, buildGarp } from '../../codecs/arp.js';
import { decodeFrame } from '../../codecs/decode.js';
import { MAC_BROADCAST } from '../../codecs/addr.js';

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
export function answerFor(frame: Buffer, held: ReadonlyMap<string, string>): { reply: Buffer; seen: ProbeSeen } | undefined {
  const f = decodeFrame(frame);
  const a = f.arp;
  if (!a || !f.eth || a.op !== ARP_REQUEST) return undefined;
  const own = held.get(a.targetIp);
  if (!own || a.senderIp === a.targetIp || a.senderIp === '0.0.0.0') return undefined;
  if (f.eth.dst === MAC_BROADCAST || f.eth.dst === own || a.senderMac === own) return undefined;
  const reply = buildGarp('unicast-reply', { vip: a.targetIp, mac: own, targetIp: a.senderIp, targetMac: a.senderMac, vlan: f.eth.vlan });
  return { reply, seen: { vip: a.targetIp, clientIp: a.senderIp, clientMac: a.senderMac, deadMac: f.eth.dst } };
}
