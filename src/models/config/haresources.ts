import { DiagnosticSink, type Diagnostic } from './diagnostics.js';
import { ipv4ToInt, isIpv4, netmaskToPrefix } from '../../codecs/ipv4-address.js';
import { isIPv6, ipv6FromBytes, ipv6ToBytes } from '../../codecs/addr.js';
import { HARESOURCES_TYPES } from './hacf-directives.js';

export type Resource =
  | {
      kind: 'ip';
      /** IPv6addr: Heartbeat's IPv6 agent (ADDR[/PREFIX[/IFACE]]); IPaddr2 takes an IPv6 address too */
      agent: 'IPaddr' | 'IPaddr2' | 'IPv6addr';
      /** the address; an IPv6 one in its compressed form (as `ip -6` prints it) */
      ip: string;
      prefixLen?: number;
      nic?: string;
      label?: string;
      broadcast?: string;
      raw: string;
    }
  | { kind: 'script'; name: string; args: string[]; raw: string };

export interface ResourceGroup {
  /** The node the group prefers, lower-cased as Heartbeat compares node names. */
  node: string;
  resources: Resource[];
  /** First line of the group (a group may continue over lines ending in a backslash). */
  line: number;
}

export interface HaresourcesAnalysis {
  groups: ResourceGroup[];
  diagnostics: Diagnostic[];
}

const IFACE_NAME = /^[A-Za-z0-9_.\-]{1,15}$/;
const SCRIPT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-]*$/;
const IPV6_EXAMPLE = 'e.g. IPv6addr::2001:db8:0:0:0:0:0:20/64/eth0';

interface Token {
  text: string;
  line: number;
}

/**
 * Logical lines as tokens with their physical line: a line ending in a backslash continues on the next one,
 * as Heartbeat reads haresources.
 */
function logicalLines(text: string): { line: number; tokens: Token[] }[] {
  const out: { line: number; tokens: Token[] }[] = [];
  const raw = text.split('\n');
  let current: { line: number; tokens: Token[] } | undefined;
  for (let i = 0; i < raw.length; i++) {
    let body = raw[i]!.replace(/\r$/, '');
    const continues = /\\\s*$/.test(body);
    if (continues) body = body.replace(/\\\s*$/, '');
    const tokens = body.trim() ? body.trim().split(/\s+/).map((t) => ({ text: t, line: i + 1 })) : [];
    if (!current) current = { line: i + 1, tokens: [] };
    current.tokens.push(...tokens);
    if (!continues) {
      out.push(current);
      current = undefined;
    }
  }
  if (current) out.push(current);
  return out;
}

/**
 * Parse haresources (`node resource resource::arg::arg …`, one group per logical line) and keep going after
 * errors. A bare IP is IPaddr::IP, as in Heartbeat. IPaddr/IPaddr2 take `ip[/cidr-or-netmask[/nic[:label][/broadcast]]]`.
 */
export function analyzeHaresources(text: string, file = 'haresources'): HaresourcesAnalysis {
  const sink = new DiagnosticSink(file);
  const groups: ResourceGroup[] = [];
  const vipLines = new Map<string, number>();

  for (const { line, tokens } of logicalLines(text)) {
    if (tokens.length === 0 || tokens[0]!.text.startsWith('#')) continue;
    const node = tokens[0]!.text;
    if (node.includes('::') || isIpv4(node.split('/')[0]!) || isIPv6(node.split('/')[0]!)) {
      sink.error(line, `the line starts with "${node}", not a node name`, 'start each line with the node that owns the group: server1 IPaddr::10.0.0.20/24');
      continue;
    }
    const comment = tokens.findIndex((t) => t.text.startsWith('#'));
    if (comment > 0) {
      const text = tokens.slice(comment).filter((t) => t.line === tokens[comment]!.line).map((t) => t.text).join(' ');
      sink.error(tokens[comment]!.line, `comment "${text}" follows the resources`, 'move it to a line of its own starting with # (Heartbeat would take its words for resources)');
      continue;
    }
    const resources: Resource[] = [];
    let bad = false;
    for (const token of tokens.slice(1)) {
      const r = parseResource(token.text, token.line, sink);
      if (!r) {
        bad = true;
        continue;
      }
      if (r.kind === 'ip') {
        const other = vipLines.get(r.ip);
        if (other !== undefined) {
          sink.error(token.line, `the address ${r.ip} is already a resource on line ${other}`, 'list each VIP once');
          bad = true;
          continue;
        }
        vipLines.set(r.ip, token.line);
      }
      resources.push(r);
    }
    if (bad) continue;
    if (resources.length === 0) {
      sink.warning(line, `node ${node} has no resources on this line`, 'add its resources, e.g. server1 IPaddr::10.0.0.20/24, or remove the line');
    }
    groups.push({ node: node.toLowerCase(), resources, line });
  }
  return { groups, diagnostics: sink.items };
}

