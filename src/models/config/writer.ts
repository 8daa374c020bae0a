/**
 * ha.cf, haresources and authkeys from settings, in Heartbeat's syntax: the one writer of these files (lab
 * managers, tests). Pure: texts out. hacf.ts, haresources.ts and authkeys.ts read back what it wrote; a value
 * those files cannot hold (a space, `#`, a comma in a name, a duration that is not whole milliseconds) is
 * refused rather than written wrong.
 */
import type { AuthMethod } from './authkeys.js';

export type MediumSettings =
  | { kind: 'bcast'; iface: string }
  | { kind: 'mcast'; iface: string; group: string; port: number; ttl: number; loop: boolean }
  | { kind: 'ucast'; iface: string; peer: string };

/** ha.cf, field names as hacf.ts's HaCf. Written in this order; what is left out is not written. */
export interface HaCfSettings {
  /** comment lines at the top (without the `#`) */
  comment?: string[];
  logfile?: string;
  logfacility?: string;
  useLogd?: boolean;
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs?: number;
  initdeadMs?: number;
  /** the port of the bcast/ucast lines (written before them) */
  udpport?: number;
  media: MediumSettings[];
  autoFailback: 'on' | 'off' | 'legacy';
  /** write `crm no` (Heartbeat then runs haresources, as every node here does) */
  crmNo?: boolean;
  nodes: string[];
  /** `ping` lines (one address each) and `deadping` */
  ping?: string[];
  deadpingMs?: number;
  /** `respawn USER COMMAND` lines (e.g. ipfail) */
  respawn?: { user: string; command: string }[];
}

export type ResourceSettings =
  | {
      kind: 'ip';
      /** default IPaddr; IPv6addr (Heartbeat's IPv6 agent) takes ADDR/PREFIX/IFACE only */
      agent?: 'IPaddr' | 'IPaddr2' | 'IPv6addr';
      ip: string;
      prefixLen?: number;
      /** how the prefix is written: /24 (default) or /255.255.255.0 (as the field report writes it) */
      mask?: 'prefix' | 'dotted';
      nic?: string;
      label?: string;
      broadcast?: string;
    }
  | { kind: 'script'; name: string; args: string[] };

/** One haresources line: the node that owns the group, then its resources. */
export interface ResourceGroupSettings {
  node: string;
  resources: ResourceSettings[];
}

export interface AuthkeysSettings {
  /** the index `auth N` selects for sending */
  active: number;
  keys: { index: number; method: AuthMethod; key?: string }[];
}

export interface HaConfigSettings {
  hacf: HaCfSettings;
  haresources: ResourceGroupSettings[];
  authkeys: AuthkeysSettings;
}

export interface HaConfigTexts {
  hacf: string;
  haresources: string;
  authkeys: string;
}

/** A word Heartbeat reads back as itself: no space, no `#` (a comment anywhere), no comma (a list). */
function word(what: string, value: string): string {
  if (!/^[^\s#,]+$/.test(value)) throw new Error(`${what} "${value}" cannot be written as one ha.d word`);
  return value;
}

/** ha.cf duration: whole seconds bare, otherwise milliseconds with `ms` (Heartbeat's rule). */
export function haCfDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`duration ${ms} ms cannot be written in ha.cf (whole milliseconds above 0)`);
  return ms % 1000 === 0 ? String(ms / 1000) : `${ms}ms`;
}

