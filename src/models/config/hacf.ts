import { parseHaCfDuration } from '../../core/duration.js';
import { DiagnosticSink, location, type Diagnostic } from './diagnostics.js';
import { isIpv4, isMulticast } from '../../codecs/ipv4-address.js';
import { isIPv6 } from '../../codecs/addr.js';
import { parseExtraDirective, type HaCfExtra } from './hacf-extra.js';
import { HACF_DIRECTIVES } from './hacf-directives.js';

export type { PingNode, RespawnEntry } from './hacf-extra.js';

/** A heartbeat medium of ha.cf. `line` is its ha.cf line; `port` the UDP port it sends to and listens on. */
export type Medium =
  | { kind: 'bcast'; iface: string; port: number; line: number }
  | { kind: 'mcast'; iface: string; group: string; port: number; ttl: number; loop: boolean; line: number }
  | { kind: 'ucast'; iface: string; peer: string; port: number; line: number };

export interface HaCf extends HaCfExtra {
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
  udpport: number;
  autoFailback: 'on' | 'off' | 'legacy';
  /** Lower-cased, as Heartbeat stores them (it compares names with `uname -n` the same way). */
  nodes: string[];
  media: Medium[];
  logfile?: string;
  debugfile?: string;
  logfacility?: string;
  useLogd?: boolean;
  /** how long a ping node may go without an echo reply before it is dead (default: deadtime) */
  deadpingMs: number;
  warnings: Diagnostic[];
  /** ha.cf line of each directive that was written (the last one when repeated), for cross-check messages. */
  lines: Record<string, number>;
  /** Line of each node's `node` directive, keyed by the lower-cased name. */
  nodeLines: Record<string, number>;
}

/** Heartbeat 3.0.6's defaults (config.c): keepalive 1 s, deadtime 30 s, warntime deadtime/2, udpport 694. */
export const HACF_DEFAULTS = { keepaliveMs: 1000, deadtimeMs: 30_000, udpport: 694, autoFailback: 'legacy' } as const;

/**
 * Heartbeat's rule when initdead is not written: deadtime itself when deadtime > 10 s, 12 s when deadtime < 6 s,
 * else twice deadtime.
 */
export function defaultInitdeadMs(deadtimeMs: number): number {
  if (deadtimeMs > 10_000) return deadtimeMs;
  if (deadtimeMs < 6000) return 12_000;
  return 2 * deadtimeMs;
}

const DURATIONS = { keepalive: 'keepaliveMs', deadtime: 'deadtimeMs', warntime: 'warntimeMs', initdead: 'initdeadMs', deadping: 'deadpingMs' } as const;
type DurationDirective = keyof typeof DURATIONS;

const SYSLOG_FACILITIES = new Set([
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog', 'user', 'uucp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7', 'none',
]);

const KNOWN = Object.keys(HACF_DIRECTIVES);

const TRUE_WORDS = new Set(['true', 'on', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'off', 'no', 'n', '0']);

/** Heartbeat's cl_str_to_boolean: true/on/yes/y/1 and false/off/no/n/0, any case. */
export function parseHbBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return undefined;
}

const IFACE_NAME = /^[A-Za-z0-9_.\-]{1,15}$/;

/** The usable part of an ha.cf line: everything before `#` (Heartbeat cuts comments anywhere), trimmed. */
function stripComment(raw: string): string {
  const hash = raw.indexOf('#');
  return (hash >= 0 ? raw.slice(0, hash) : raw).replace(/\r$/, '').trim();
}

export interface HaCfAnalysis {
  /** Everything that could be parsed, defaults applied (meaningful only when there is no error). */
  hacf: HaCf;
  /** Every error and warning, in line order, then the file-level ones. */
  diagnostics: Diagnostic[];
}

/**
 * Parse ha.cf and keep going after errors, so a linter can list all of them. Pure: no file or host access.
 * Heartbeat's rules: `#` starts a comment anywhere; bare durations are seconds, `ms` suffix milliseconds;
 * `udpport` applies to the bcast/ucast lines after it; node names are compared lower-cased.
 */
