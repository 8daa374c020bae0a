/**
 * Strategy forms added by compare-garp to the one spec language (packet/strategy.ts), registered with
 * `registerForm` when this module is imported:
 *
 *   answer-probes            GARP request+reply rounds like `both`, and after takeover the node answers every
 *                            ARP request for the VIP that a client still sends to the dead MAC (seen when the
 *                            bridge floods the unknown MAC) with a reply sent to that client's MAC
 *   vmac[:MAC]               the VIP lives on a macvlan with a fixed virtual MAC that moves with it; announced
 *                            with GARP requests (target MAC ff:ff) from that MAC. Default MAC 00:00:5e:00:01:01
 *                            (VRRP's range, as keepalived use_vmac)
 *   arping[:U|A]             run iputils `arping -U` (requests) or `-A` (replies) as an external sender
 *   send_arp                 run resource-agents' send_arp as IPaddr2 calls it (request+reply pairs)
 *
 * For the external senders the planned frames are what those programs put on the wire (byte-exact with
 * captures of them), so the plan documents them; the announcer runs the program instead of sending them.
 */
import { buildGarp } from '../../codecs/arp.js';
import { normMac } from '../../codecs/addr.js';
import { formNames, registerForm, type Strategy } from './language.js';

export const DEFAULT_VMAC = '00:00:5e:00:01:01';

/** Forms that another program sends (the node only starts it). */
export const EXTERNAL_FORMS = ['arping', 'send_arp'] as const;
/** Forms whose frames are built per known client. */
export const CLIENT_FORMS = ['directed', 'unicast-reply'] as const;

export const isExternal = (s: Strategy): boolean => (EXTERNAL_FORMS as readonly string[]).includes(s.form);
export const needsClients = (s: Strategy): boolean => (CLIENT_FORMS as readonly string[]).includes(s.form) && !s.clients?.length;
export const answersProbes = (s: Strategy): boolean => s.form === 'answer-probes';
export const usesVmac = (s: Strategy): boolean => s.form === 'vmac';
/** The virtual MAC of a `vmac` strategy. */
export const vmacOf = (s: Strategy): string => (s.form === 'vmac' && s.arg ? normMac(s.arg)! : DEFAULT_VMAC);
/** iputils arping mode of an `arping` strategy. */
export const arpingMode = (s: Strategy): 'U' | 'A' => (s.arg === 'A' ? 'A' : 'U');

export function registerCompareForms(): void {
  if (formNames().includes('answer-probes')) return;
  registerForm({
    name: 'answer-probes',
    summary: 'request+reply GARP rounds, and after takeover a unicast reply to every ARP probe for the VIP sent to the dead MAC',
    arg: 'none',
    round: (s, c) => [
      { frame: buildGarp('request', { vip: c.vip, mac: c.mac, arpTarget: 'zero', vlan: s.vlan }), label: 'request (target MAC zero)' },
      { frame: buildGarp('reply', { vip: c.vip, mac: c.mac, arpTarget: 'own', vlan: s.vlan }), label: 'reply (target MAC own)' },
    ],
  });
  registerForm({
    name: 'vmac',
    summary: 'the VIP on a macvlan with a virtual MAC that moves with it (GARP requests from that MAC)',
    arg: 'optional',
    parseArg: (a) => {
      const mac = normMac(a);
      if (!mac) throw `"${a}" is not a MAC address (vmac:MAC, e.g. vmac:${DEFAULT_VMAC})`;
      if (parseInt(mac.slice(0, 2), 16) & 1) throw `${mac} is a multicast MAC: a virtual MAC must be unicast`;
      return [];
    },
    round: (s, c) => [{ frame: buildGarp('request', { vip: c.vip, mac: c.mac, arpTarget: 'bcast', vlan: s.vlan }), label: `request from the virtual MAC ${c.mac}` }],
  });
  registerForm({
    name: 'arping',
    summary: 'external sender: iputils arping -U (requests, target MAC ff:ff) or arping:A (replies, target MAC own)',
    arg: 'optional',
    parseArg: (a) => {
      if (a !== 'U' && a !== 'A') throw `arping mode "${a}" is not U or A (arping:U = arping -U, arping:A = arping -A)`;
      return [];
    },
    round: (s, c) =>
      arpingMode(s) === 'A'
        ? [{ frame: buildGarp('reply', { vip: c.vip, mac: c.mac, arpTarget: 'own' }), label: 'arping -A reply (target MAC own)' }]
        : [{ frame: buildGarp('request', { vip: c.vip, mac: c.mac, arpTarget: 'bcast' }), label: 'arping -U request (target MAC ff:ff)' }],
  });
  registerForm({
    name: 'send_arp',
    summary: "external sender: resource-agents' send_arp (request 00:00 + reply own pairs), count = -r, interval = -i",
    arg: 'none',
    round: (_s, c) => [
      { frame: buildGarp('request', { vip: c.vip, mac: c.mac, arpTarget: 'zero' }), label: 'send_arp request (target MAC zero)' },
      { frame: buildGarp('reply', { vip: c.vip, mac: c.mac, arpTarget: 'own' }), label: 'send_arp reply (target MAC own)' },
    ],
  });
}

registerCompareForms();
