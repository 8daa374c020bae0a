/**
 * The ha.cf directives beyond timers, media and nodes: ping nodes (`ping`, `ping_group`), `respawn` (with
 * ipfail built in and API clients refused), `env`, the value-checked ones (`hbgenmethod`, `autojoin`, `uuidfrom`,
 * `udp`), and the table of hadiag-dispositions for everything else Heartbeat 3.0.6 knows (hacf-directives.ts).
 */
import { isIpv4 } from '../../codecs/ipv4-address.js';
import type { DiagnosticSink } from './diagnostics.js';
import { API_CLIENTS, HACF_DIRECTIVES } from './hacf-directives.js';

/** A ping node as Heartbeat has it: `ping H` is one node per address; `ping_group NAME H…` one node for all. */
export interface PingNode {
  /** the node name Heartbeat gives it: the address for `ping`, NAME for `ping_group` */
  name: string;
  hosts: string[];
  group: boolean;
  line: number;
}

export interface RespawnEntry {
  user: string;
  /** the command line as written after the user */
  command: string;
  argv: string[];
  line: number;
  /** ipfail: hadiag's built-in policy takes its place (the program is not run) */
  builtin?: 'ipfail';
}

/** What hacf.ts keeps of these directives (fields of HaCf). */
export interface HaCfExtra {
  ping: string[];
  pingNodes: PingNode[];
  respawn: RespawnEntry[];
  env: Record<string, string>;
  /** ipfail is configured (a respawn line naming it): the built-in policy runs */
  ipfail: boolean;
}

export const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

type Handler = (args: string[], line: number, sink: DiagnosticSink, cf: HaCfExtra) => void;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function pingLine(args: string[], line: number, sink: DiagnosticSink, cf: HaCfExtra): void {
  const hosts = args.flatMap((a) => a.split(',')).filter(Boolean);
  if (hosts.length === 0) {
    sink.error(line, 'ping needs an address', 'write ping 10.0.0.1 (a host that is always up, e.g. the router)');
    return;
  }
  for (const h of hosts) {
    if (!isIpv4(h)) {
      sink.error(line, `ping node "${h}" is not an IPv4 address`, "write the ping node's IPv4 address, e.g. ping 10.0.0.1");
      continue;
    }
    if (cf.pingNodes.some((p) => p.name === h)) {
      sink.error(line, `ping node ${h} is declared twice`, 'remove one of the two');
      continue;
    }
    cf.ping.push(h);
    cf.pingNodes.push({ name: h, hosts: [h], group: false, line });
  }
}

function pingGroupLine(args: string[], line: number, sink: DiagnosticSink, cf: HaCfExtra): void {
  const [name, ...rest] = args;
  const hosts = rest.flatMap((a) => a.split(',')).filter(Boolean);
  if (!name || hosts.length === 0) {
    sink.error(line, 'ping_group needs a name and at least one address', 'write ping_group group1 10.0.0.1 10.0.0.2');
    return;
  }
  const bad = hosts.find((h) => !isIpv4(h));
  if (bad) {
    sink.error(line, `ping_group ${name} member "${bad}" is not an IPv4 address`, 'write IPv4 addresses, e.g. ping_group group1 10.0.0.1 10.0.0.2');
    return;
  }
  if (cf.pingNodes.some((p) => p.name === name)) {
    sink.error(line, `ping node ${name} is declared twice`, 'give each ping_group its own name');
    return;
  }
  cf.ping.push(...hosts);
  cf.pingNodes.push({ name, hosts, group: true, line });
}

function respawnLine(args: string[], line: number, sink: DiagnosticSink, cf: HaCfExtra): void {
  if (args.length < 2) {
    sink.error(line, 'respawn needs a user and a command', 'write respawn hacluster /usr/lib/heartbeat/ipfail');
    return;
  }
  const [user, ...argv] = args as [string, ...string[]];
  const program = argv[0]!;
  if (!program.startsWith('/')) {
    sink.error(line, `respawn command "${program}" is not a full path`, `write the absolute path, e.g. respawn ${user} /usr/bin/${program} (Heartbeat refuses this too)`);
    return;
  }
  const name = basename(program);
  const entry: RespawnEntry = { user, command: argv.join(' '), argv, line };
  if (name === 'ipfail') {
    entry.builtin = 'ipfail';
    cf.ipfail = true;
    sink.warning(line, `${program} is not run: hadiag's built-in ipfail policy takes its place (same messages, same decisions)`, 'nothing to do; remove the line to silence this');
  } else if (Object.hasOwn(API_CLIENTS, name)) {
    sink.error(line, `respawn ${name} needs Heartbeat's client API (${API_CLIENTS[name]}), which hadiag does not have`, 'remove the line, or run the real Heartbeat for this cluster');
    return;
  }
  cf.respawn.push(entry);
}

function envLine(args: string[], line: number, sink: DiagnosticSink, cf: HaCfExtra): void {
  const text = args.join(' ');
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq) : '';
  if (!ENV_NAME.test(name)) {
    sink.error(line, `env "${text}" is not NAME=VALUE`, 'write env NAME=VALUE, e.g. env FOO=bar');
    return;
  }
  cf.env[name] = text.slice(eq + 1);
}

/** A directive that takes one of some values; the others are refused with `fix`. */
function onlyValue(directive: string, accepted: string[], fix: string): Handler {
  return (args, line, sink) => {
    const value = args.join(' ');
    if (!accepted.includes(value.toLowerCase())) sink.error(line, `${directive} "${value}" is not supported`, fix);
  };
}

const HANDLERS: Record<string, Handler> = {
  ping: pingLine,
  ping_group: pingGroupLine,
  respawn: respawnLine,
  env: envLine,
  hbgenmethod: onlyValue('hbgenmethod', ['file'], 'write hbgenmethod file or remove the line: hadiag keeps its generation in its state directory'),
  autojoin: onlyValue('autojoin', ['none'], 'declare every node with a node line and write autojoin none (or remove the line)'),
  uuidfrom: onlyValue('uuidfrom', ['file'], 'write uuidfrom file or remove the line: hadiag keeps its uuid in its state directory'),
};

/**
 * A directive hacf.ts does not parse itself. Returns false when it is not one of Heartbeat's (an unknown
 * directive); otherwise records what it means, a warning (accepted: what hadiag does instead) or an error.
 */
export function parseExtraDirective(directive: string, args: string[], line: number, sink: DiagnosticSink, cf: HaCfExtra): boolean {
  const handler = HANDLERS[directive];
  if (handler) {
    handler(args, line, sink, cf);
    return true;
  }
  const entry = HACF_DIRECTIVES[directive];
  if (!entry) return false;
  const d = entry.disposition;
  if (d.kind === 'refused') sink.error(line, `directive "${directive}" is not supported`, d.fix);
  else if (d.kind === 'warned') sink.warning(line, `${directive}: ${d.instead}`, d.fix);
  return true;
}
