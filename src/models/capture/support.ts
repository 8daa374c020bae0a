/**
 * Which link types each use of a capture can work with, and what each cannot tell. Pure: the capture-file
 * opener (src/effects/io/capture-file.ts) asks it about the file's link type before any record is read.
 */
import { LINK_TYPE_NAMES, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, isRawIpLinkType } from '../../codecs/decode.js';

/** What a command needs from the frames of a capture. */
export type CaptureUse = 'arp' | 'icmp' | 'heartbeat';

export type LinkSupport =
  | { ok: true; layer: 'ethernet' | 'cooked' | 'ip'; limits: string[] }
  /** `what` and `fix` are the parts of the one-line error after "hadiag: " (the file goes between them) */
  | { ok: false; what: string; fix: string };

/** "228 (IPV4)", or "147" for a link type without a name here. */
export function linkTypeLabel(linktype: number): string {
  const name = LINK_TYPE_NAMES[linktype];
  return name ? `${linktype} (${name})` : String(linktype);
}

const COOKED_LIMIT =
  'Linux cooked capture (tcpdump -i any): no destination MAC, so who a frame was addressed to is unknown; the packet type says only whether it was outgoing, broadcast, multicast or to this host';
const RAW_IP_LIMIT = 'raw IP capture: no link layer, so no MAC addresses and no ARP';

const CAPTURE_ON_ETHERNET = 'capture on the Ethernet interface, e.g. tcpdump -i eth0 -w FILE';

export function linkSupport(linktype: number, use: CaptureUse): LinkSupport {
  if (linktype === LINKTYPE_ETHERNET) return { ok: true, layer: 'ethernet', limits: [] };
  if (linktype === LINKTYPE_LINUX_SLL || linktype === LINKTYPE_LINUX_SLL2) return { ok: true, layer: 'cooked', limits: [COOKED_LIMIT] };
  if (isRawIpLinkType(linktype)) {
    if (use === 'arp') return { ok: false, what: `link type ${linkTypeLabel(linktype)} has no link layer, so no ARP`, fix: CAPTURE_ON_ETHERNET };
    return { ok: true, layer: 'ip', limits: [RAW_IP_LIMIT] };
  }
  return {
    ok: false,
    what: `link type ${linkTypeLabel(linktype)} is not supported (hadiag reads Ethernet, Linux cooked and raw IP captures)`,
    fix: `${CAPTURE_ON_ETHERNET}, or tcpdump -i any -w FILE`,
  };
}
