/**
 * Every announcement-strategy form hadiag knows, as data (`announcementForms()` lists them; language.ts
 * builds the one language from that list):
 *
 *   request                 broadcast ARP request, sender IP = target IP = VIP (target MAC 00:00 as send_arp)
 *   reply                   broadcast ARP reply (target MAC own by default)
 *   both                    request then reply each round (what Heartbeat's IPaddr/IPaddr2 send_arp does)
 *   directed[:IP]           request from the VIP asking for IP (default: every known client): one broadcast a
 *                           round, the others to each client's MAC when known; eth=bcast all broadcast,
 *                           eth=unicast all to the client's MAC when known
 *   unicast-reply[:IP[@MAC]] reply sent to a client's MAC (default: every known client with a MAC)
 *   answer-probes            GARP request+reply rounds like `both`, and after takeover the node answers every
 *                            ARP request for the VIP that a client still sends to the dead MAC (seen when the
 *                            bridge floods the unknown MAC) with a reply sent to that client's MAC
 *   vmac[:MAC]               the VIP lives on a macvlan with a fixed virtual MAC that moves with it; announced
 *                            with GARP requests (target MAC ff:ff) from that MAC. Default MAC 00:00:5e:00:01:01
 *                            (VRRP's range, as keepalived use_vmac)
 *   arping[:U|A]             run iputils `arping -U` (requests) or `-A` (replies) as an external sender
 *   send_arp                 run resource-agents' send_arp as IPaddr2 calls it (request+reply pairs)
 *
 * For an IPv6 VIP (neighbour discovery, RFC 4861; the ARP-only forms refuse one, `na` refuses an IPv4 VIP):
 *
 *   na                       unsolicited NA as RFC 4861 7.2.6 wants: to ff02::1 (33:33:00:00:00:01) from the VIP,
 *                            override set, solicited clear, router flag only when this host forwards
 *                            (`router=on|off` overrides), target link-layer option, hop limit 255.
 *                            `override=off` and `lladdr=source|none` reproduce what broken senders put on the
 *                            wire (for measuring what clients do with it, never as a fix)
 *   directed[:IP[@MAC]]      an NS from the VIP (source link-layer option = our MAC) asking each client for its
 *                            own address: the client learns VIP → our MAC (STALE) whatever its sysctls and
 *                            whether or not it had an entry (ndisc_recv_ns). To the client's MAC and address
 *                            when its MAC is known, else to its solicited-node group. `via=na`: an unsolicited
 *                            NA (override, no solicited flag) to the client instead
 *   unicast-reply[:IP[@MAC]] an NA with solicited and override set to a client's MAC and address, as the answer to
 *                            its NS would be: a client with an entry takes our MAC REACHABLE, even with
 *                            drop_unsolicited_na
 *   answer-probes            unsolicited NA rounds like `na`, and after takeover the node answers every NS for
 *                            the VIP a client still sends to the dead MAC with a solicited NA to that client
 *   vmac[:MAC]               unsolicited NAs from the virtual MAC
 *
 * `target=bcast|zero|own` sets the ARP target-MAC field of request, reply, directed and both (the reply's).
 * Examples: `both:count=10,interval=250ms`, `request:count=5+5@5s`, `reply:target=bcast`,
 * `directed:198.18.0.5,count=3`, `unicast-reply:198.18.0.5@02:00:00:00:00:05`.
 *
 * For the external senders the planned frames are what those programs put on the wire (byte-exact with
 * captures of them), so the plan documents them; the announcer runs the program instead of sending them.
 */
import { usageError } from '../../core/errors.js';
import { isIPv4, isIPv6, normMac } from '../../codecs/addr.js';
import { buildGarp } from '../../codecs/arp.js';
import { buildNa, buildNs, solicitedNode, type NaLinkOption } from '../../codecs/nd.js';
import { familyOf, type Client, type FormDef, type PlanContext, type Strategy } from './spec-language.js';

export const DEFAULT_VMAC = '00:00:5e:00:01:01';

/** Forms that another program sends (the node only starts it). */
export const EXTERNAL_FORMS = ['arping', 'send_arp'] as const;
/** Forms whose frames are built per known client. */
export const CLIENT_FORMS = ['directed', 'unicast-reply'] as const;