/** Dotted netmask for a prefix length (haresources' IPaddr form, as the field report writes it). */
export function dottedNetmask(prefixLen: number): string {
  const n = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

function mediumLine(m: MediumSettings): string {
  const iface = word('interface', m.iface);
  if (m.kind === 'bcast') return `bcast ${iface}`;
  if (m.kind === 'ucast') return `ucast ${iface} ${word('ucast peer', m.peer)}`;
  return `mcast ${iface} ${word('mcast group', m.group)} ${m.port} ${m.ttl} ${m.loop ? 1 : 0}`;
}

export function writeHaCf(s: HaCfSettings): string {
  const lines: string[] = [];
  for (const c of s.comment ?? []) {
    if (/[\r\n]/.test(c)) throw new Error(`comment "${c}" spans lines`);
    lines.push(`# ${c}`);
  }
  if (s.logfile !== undefined) lines.push(`logfile ${word('logfile', s.logfile)}`);
  if (s.logfacility !== undefined) lines.push(`logfacility ${word('logfacility', s.logfacility)}`);
  if (s.useLogd !== undefined) lines.push(`use_logd ${s.useLogd}`);
  lines.push(`keepalive ${haCfDuration(s.keepaliveMs)}`, `deadtime ${haCfDuration(s.deadtimeMs)}`);
  if (s.warntimeMs !== undefined) lines.push(`warntime ${haCfDuration(s.warntimeMs)}`);
  if (s.initdeadMs !== undefined) lines.push(`initdead ${haCfDuration(s.initdeadMs)}`);
  if (s.udpport !== undefined) lines.push(`udpport ${s.udpport}`);
  lines.push(...s.media.map(mediumLine));
  lines.push(`auto_failback ${s.autoFailback}`);
  if (s.crmNo) lines.push('crm no');
  lines.push(...s.nodes.map((n) => `node ${word('node name', n)}`));
  if (s.deadpingMs !== undefined) lines.push(`deadping ${haCfDuration(s.deadpingMs)}`);
  lines.push(...(s.ping ?? []).map((h) => `ping ${word('ping node', h)}`));
  for (const r of s.respawn ?? []) {
    if (/[\r\n#]/.test(r.command)) throw new Error(`respawn command "${r.command}" cannot be written on one ha.cf line`);
    lines.push(`respawn ${word('respawn user', r.user)} ${r.command}`);
  }
  return lines.join('\n') + '\n';
}

/** `ip[/mask[/nic[:label][/broadcast]]]`, trailing empty parts left out. */
function ipArgument(r: Extract<ResourceSettings, { kind: 'ip' }>): string {
  if (r.label !== undefined && r.nic === undefined) throw new Error(`label "${r.label}" of ${r.ip} needs an interface`);
  if (r.agent === 'IPv6addr' && (r.mask === 'dotted' || r.label !== undefined || r.broadcast !== undefined)) throw new Error(`IPv6addr ${r.ip} takes ADDR/PREFIX/IFACE only (no dotted mask, label or broadcast)`);
  const mask = r.prefixLen === undefined ? '' : r.mask === 'dotted' ? dottedNetmask(r.prefixLen) : String(r.prefixLen);
  const nic = r.nic === undefined ? '' : r.label === undefined ? r.nic : `${r.nic}:${r.label}`;
  const fields = [r.ip, mask, nic, r.broadcast ?? ''];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return fields.join('/');
}

function resourceToken(r: ResourceSettings): string {
  if (r.kind === 'ip') return word('IP resource', `${r.agent ?? 'IPaddr'}::${ipArgument(r)}`);
  return word('resource', [r.name, ...r.args].join('::'));
}

export function writeHaresources(groups: ResourceGroupSettings[]): string {
  return groups.map((g) => [word('node name', g.node), ...g.resources.map(resourceToken)].join(' ') + '\n').join('');
}

export function writeAuthkeys(s: AuthkeysSettings): string {
  const lines = [`auth ${s.active}`];
  for (const k of s.keys) lines.push(k.method === 'crc' ? `${k.index} crc` : `${k.index} ${k.method} ${word(`key ${k.index}`, k.key ?? '')}`);
  return lines.join('\n') + '\n';
}

/** The three files of a Heartbeat configuration directory (/etc/ha.d). */
export function writeHaConfig(s: HaConfigSettings): HaConfigTexts {
  return { hacf: writeHaCf(s.hacf), haresources: writeHaresources(s.haresources), authkeys: writeAuthkeys(s.authkeys) };
}