export function analyzeHaCf(text: string, file = 'ha.cf'): HaCfAnalysis {
  const sink = new DiagnosticSink(file);
  const cf: HaCf = {
    keepaliveMs: HACF_DEFAULTS.keepaliveMs,
    deadtimeMs: HACF_DEFAULTS.deadtimeMs,
    warntimeMs: 0,
    initdeadMs: 0,
    udpport: HACF_DEFAULTS.udpport,
    autoFailback: HACF_DEFAULTS.autoFailback,
    nodes: [],
    media: [],
    deadpingMs: 0,
    ping: [],
    pingNodes: [],
    respawn: [],
    env: {},
    ipfail: false,
    warnings: [],
    lines: {},
    nodeLines: {},
  };
  let port: number = HACF_DEFAULTS.udpport; // what the next bcast/ucast line gets

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const body = stripComment(lines[i]!);
    if (!body) continue;
    const tokens = body.split(/\s+/);
    const directive = tokens[0]!;
    const args = tokens.slice(1);
    const where = location(file, lineNo);

    const one = (example: string): string | undefined => {
      if (args.length === 0) {
        sink.error(lineNo, `${directive} needs a value`, `write ${directive} ${example}`);
        return undefined;
      }
      if (args.length > 1) {
        sink.error(lineNo, `${directive} has more than one value "${args.join(' ')}"`, `write one value, e.g. ${directive} ${example}`);
        return undefined;
      }
      return args[0];
    };
    const noteRepeat = (): void => {
      const first = cf.lines[directive];
      if (first !== undefined) {
        sink.warning(lineNo, `${directive} is set again (also on line ${first})`, 'keep one line: the last one wins, as in Heartbeat');
      }
      cf.lines[directive] = lineNo;
    };

    if (directive in DURATIONS) {
      const value = one(directive === 'keepalive' ? '1' : directive === 'deadtime' ? '30' : '10');
      if (value === undefined) continue;
      const ms = sink.attempt(() => parseHaCfDuration(normalizeUnits(value), directive, where));
      if (ms === undefined) continue;
      if (ms <= 0) {
        sink.error(lineNo, `${directive} "${value}" must be more than 0`, `write a positive time, e.g. ${directive} 1 or ${directive} 500ms`);
        continue;
      }
      noteRepeat();
      cf[DURATIONS[directive as DurationDirective]] = ms;
      continue;
    }

    switch (directive) {
      case 'udpport': {
        const value = one('694');
        if (value === undefined) break;
        const p = parsePort(value);
        if (p === undefined) {
          sink.error(lineNo, `udpport "${value}" is not a UDP port`, 'write a port number from 1 to 65535 (Heartbeat uses 694)');
          break;
        }
        noteRepeat();
        for (const m of cf.media) {
          if (m.kind !== 'mcast' && m.port !== p) {
            sink.warning(
              m.line,
              `${m.kind} ${m.iface} uses port ${m.port}, not udpport ${p} (line ${lineNo} comes after it)`,
              'move the udpport line above the media lines: Heartbeat applies it only to bcast/ucast lines after it',
            );
          }
        }
        cf.udpport = p;
        port = p;
        break;
      }
      case 'udp':
      case 'bcast': {
        if (directive === 'udp') parseExtraDirective(directive, [], lineNo, sink, cf);
        const ifaces = args.flatMap((a) => a.split(',')).filter(Boolean);
        if (ifaces.length === 0) {
          sink.error(lineNo, 'bcast needs an interface', 'write bcast eth0 (the interface heartbeats are broadcast on)');
          break;
        }
        for (const iface of ifaces) {
          if (isIPv6(iface)) {
            sink.error(lineNo, `bcast ${iface}: an IPv6 address where an interface goes, and Heartbeat's media stay IPv4`, "write the interface (bcast eth0): heartbeats go to its IPv4 broadcast address; the VIP may still be IPv6 (haresources IPv6addr::ADDR/PREFIX/IFACE)");
            continue;
          }
          if (!checkIface(sink, lineNo, iface)) continue;
          cf.media.push({ kind: 'bcast', iface, port, line: lineNo });
        }
        break;
      }
      case 'mcast': {
        const example = 'e.g. mcast eth0 239.0.0.1 694 1 0';
        if (args.length !== 5) {
          sink.error(lineNo, `mcast needs 5 values, got ${args.length}`, `write mcast IFACE GROUP PORT TTL LOOP, ${example}`);
          break;
        }
        const [iface, group, portText, ttlText, loopText] = args as [string, string, string, string, string];
        if (!checkIface(sink, lineNo, iface)) break;
        if (isIPv6(group)) {
          sink.error(lineNo, `mcast group ${group} is an IPv6 address: Heartbeat's media stay IPv4`, `use an IPv4 group in 224.0.0.0/4 (${example}); the VIP may still be IPv6 (haresources IPv6addr::ADDR/PREFIX/IFACE)`);
          break;
        }
        if (!isMulticast(group)) {
          sink.error(lineNo, `mcast group "${group}" is not an IPv4 multicast address`, `use an address in 224.0.0.0/4, ${example}`);
          break;
        }
        const p = parsePort(portText);
        if (p === undefined) {
          sink.error(lineNo, `mcast port "${portText}" is not a UDP port`, `write a port number from 1 to 65535, ${example}`);
          break;
        }
        const ttl = /^\d{1,3}$/.test(ttlText) ? Number(ttlText) : NaN;
        if (!(ttl >= 1 && ttl <= 255)) {
          sink.error(lineNo, `mcast ttl "${ttlText}" is not 1–255`, `write 1 for one LAN, ${example}`);
          break;
        }
        if (loopText !== '0' && loopText !== '1') {
          sink.error(lineNo, `mcast loop "${loopText}" is not 0 or 1`, `write 0 (do not loop back), ${example}`);
          break;
        }
        cf.media.push({ kind: 'mcast', iface, group, port: p, ttl, loop: loopText === '1', line: lineNo });
        break;
      }
      case 'ucast': {
        if (args.length !== 2) {
          sink.error(lineNo, `ucast needs an interface and one peer, got ${args.length} values`, 'write one line per peer: ucast eth0 10.0.0.12');
          break;
        }
        const [iface, peer] = args as [string, string];
        if (!checkIface(sink, lineNo, iface)) break;
        if (isIPv6(peer)) {
          sink.error(lineNo, `ucast peer ${peer} is an IPv6 address: Heartbeat's media stay IPv4`, "write the peer's IPv4 address, e.g. ucast eth0 10.0.0.12; the VIP may still be IPv6 (haresources IPv6addr::ADDR/PREFIX/IFACE)");
          break;
        }
        if (!isIpv4(peer)) {
          sink.error(lineNo, `ucast peer "${peer}" is not an IPv4 address`, "write the peer's IPv4 address, e.g. ucast eth0 10.0.0.12");
          break;
        }
        cf.media.push({ kind: 'ucast', iface, peer, port, line: lineNo });
        break;
      }
      case 'auto_failback': {
        const value = one('on');
        if (value === undefined) break;
        const b = parseHbBoolean(value);
        const mode = b === true ? 'on' : b === false ? 'off' : value.toLowerCase() === 'legacy' ? 'legacy' : undefined;
        if (!mode) {
          sink.error(lineNo, `auto_failback "${value}" is not on, off or legacy`, 'write auto_failback on (resources go back to their home node) or off');
          break;
        }
        noteRepeat();
        cf.autoFailback = mode;
        break;
      }
      case 'node': {
        const names = args.flatMap((a) => a.split(',')).filter(Boolean);
        if (names.length === 0) {
          sink.error(lineNo, 'node needs a name', 'write node NAME with the name `uname -n` prints on that node');
          break;
        }
        for (const raw of names) {
          const name = raw.toLowerCase();
          const first = cf.nodeLines[name];
          if (first !== undefined) {
            sink.error(lineNo, `node "${raw}" is declared twice (also on line ${first})`, 'remove one of the two node lines');
            continue;
          }
          cf.nodes.push(name);
          cf.nodeLines[name] = lineNo;
        }
        break;
      }
      case 'logfile':
      case 'debugfile': {
        const value = one(`/var/log/ha-${directive === 'logfile' ? 'log' : 'debug'}`);
        if (value === undefined) break;
        noteRepeat();
        cf[directive] = value;
        break;
      }
      case 'logfacility': {
        const value = one('local0');
        if (value === undefined) break;
        if (!SYSLOG_FACILITIES.has(value.toLowerCase())) {
          sink.error(lineNo, `logfacility "${value}" is not a syslog facility`, 'write daemon, local0 … local7, or none');
          break;
        }
        noteRepeat();
        cf.logfacility = value;
        break;
      }
      case 'use_logd': {
        const value = one('yes');
        if (value === undefined) break;
        const b = parseHbBoolean(value);
        if (b === undefined) {
          sink.error(lineNo, `use_logd "${value}" is not yes or no`, 'write use_logd yes or use_logd no');
          break;
        }
        noteRepeat();
        cf.useLogd = b;
        if (b) parseExtraDirective(directive, [], lineNo, sink, cf); // warned: no ha_logd
        break;
      }
      case 'pacemaker':
      case 'crm': {
        const value = one('no');
        if (value === undefined) break;
        if (parseHbBoolean(value) !== false) {
          sink.error(lineNo, `${directive} "${value}" is not supported`, `hadiag runs haresources (v1) clusters: write ${directive} no, or remove the line`);
          break;
        }
        noteRepeat();
        break;
      }
      case 'msgfmt': {
        const value = one('netstring');
        if (value === undefined) break;
        if (value !== 'netstring') {
          sink.error(lineNo, `msgfmt "${value}" is not supported`, 'remove the line: hadiag sends the netstring format, as Heartbeat 3.0.6 does');
          break;
        }
        noteRepeat();
        break;
      }
      default: {
        if (parseExtraDirective(directive, args, lineNo, sink, cf)) break;
        const near = nearest(directive, KNOWN);
        sink.error(
          lineNo,
          `unknown directive "${directive}"`,
          near ? `did you mean ${near}? (docs/config.md lists the directives hadiag reads)` : 'remove it (docs/config.md lists the directives hadiag reads)',
        );
      }
    }
  }

  finish(cf, sink);
  cf.warnings = sink.warnings;
  return { hacf: cf, diagnostics: sink.items };
}