/** The single-form strategies a strategy is made of: its parts, or for an alias every family's. */
export const formsOf = (s: Strategy): Strategy[] => (s.byFamily ? [...formsOf(s.byFamily[4]), ...formsOf(s.byFamily[6])] : (s.parts ?? [s]));
const anyForm = (s: Strategy, is: (one: Strategy) => boolean): boolean => formsOf(s).some(is);

export const isExternal = (s: Strategy): boolean => anyForm(s, (p) => (EXTERNAL_FORMS as readonly string[]).includes(p.form));
export const isPerClient = (s: Strategy): boolean => anyForm(s, (p) => (CLIENT_FORMS as readonly string[]).includes(p.form));
export const needsClients = (s: Strategy): boolean => anyForm(s, (p) => isPerClient(p) && !p.clients?.length);
export const answersProbes = (s: Strategy): boolean => anyForm(s, (p) => p.form === 'answer-probes');
export const usesVmac = (s: Strategy): boolean => anyForm(s, (p) => p.form === 'vmac');
/** The virtual MAC of a `vmac` strategy. */
export const vmacOf = (s: Strategy): string => {
  const v = formsOf(s).find((p) => p.form === 'vmac');
  return v?.arg ? normMac(v.arg)! : DEFAULT_VMAC;
};
/**
 * The strategy without its per-client forms that know no client (what a node can still send when it knows no
 * client of the VIP's family), or undefined when nothing is left.
 */
export function withoutClientForms(s: Strategy): Strategy | undefined {
  const left = formsOf(s).filter((p) => !(isPerClient(p) && !p.clients?.length));
  if (left.length === formsOf(s).length) return s;
  if (!left.length) return undefined;
  if (left.length === 1) return left[0];
  return { ...s, spec: left.map((p) => p.spec).join('+'), form: left.map((p) => p.form).join('+'), parts: left };
}
/** iputils arping mode of an `arping` strategy. */
export const arpingMode = (s: Strategy): 'U' | 'A' => (s.arg === 'A' ? 'A' : 'U');

function parseClientArg(arg: string): Client[] {
  const at = arg.indexOf('@');
  const ip = at < 0 ? arg : arg.slice(0, at);
  if (!isIPv4(ip) && !isIPv6(ip)) throw `"${ip}" is not an IPv4 or IPv6 address`;
  if (at < 0) return [{ ip }];
  const mac = normMac(arg.slice(at + 1));
  if (!mac) throw `"${arg.slice(at + 1)}" is not a MAC address`;
  return [{ ip, mac }];
}

const clientsFor = (s: Strategy, ctx: PlanContext): Client[] => s.clients ?? (ctx.clients ?? []).filter((c) => familyOf(c.ip) === familyOf(ctx.vip));

/** IPv6 option values (`router`, `override`, `lladdr`, `via`). */
const ON_OFF = ['on', 'off'] as const;
const ND_VALUES = { router: ON_OFF, override: ON_OFF, lladdr: ['target', 'source', 'none'], via: ['ns', 'na'] } as const;
/** the router flag: `router=` as written, else whether this host forwards */
const routerFlag = (s: Strategy, c: PlanContext): boolean => (s.options.router ? s.options.router === 'on' : Boolean(c.router));
const flagText = (o: { router?: boolean; solicited?: boolean; override?: boolean }) => [o.router ? 'R' : '', o.solicited ? 'S' : '', o.override ? 'O' : ''].join('') || 'no flags';
const OPTION_TEXT: Record<NaLinkOption, string> = { target: 'target LL', source: 'source LL (wrong option)', none: 'no LL option' };

/** One unsolicited NA to all nodes, as the `na` form (and answer-probes, vmac) sends it. */
function unsolicitedNa(s: Strategy, c: PlanContext, what = 'unsolicited NA'): { frame: Buffer; label: string } {
  const f = { router: routerFlag(s, c), solicited: false, override: s.options.override !== 'off' };
  const option = (s.options.lladdr ?? 'target') as NaLinkOption;
  return { frame: buildNa({ vip: c.vip, mac: c.mac, ...f, option, vlan: s.vlan }), label: `${what} to ff02::1 (${flagText(f)}, ${OPTION_TEXT[option]})` };
}

const request: FormDef = {
  name: 'request',
  summary: 'broadcast ARP request, sender IP = target IP = VIP',
  arg: 'none',
  takesTarget: true,
  round: (s, c) => [{ frame: buildGarp('request', { vip: c.vip, mac: c.mac, arpTarget: s.target ?? 'zero', vlan: s.vlan }), label: `request (target MAC ${s.target ?? 'zero'})` }],
};

