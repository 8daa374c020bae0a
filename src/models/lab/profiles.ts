/** The lab's client behaviours, as data: sysctls and an nftables ARP rule per profile (effects/lab/profiles.ts applies them). */
import { usageError } from '../../core/errors.js';

/** A client behaviour: sysctls on the client's interface and/or an nftables arp table. */
export interface ClientProfile {
  name: string;
  summary: string;
  /** the family whose behaviour it sets (IPv4 profiles: ARP; IPv6: neighbour discovery); 4 when unset */
  family?: 4 | 6;
  /** net.ipv4.conf.IF.* values (family 4) or net.ipv6.conf.IF.* values (family 6) */
  conf?: Record<string, number>;
  /** net.ipv4.neigh.IF.* values */
  neigh?: Record<string, number>;
  /** body of the input chain of `table arp hadiag` (the lab's VIP substituted) */
  arpRule?: (vip: string) => string;
  /** start without a neighbour entry for the VIP */
  noEntry?: boolean;
}

export const PROFILES: ClientProfile[] = [
  { name: 'linux-default', summary: 'stock Linux neighbour settings (reachable 15–45 s, delay 5 s, 3 unicast probes)' },
  {
    name: 'garp-filtered',
    summary: 'nft drops every ARP whose sender IP = target IP = the VIP (the field report: the PC never acts on the GARP)',
    arpRule: (vip) => `arp saddr ip ${vip} arp daddr ip ${vip} counter drop comment "garp-filtered"`,
  },
  {
    name: 'requests-filtered',
    summary: 'nft drops only gratuitous ARP requests for the VIP; gratuitous replies still get through',
    arpRule: (vip) => `arp operation request arp saddr ip ${vip} arp daddr ip ${vip} counter drop comment "requests-filtered"`,
  },
  { name: 'drop-gratuitous', summary: 'sysctl drop_gratuitous_arp=1: the kernel ignores every gratuitous ARP', conf: { drop_gratuitous_arp: 1 } },
  { name: 'accept-new', summary: 'sysctl arp_accept=1 and no entry for the VIP beforehand: a GARP creates the entry', conf: { arp_accept: 1 }, noEntry: true },
  {
    name: 'tuned',
    summary: 'short reachable time, no unicast probes: base_reachable_time_ms 5000, delay_first_probe_time 1, ucast_solicit 0, mcast_resolicit 3',
    neigh: { base_reachable_time_ms: 5000, delay_first_probe_time: 1, ucast_solicit: 0, mcast_resolicit: 3 },
  },
];

/**
 * IPv6 client behaviours: the kernel settings that change what an unsolicited NA does (docs/ipv6.md section 2).
 * An NA that lacks what Linux needs (no override flag, no target link-layer option) is a strategy, not a profile.
 */
export const PROFILES6: ClientProfile[] = [
  { name: 'linux-default', family: 6, summary: 'stock Linux IPv6: an unsolicited NA [O] with target LL moves an existing entry, never creates one (reachable 15–45 s, delay 5 s, 3 unicast NS)' },
  { name: 'drop-unsolicited-na', family: 6, summary: 'sysctl drop_unsolicited_na=1: the kernel drops every NA without the solicited flag', conf: { drop_unsolicited_na: 1 } },
  {
    name: 'forwarding-untracked',
    family: 6,
    summary: 'sysctl forwarding=1 and accept_untracked_na=1 (a router, kernel ≥ 5.18): an unsolicited NA also creates a missing entry; the router flag of NAs is honoured',
    conf: { forwarding: 1, accept_untracked_na: 1 },
  },
];

/** Neighbour settings a test (or user) may override on any profile (shrunk timers). */
export const NEIGH_KEYS = ['base_reachable_time_ms', 'delay_first_probe_time', 'ucast_solicit', 'mcast_solicit', 'mcast_resolicit', 'retrans_time_ms', 'gc_stale_time'] as const;
export type NeighOverrides = Partial<Record<(typeof NEIGH_KEYS)[number], number>>;

/** An IPv6 client profile by name. */
export function getProfile6(name: string): ClientProfile {
  const p = PROFILES6.find((x) => x.name === name);
  if (!p) throw usageError(`unknown IPv6 client profile "${name}"`, '--client-profile', `use one of: ${PROFILES6.map((x) => x.name).join(', ')} (hadiag lab profiles)`);
  return p;
}

