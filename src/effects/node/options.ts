/**
 * run-node's options, defined once. `hadiag run-node` (yargs, src/commands/run-node.ts) and the daemon's own
 * entry point (node:util parseArgs, main.ts, which bin/hadiag.js calls without loading yargs) both derive
 * their option definitions from this table and turn the parsed values into NodeOptions with toNodeOptions.
 */
import { DEFAULT_STRATEGY } from '../../models/strategy/language.js';

export const DEFAULT_STATE_DIR = '/var/lib/hadiag';
/**
 * run-node's announcement for an IPv4 VIP: ARP requests from the VIP to each client the node has seen recover
 * every client profile within deadtime, GARP-filtering ones included (compare-garp, docs/compare-garp.md); with
 * no client known at takeover it falls back to send_arp-style request+reply rounds.
 */
export const DEFAULT_GARP = DEFAULT_STRATEGY[4];
/**
 * run-node's announcement for an IPv6 VIP (docs/run-node.md, IPv6): unsolicited NAs, an NS from the VIP to
 * each known client, and answers to the NSs clients still send to the dead MAC. compare-garp --family 6 names
 * the default's row with this.
 */
export const DEFAULT_GARP6 = DEFAULT_STRATEGY[6];
/** `--garp`'s default: the alias for DEFAULT_GARP (IPv4 VIPs) and DEFAULT_GARP6 (IPv6 VIPs). */
export const DEFAULT_GARP_ALIAS = 'default';

export interface NodeOptions {
  configDir: string;
  node?: string;
  stateDir: string;
  garp: string;
  capture: boolean;
  captureDir?: string;
  json: boolean;
  debug?: boolean;
  /** don't check the authkeys file mode (tests) */
  checkMode?: boolean;
}

export interface NodeOptionSpec {
  name: string;
  type: 'string' | 'boolean';
  default?: string | boolean;
  description: string;
  /** the value's placeholder in the daemon's usage line (string options) */
  metavar?: string;
  /** left out of the daemon's usage line */
  unlisted?: boolean;
  /** accepted by the daemon's own parser only (the CLI has it as a global option, or not at all) */
  daemonOnly?: boolean;
}

export const NODE_OPTIONS: readonly NodeOptionSpec[] = [
  { name: 'config-dir', type: 'string', default: '/etc/ha.d', metavar: '/etc/ha.d', description: 'directory with ha.cf, authkeys (mode 600) and haresources' },
  { name: 'node', type: 'string', metavar: 'NAME', description: "this node's name (default: `uname -n`, as Heartbeat)" },
  { name: 'state-dir', type: 'string', default: DEFAULT_STATE_DIR, metavar: DEFAULT_STATE_DIR, description: 'generation, uuid, address ledger and the control socket live here' },
  { name: 'garp', type: 'string', default: DEFAULT_GARP_ALIAS, metavar: 'SPEC', description: `announcement strategy after taking an IP (spec language of garp-check --send; default: ${DEFAULT_GARP} for an IPv4 VIP, ${DEFAULT_GARP6} for an IPv6 one)` },
  { name: 'capture', type: 'boolean', default: false, description: 'confirm each announcement on the wire with a second capture handle and keep a pcap' },
  { name: 'capture-dir', type: 'string', metavar: 'DIR', description: 'where --capture writes its pcap (default ./captures, or STATE_DIR/captures when run from /)' },
  { name: 'json', type: 'boolean', default: false, description: 'log as JSON lines on stdout' },
  { name: 'debug', type: 'boolean', default: false, description: 'show stack traces on errors', daemonOnly: true },
  { name: 'no-check-mode', type: 'boolean', default: false, description: "don't check the authkeys file mode (tests)", daemonOnly: true, unlisted: true },
];

/** Parsed option values, keyed by option name (as both parsers deliver them). */
export type NodeOptionValues = Record<string, string | boolean | undefined>;

/** NodeOptions from parsed values; options a parser does not know take their table default. */
export function toNodeOptions(values: NodeOptionValues): NodeOptions {
  const value = (name: string): string | boolean | undefined => values[name] ?? NODE_OPTIONS.find((o) => o.name === name)?.default;
  const o: NodeOptions = {
    configDir: String(value('config-dir')),
    stateDir: String(value('state-dir')),
    garp: String(value('garp')),
    capture: !!value('capture'),
    json: !!value('json'),
    debug: !!value('debug'),
    checkMode: !value('no-check-mode'),
  };
  const node = value('node');
  const captureDir = value('capture-dir');
  if (node) o.node = String(node);
  if (captureDir) o.captureDir = String(captureDir);
  return o;
}

const USAGE_WIDTH = 100;

/** The usage the daemon prints for --help (and, on one line, after a bad option). */
export function nodeUsage(): string {
  const head = 'usage: hadiag run-node ';
  const parts = NODE_OPTIONS.filter((o) => !o.unlisted).map((o) => (o.type === 'boolean' ? `[--${o.name}]` : `[--${o.name} ${o.metavar}]`));
  const lines = [head];
  for (const part of parts) {
    const line = lines[lines.length - 1]!;
    if (line.trim().length > head.trim().length && line.length + part.length + 1 > USAGE_WIDTH) lines.push(' '.repeat(head.length) + part);
    else lines[lines.length - 1] = line.endsWith(' ') ? line + part : `${line} ${part}`;
  }
  return lines.join('\n');
}