/** One `name::arg::arg` token (or a bare IP). Records an error and returns undefined when it is wrong. */
export function parseResource(token: string, line: number, sink: DiagnosticSink): Resource | undefined {
  const sep = token.indexOf('::');
  const agent = sep > 0 ? token.slice(0, sep) : '';
  const arg = token.slice(sep + 2);
  const ip6 = arg.split('/')[0]!;
  if ((agent === 'IPv6addr' && arg) || (agent === 'IPaddr2' && ip6.includes(':'))) return parseIpv6Argument(agent, arg, token, line, sink);
  if (agent === 'IPaddr' && ip6.includes(':')) {
    sink.error(line, `IPaddr takes IPv4 addresses only, not "${ip6}"`, `write IPv6addr::${fullArg(arg)} (Heartbeat's IPv6 agent) or IPaddr2::${fullArg(arg)}`);
    return undefined;
  }
  if (token === 'IPv6addr' || (agent === 'IPv6addr' && !arg)) {
    sink.error(line, 'IPv6addr needs an address', `write IPv6addr::ADDR/PREFIX/IFACE, ${IPV6_EXAMPLE}`);
    return undefined;
  }
  // a bare IPv6 address, not NAME::ARG (`a::/` is the script a with the argument /, as Heartbeat reads it)
  if (!SCRIPT_NAME.test(sep > 0 ? agent : token) && isIPv6(token.split('/')[0]!)) {
    sink.error(line, `"${token}" is a bare IPv6 address: Heartbeat takes a bare address as IPaddr (IPv4 only)`, `write IPv6addr::${fullArg(token)}`);
    return undefined;
  }
  const parts = token.split('::');
  let name = parts[0]!;
  let args = parts.slice(1);
  if (isIpv4(name.split('/')[0]!)) {
    // Heartbeat: a resource that is an address is IPaddr::address.
    args = [token];
    name = 'IPaddr';
  }
  if (name === 'IPaddr' || name === 'IPaddr2') {
    if (args.length !== 1 || !args[0]) {
      sink.error(line, `${name} needs one argument, got ${args.length} in "${token}"`, `write ${name}::IP[/CIDR[/NIC[:LABEL][/BROADCAST]]], e.g. ${name}::10.0.0.20/24/eth0`);
      return undefined;
    }
    return parseIpArgument(name, args[0], token, line, sink);
  }
  if (!SCRIPT_NAME.test(name)) {
    sink.error(line, `resource "${token}" has no valid name`, 'write NAME::ARG::ARG, e.g. Filesystem::/dev/sdb1::/data::ext4');
    return undefined;
  }
  if (args.some((a) => a === '')) {
    sink.error(line, `resource "${token}" has an empty argument`, 'separate arguments with exactly "::" and leave none empty');
    return undefined;
  }
  const known = Object.hasOwn(HARESOURCES_TYPES, name) ? HARESOURCES_TYPES[name] : undefined;
  if (known?.kind === 'refused') {
    sink.error(line, `resource "${name}" is not supported`, known.fix);
    return undefined;
  }
  if (known?.kind === 'warned') sink.warning(line, `${name}: ${known.instead}`, known.fix);
  return { kind: 'script', name, args, raw: token };
}

/** `ip[/cidr-or-netmask[/nic[:label][/broadcast]]]` */
function parseIpArgument(agent: 'IPaddr' | 'IPaddr2', arg: string, raw: string, line: number, sink: DiagnosticSink): Resource | undefined {
  const example = `e.g. ${agent}::10.0.0.20/24/eth0`;
  const fields = arg.split('/');
  if (fields.length > 4) {
    sink.error(line, `${agent} argument "${arg}" has too many parts`, `write IP[/CIDR[/NIC[:LABEL][/BROADCAST]]], ${example}`);
    return undefined;
  }
  const [ip, mask, nicLabel, broadcast] = fields as [string, string?, string?, string?];
  if (!isIpv4(ip)) {
    sink.error(line, `${agent} address "${ip}" is not an IPv4 address`, `write the VIP as a.b.c.d, ${example}`);
    return undefined;
  }
  const r: Resource = { kind: 'ip', agent, ip, raw };
  if (mask !== undefined && mask !== '') {
    const prefixLen = /^\d{1,2}$/.test(mask) ? Number(mask) : netmaskToPrefix(mask);
    if (prefixLen === undefined || prefixLen < 1 || prefixLen > 32) {
      sink.error(line, `${agent} netmask "${mask}" of ${ip} is not a prefix length (1–32) or a netmask`, `write /24 or /255.255.255.0, ${example}`);
      return undefined;
    }
    r.prefixLen = prefixLen;
  }
  if (nicLabel !== undefined && nicLabel !== '') {
    const colon = nicLabel.indexOf(':');
    const nic = colon >= 0 ? nicLabel.slice(0, colon) : nicLabel;
    const label = colon >= 0 ? nicLabel.slice(colon + 1) : undefined;
    if (!IFACE_NAME.test(nic)) {
      sink.error(line, `${agent} interface "${nic}" of ${ip} is not a valid interface name`, `write the interface as \`ip link\` shows it, ${example}`);
      return undefined;
    }
    if (label !== undefined && !/^[A-Za-z0-9_.\-]{1,15}$/.test(label)) {
      sink.error(line, `${agent} label "${label}" of ${ip} is not valid`, 'write a short label after the interface, e.g. eth0:0');
      return undefined;
    }
    r.nic = nic;
    if (label !== undefined) r.label = label;
  }
  if (broadcast !== undefined && broadcast !== '') {
    if (ipv4ToInt(broadcast) === undefined) {
      sink.error(line, `${agent} broadcast "${broadcast}" of ${ip} is not an IPv4 address`, `write it as a.b.c.d, e.g. ${agent}::10.0.0.20/24/eth0/10.0.0.255`);
      return undefined;
    }
    r.broadcast = broadcast;
  }
  return r;
}