const reply: FormDef = {
  name: 'reply',
  summary: 'broadcast ARP reply, sender IP = target IP = VIP',
  arg: 'none',
  takesTarget: true,
  round: (s, c) => [{ frame: buildGarp('reply', { vip: c.vip, mac: c.mac, arpTarget: s.target ?? 'own', vlan: s.vlan }), label: `reply (target MAC ${s.target ?? 'own'})` }],
};

const both: FormDef = {
  name: 'both',
  summary: 'request then reply each round (send_arp as Heartbeat IPaddr/IPaddr2 use it)',
  arg: 'none',
  takesTarget: true,
  roundSlots: 2,
  round: (s, c) => [
    { frame: buildGarp('request', { vip: c.vip, mac: c.mac, arpTarget: 'zero', vlan: s.vlan }), label: 'request (target MAC zero)' },
    { frame: buildGarp('reply', { vip: c.vip, mac: c.mac, arpTarget: s.target ?? 'own', vlan: s.vlan }), label: `reply (target MAC ${s.target ?? 'own'})` },
  ],
};

const directed: FormDef = {
  name: 'directed',
  summary: 'request from the VIP asking for a client (creates the entry even with arp_accept=0): one broadcast a round, the others to each client\'s MAC when known; eth=bcast: every one broadcast, eth=unicast: every one to the MAC',
  arg: 'optional',
  takesTarget: true,
  options: ['eth'],
  options6: ['via', 'router'],
  optionValues: { ...ND_VALUES, eth: ['bcast', 'unicast'] },
  parseArg: (a) => {
    const cl = parseClientArg(a);
    if (cl[0]!.mac && isIPv4(cl[0]!.ip)) throw 'directed takes an IP only (no @MAC)';
    return cl;
  },
  round: (s, c) => {
    const list = clientsFor(s, c);
    if (!list.length) throw usageError(`strategy "${s.spec}": directed needs a client`, 'strategy', 'write directed:CLIENT-IP (or give the command its clients)');
    // eth=unicast: each request to the client's MAC when known; eth=bcast: each one broadcast. By default the
    // first request of a round is broadcast (it moves the VIP entry of every host that has one, known to us or
    // not) and the others go to each client's MAC when known: a broadcast per client costs every host on the
    // segment (and a switch's CPU) one ARP frame per client, 500 × 500 a round for 500 clients
    const eth = s.options.eth;
    return list.map((cl, i) => {
      const unicast = eth === 'unicast' || (eth === undefined && i > 0);
      const mac = unicast ? (cl.mac ?? c.clients?.find((k) => k.ip === cl.ip)?.mac) : undefined;
      return { frame: buildGarp('directed', { vip: c.vip, mac: c.mac, targetIp: cl.ip, ...(mac ? { unicastTo: mac } : {}), arpTarget: s.target, vlan: s.vlan }), label: `directed request to ${cl.ip}${mac ? ` (${mac})` : ''}` };
    });
  },
  round6: (s, c) => {
    const list = clientsFor(s, c).map((cl) => ({ ip: cl.ip, mac: cl.mac ?? c.clients?.find((k) => k.ip === cl.ip)?.mac }));
    if (!list.length) throw usageError(`strategy "${s.spec}": directed needs a client`, 'strategy', 'write directed:CLIENT-IPV6[@MAC] (or give the command its clients)');
    return list.map((cl) => {
      // the client's MAC and address when known, else its solicited-node group (which only it listens to)
      const to = cl.mac ? { dst: cl.ip, ethDst: cl.mac } : { dst: solicitedNode(cl.ip) };
      const where = cl.mac ? `${cl.ip} (${cl.mac})` : `${cl.ip} via ${to.dst}`;
      if (s.options.via === 'na') {
        const f = { router: routerFlag(s, c), solicited: false, override: true };
        return { frame: buildNa({ vip: c.vip, mac: c.mac, ...f, ...to, vlan: s.vlan }), label: `directed NA to ${where} (${flagText(f)}, target LL)` };
      }
      return { frame: buildNs({ src: c.vip, target: cl.ip, mac: c.mac, ...to, vlan: s.vlan }), label: `NS from the VIP to ${where}` };
    });
  },
};