/** What one client gets, per family: `NAME[+NAME]` (at most one profile per family; linux-default is both). */
export interface ClientProfiles {
  v4?: ClientProfile;
  v6?: ClientProfile;
}

/**
 * Resolve a client's profile text for a lab of these families: each name is an IPv4 profile, an IPv6 one or
 * both (linux-default); a family the lab has and no name chose gets linux-default. Names for a family the lab
 * does not have, or two names for one family, are refused.
 */
export function resolveClientProfiles(text: string, families: readonly (4 | 6)[]): ClientProfiles {
  const out: ClientProfiles = {};
  const names = String(text).split('+').map((n) => n.trim()).filter(Boolean);
  const fix = `write one profile per family joined by +, e.g. garp-filtered+drop-unsolicited-na; IPv4: ${PROFILES.map((p) => p.name).join(', ')}; IPv6: ${PROFILES6.map((p) => p.name).join(', ')}`;
  if (!names.length) throw usageError(`client profile "${text}" is empty`, '--client-profile', fix);
  const both: ClientProfile[] = [];
  for (const name of names) {
    const p4 = PROFILES.find((p) => p.name === name);
    const p6 = PROFILES6.find((p) => p.name === name);
    if (!p4 && !p6) throw usageError(`unknown client profile "${name}"`, '--client-profile', fix);
    if (p4 && p6) {
      both.push(p4, p6);
      continue;
    }
    const f = p4 ? 4 : 6;
    if (!families.includes(f)) {
      throw usageError(`client profile "${name}" sets IPv${f} behaviour and this lab has no IPv${f} VIP`, '--client-profile', `add --family ${f}, or use an IPv${f === 4 ? 6 : 4} profile: ${(f === 4 ? PROFILES6 : PROFILES).map((p) => p.name).join(', ')}`);
    }
    const key = f === 4 ? 'v4' : 'v6';
    if (out[key]) throw usageError(`client profile "${text}" names two IPv${f} profiles (${out[key]!.name}, ${name})`, '--client-profile', fix);
    out[key] = (p4 ?? p6)!;
  }
  for (const p of both) {
    const key = p.family === 6 ? 'v6' : 'v4';
    if (families.includes(p.family ?? 4)) out[key] ??= p;
  }
  if (families.includes(4)) out.v4 ??= PROFILES[0]!;
  if (families.includes(6)) out.v6 ??= PROFILES6[0]!;
  return out;
}

export function getProfile(name: string): ClientProfile {
  const p = PROFILES.find((x) => x.name === name);
  if (!p) throw usageError(`unknown client profile "${name}"`, '--client-profile', `use one of: ${PROFILES.map((x) => x.name).join(', ')} (hadiag lab profiles)`);
  return p;
}

/** Parse `KEY=VALUE` neighbour overrides (e.g. base_reachable_time_ms=2000). */
export function parseNeighOverride(text: string): NeighOverrides {
  const m = /^([a-z_]+)=(\d+)$/.exec(String(text).trim());
  if (!m || !(NEIGH_KEYS as readonly string[]).includes(m[1]!)) {
    throw usageError(`neighbour setting "${text}" is not understood`, '--client-neigh', `write KEY=NUMBER with KEY one of ${NEIGH_KEYS.join(', ')}`);
  }
  return { [m[1]!]: Number(m[2]) } as NeighOverrides;
}

export const nftTable = 'hadiag';

/** The sysctl lines a profile (plus overrides) sets on interface `ifname` (net.ipv4.* or, for an IPv6 profile, net.ipv6.*). */
export function profileSysctls(p: ClientProfile, ifname: string, overrides: NeighOverrides = {}): Record<string, number> {
  const out: Record<string, number> = {};
  const ns = p.family === 6 ? 'ipv6' : 'ipv4';
  for (const [k, v] of Object.entries(p.conf ?? {})) out[`net.${ns}.conf.${ifname}.${k}`] = v;
  for (const [k, v] of Object.entries({ ...p.neigh, ...overrides })) out[`net.${ns}.neigh.${ifname}.${k}`] = v as number;
  return out;
}

export function profileNftScript(p: ClientProfile, vip: string): string | undefined {
  if (!p.arpRule) return undefined;
  return `table arp ${nftTable} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    ${p.arpRule(vip)}\n  }\n}\n`;
}
