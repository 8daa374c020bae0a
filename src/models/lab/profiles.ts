/** The lab's client behaviours, as data: sysctls and an nftables ARP rule per profile (effects/lab/profiles.ts applies them). */
import { usageError } from '../../core/errors.js';

/** A client behaviour: sysctls on the client's interface and/or an nftables arp table. */
export interface ClientProfile {
  name: string;
  summary: string;
  /** net.ipv4.conf.IF.* values */
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

/** Neighbour settings a test (or user) may override on any profile (shrunk timers). */
export const NEIGH_KEYS = ['base_reachable_time_ms', 'delay_first_probe_time', 'ucast_solicit', 'mcast_solicit', 'mcast_resolicit', 'retrans_time_ms', 'gc_stale_time'] as const;
export type NeighOverrides = Partial<Record<(typeof NEIGH_KEYS)[number], number>>;

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

/** The sysctl lines a profile (plus overrides) sets on interface `ifname`. */
export function profileSysctls(p: ClientProfile, ifname: string, overrides: NeighOverrides = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(p.conf ?? {})) out[`net.ipv4.conf.${ifname}.${k}`] = v;
  for (const [k, v] of Object.entries({ ...p.neigh, ...overrides })) out[`net.ipv4.neigh.${ifname}.${k}`] = v as number;
  return out;
}

export function profileNftScript(p: ClientProfile, vip: string): string | undefined {
  if (!p.arpRule) return undefined;
  return `table arp ${nftTable} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    ${p.arpRule(vip)}\n  }\n}\n`;
}