const unicastReply: FormDef = {
  name: 'unicast-reply',
  summary: "ARP reply sent to a client's own MAC",
  arg: 'optional',
  parseArg: parseClientArg,
  round: (s, c) => {
    const list = clientsFor(s, c).map((cl) => ({ ip: cl.ip, mac: cl.mac ?? c.clients?.find((k) => k.ip === cl.ip)?.mac }));
    if (!list.length) throw usageError(`strategy "${s.spec}": unicast-reply needs a client`, 'strategy', 'write unicast-reply:CLIENT-IP@CLIENT-MAC');
    const noMac = list.find((cl) => !cl.mac);
    if (noMac) throw usageError(`strategy "${s.spec}": the MAC of client ${noMac.ip} is not known`, 'strategy', `write unicast-reply:${noMac.ip}@CLIENT-MAC`);
    return list.map((cl) => ({ frame: buildGarp('unicast-reply', { vip: c.vip, mac: c.mac, targetIp: cl.ip, targetMac: cl.mac!, vlan: s.vlan }), label: `unicast reply to ${cl.ip} (${cl.mac})` }));
  },
  options6: ['router'],
  optionValues: ND_VALUES,
  round6: (s, c) => {
    const list = clientsFor(s, c).map((cl) => ({ ip: cl.ip, mac: cl.mac ?? c.clients?.find((k) => k.ip === cl.ip)?.mac }));
    if (!list.length) throw usageError(`strategy "${s.spec}": unicast-reply needs a client`, 'strategy', 'write unicast-reply:CLIENT-IPV6@CLIENT-MAC');
    const noMac = list.find((cl) => !cl.mac);
    if (noMac) throw usageError(`strategy "${s.spec}": the MAC of client ${noMac.ip} is not known`, 'strategy', `write unicast-reply:${noMac.ip}@CLIENT-MAC`);
    const f = { router: routerFlag(s, c), solicited: true, override: true };
    return list.map((cl) => ({ frame: buildNa({ vip: c.vip, mac: c.mac, ...f, dst: cl.ip, ethDst: cl.mac!, vlan: s.vlan }), label: `solicited NA to ${cl.ip} (${cl.mac}) (${flagText(f)}, target LL)` }));
  },
};

const answerProbes: FormDef = {
  name: 'answer-probes',
  summary: 'request+reply GARP rounds, and after takeover a unicast reply to every ARP probe for the VIP sent to the dead MAC',
  arg: 'none',
  round: (s, c) => [
    { frame: buildGarp('request', { vip: c.vip, mac: c.mac, arpTarget: 'zero', vlan: s.vlan }), label: 'request (target MAC zero)' },
    { frame: buildGarp('reply', { vip: c.vip, mac: c.mac, arpTarget: 'own', vlan: s.vlan }), label: 'reply (target MAC own)' },
  ],
  options6: ['router'],
  optionValues: ND_VALUES,
  round6: (s, c) => [unsolicitedNa(s, c)],
};

const na: FormDef = {
  name: 'na',
  summary: 'IPv6: unsolicited NA to ff02::1 (override set, solicited clear, router flag when this host forwards, target link-layer option)',
  arg: 'none',
  options6: ['router', 'override', 'lladdr'],
  optionValues: ND_VALUES,
  round6: (s, c) => [unsolicitedNa(s, c)],
};

const vmac: FormDef = {
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
  options6: ['router'],
  optionValues: ND_VALUES,
  round6: (s, c) => [unsolicitedNa(s, c, `unsolicited NA from the virtual MAC ${c.mac}`)],
};

const arping: FormDef = {
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
};

const sendArp: FormDef = {
  name: 'send_arp',
  summary: "external sender: resource-agents' send_arp (request 00:00 + reply own pairs), count = -r, interval = -i",
  arg: 'none',
  round: (_s, c) => [
    { frame: buildGarp('request', { vip: c.vip, mac: c.mac, arpTarget: 'zero' }), label: 'send_arp request (target MAC zero)' },
    { frame: buildGarp('reply', { vip: c.vip, mac: c.mac, arpTarget: 'own' }), label: 'send_arp reply (target MAC own)' },
  ],
};

/** Every form, in the order errors and help list them. */
export function announcementForms(): FormDef[] {
  return [request, reply, both, directed, unicastReply, answerProbes, vmac, arping, sendArp, na];
}