/** Whole-file checks Heartbeat makes at start-up (config.c), plus hadiag's own. */
function finish(cf: HaCf, sink: DiagnosticSink): void {
  if (cf.warntimeMs === 0) cf.warntimeMs = Math.floor(cf.deadtimeMs / 2);
  const initdeadWritten = cf.initdeadMs > 0;
  if (!initdeadWritten) cf.initdeadMs = defaultInitdeadMs(cf.deadtimeMs);

  if (cf.nodes.length === 0) {
    sink.error(undefined, 'no node is declared', 'add a node line for each cluster member, named as `uname -n` prints it (node server1 / node server2)');
  } else if (cf.nodes.length === 1) {
    sink.warning(cf.nodeLines[cf.nodes[0]!], `only one node is declared (${cf.nodes[0]})`, 'add a node line for the peer: with one node there is nothing to fail over to');
  }
  if (cf.media.length === 0) {
    sink.error(undefined, 'no heartbeat medium is declared', 'add a bcast, mcast or ucast line, e.g. bcast eth0');
  }
  const ms = (n: number) => `${n}ms`;
  if (cf.deadtimeMs <= 2 * cf.keepaliveMs) {
    sink.error(
      cf.lines.deadtime ?? cf.lines.keepalive,
      `deadtime (${ms(cf.deadtimeMs)}) must be more than twice keepalive (${ms(cf.keepaliveMs)})`,
      `raise deadtime above ${ms(2 * cf.keepaliveMs)} or lower keepalive (Heartbeat refuses this too)`,
    );
  }
  if (cf.lines.warntime !== undefined) {
    if (cf.warntimeMs >= cf.deadtimeMs) {
      sink.error(cf.lines.warntime, `warntime (${ms(cf.warntimeMs)}) must be less than deadtime (${ms(cf.deadtimeMs)})`, `lower warntime, e.g. to ${ms(Math.floor(cf.deadtimeMs / 2))} (half of deadtime, the default)`);
    } else if (cf.warntimeMs <= cf.keepaliveMs) {
      sink.warning(cf.lines.warntime, `warntime (${ms(cf.warntimeMs)}) is not more than keepalive (${ms(cf.keepaliveMs)})`, 'raise warntime between keepalive and deadtime, or remove it (default: half of deadtime)');
    }
  }
  if (initdeadWritten) {
    if (cf.initdeadMs < cf.deadtimeMs) {
      sink.error(cf.lines.initdead, `initdead (${ms(cf.initdeadMs)}) is less than deadtime (${ms(cf.deadtimeMs)})`, `raise initdead to at least ${ms(Math.max(cf.deadtimeMs, 10_000))} (Heartbeat refuses this too)`);
    } else if (cf.initdeadMs < 10_000) {
      sink.warning(cf.lines.initdead, `initdead (${ms(cf.initdeadMs)}) may be too short for a network that is slow to come up`, 'make it at least 10 seconds, as Heartbeat advises');
    }
  }
  pingChecks(cf, sink);
  if (cf.autoFailback === 'legacy') {
    sink.warning(
      cf.lines.auto_failback,
      cf.lines.auto_failback === undefined ? 'auto_failback is not set, so it is legacy (deprecated)' : 'auto_failback legacy is deprecated',
      'write auto_failback on or auto_failback off',
    );
  }
  sink.items.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

/** Heartbeat's deadping rules (config.c: default deadtime, more than twice keepalive) and ipfail's own (ipfail.c). */
function pingChecks(cf: HaCf, sink: DiagnosticSink): void {
  const ms = (n: number) => `${n}ms`;
  if (cf.deadpingMs === 0) cf.deadpingMs = cf.deadtimeMs;
  else if (cf.deadpingMs <= 2 * cf.keepaliveMs) {
    sink.error(cf.lines.deadping, `deadping (${ms(cf.deadpingMs)}) must be more than twice keepalive (${ms(cf.keepaliveMs)})`, `raise deadping above ${ms(2 * cf.keepaliveMs)} (Heartbeat refuses this too)`);
  }
  if (cf.lines.deadping !== undefined && cf.pingNodes.length === 0) {
    sink.warning(cf.lines.deadping, 'deadping is set but no ping node is declared', 'add a ping line (e.g. ping 10.0.0.1, the router) or remove deadping');
  }
  const ipfail = cf.respawn.find((r) => r.builtin === 'ipfail');
  if (!ipfail) return;
  if (cf.autoFailback === 'legacy') {
    sink.error(ipfail.line, 'ipfail does not work with auto_failback legacy (the real ipfail exits at start)', 'write auto_failback on or auto_failback off');
  }
  if (cf.pingNodes.length === 0) {
    sink.warning(ipfail.line, 'ipfail without a ping node never moves anything', 'add a ping line naming a host on the client side (e.g. the router)');
  }
}

/**
 * Heartbeat's get_msec also takes `msec`, `us`/`usec` and any letter case (`500MS`); bring those to the
 * `Nms` form parseHaCfDuration reads (microseconds rounded to milliseconds, as Heartbeat rounds).
 */
function normalizeUnits(text: string): string {
  const m = /^(\d*\.?\d+)(ms|msec|us|usec)$/i.exec(text);
  if (!m) return text;
  const n = Number(m[1]);
  return m[2]!.toLowerCase().startsWith('u') ? `${Math.round(n / 1000)}ms` : `${n}ms`;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const p = Number(text);
  return p >= 1 && p <= 65535 ? p : undefined;
}

function checkIface(sink: DiagnosticSink, line: number, iface: string): boolean {
  if (IFACE_NAME.test(iface)) return true;
  sink.error(line, `interface name "${iface}" is not valid`, 'write an interface name as `ip link` shows it (at most 15 letters, digits, . _ -)');
  return false;
}

/** The known word closest to `word` when it is a plausible typo (edit distance ≤ 2). */
function nearest(word: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Parse ha.cf; throws a HadiagError (configuration) naming file:line for the first error. Warnings are in `.warnings`. */
export function parseHaCf(text: string, file = 'ha.cf'): HaCf {
  const { hacf, diagnostics } = analyzeHaCf(text, file);
  const sink = new DiagnosticSink(file);
  sink.items.push(...diagnostics);
  sink.throwFirstError();
  return hacf;
}