/** The address with every group written out: Heartbeat's ResourceManager splits a resource's arguments at "::". */
export const ipv6Full = (ip: string): string => {
  const b = ipv6ToBytes(ip);
  return Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i).toString(16)).join(':');
};

/** `ADDR/…` with the address written in full (what Heartbeat's "::" splitting leaves whole). */
const fullArg = (arg: string): string => {
  const [ip, ...rest] = arg.split('/');
  return isIPv6(ip!) ? [ipv6Full(ip!), ...rest].join('/') : arg;
};

/** Do two IPv6 addresses share their first `prefixLen` bits? */
export function ipv6InPrefix(ip: string, net: string, prefixLen: number): boolean {
  const a = ipv6ToBytes(ip);
  const b = ipv6ToBytes(net);
  for (let bit = 0; bit < prefixLen; bit += 8) {
    const mask = prefixLen - bit >= 8 ? 0xff : (0xff << (8 - (prefixLen - bit))) & 0xff;
    if ((a[bit / 8]! & mask) !== (b[bit / 8]! & mask)) return false;
  }
  return true;
}

/** `ADDR[/PREFIX[/NIC]]` of IPv6addr, and IPaddr2 with an IPv6 address (no label, no broadcast: IPv4 things). */
function parseIpv6Argument(agent: 'IPaddr2' | 'IPv6addr', arg: string, raw: string, line: number, sink: DiagnosticSink): Resource | undefined {
  const fields = arg.split('/');
  const [text, prefix, nic, ...extra] = fields as [string, string?, string?, ...string[]];
  if (!isIPv6(text)) {
    sink.error(line, `${agent} address "${text}" is not an IPv6 address`, `write ${agent}::ADDR/PREFIX/IFACE, ${IPV6_EXAMPLE}`);
    return undefined;
  }
  const ip = ipv6FromBytes(ipv6ToBytes(text));
  if (extra.length) {
    sink.error(line, `${agent} argument "${arg}" has too many parts: an IPv6 address takes ADDR/PREFIX/IFACE (no broadcast)`, `write ${agent}::${ipv6Full(ip)}/${prefix || 64}/${nic || 'eth0'}`);
    return undefined;
  }
  if (/^(ff|::$|::1$|::ffff:)/i.test(ip) || ip === '::1') {
    sink.error(line, `${agent} address ${ip} cannot float (multicast, unspecified, loopback or IPv4-mapped)`, `give a unicast address of the clients' prefix, ${IPV6_EXAMPLE}`);
    return undefined;
  }
  const r: Resource = { kind: 'ip', agent, ip, raw };
  if (prefix !== undefined && prefix !== '') {
    const n = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!(n >= 1 && n <= 128)) {
      sink.error(line, `${agent} prefix length "${prefix}" of ${ip} is not 1–128`, `write a prefix length such as /64, ${IPV6_EXAMPLE}`);
      return undefined;
    }
    r.prefixLen = n;
  }
  if (nic !== undefined && nic !== '') {
    if (nic.includes(':')) {
      sink.error(line, `${agent} interface "${nic}" of ${ip} has a label: labels are IPv4 only`, `write the interface alone, ${IPV6_EXAMPLE}`);
      return undefined;
    }
    if (!IFACE_NAME.test(nic)) {
      sink.error(line, `${agent} interface "${nic}" of ${ip} is not a valid interface name`, `write the interface as \`ip link\` shows it, ${IPV6_EXAMPLE}`);
      return undefined;
    }
    r.nic = nic;
  }
  if (text.includes('::')) {
    sink.warning(line, `${agent}::${arg}: Heartbeat 3.0.6's ResourceManager splits resource arguments at "::", so the real Heartbeat would run ${agent} with the pieces of ${text} (hadiag reads the one address)`, `write the address in full to keep this haresources usable by Heartbeat: ${agent}::${[ipv6Full(ip), ...fields.slice(1)].join('/')}`);
  }
  return r;
}

/** Parse haresources; throws a HadiagError (configuration) naming file:line for the first error. */
export function parseHaresources(text: string, file = 'haresources'): ResourceGroup[] {
  const { groups, diagnostics } = analyzeHaresources(text, file);
  const sink = new DiagnosticSink(file);
  sink.items.push(...diagnostics);
  sink.throwFirstError();
  return groups;
}
