/** What check-config compares the files with about this host, as data (effects/config/host-facts.ts gathers it). */

/** What check-config needs to know about one network interface of this host. */
export interface HostInterface {
  name: string;
  up: boolean;
  ipv4: { address: string; prefixLen: number; broadcast?: string }[];
  /** IPv6 addresses (link-local ones included) with their DAD state */
  ipv6?: { address: string; prefixLen: number; scope?: string; tentative?: boolean; dadfailed?: boolean }[];
}

export type PortState = 'free' | 'in-use' | 'unknown';

/** The host facts check-config compares the files with (gathered by gatherHostFacts, or given by a test). */
export interface HostFacts {
  hostname: string;
  interfaces: HostInterface[];
  ports: Record<number, PortState>;
}

interface IpAddrJson {
  ifname?: string;
  flags?: string[];
  addr_info?: { family?: string; local?: string; prefixlen?: number; broadcast?: string; scope?: string; tentative?: boolean; dadfailed?: boolean }[];
}

/** Pure: `ip -json addr` output to HostInterface[]. */
export function interfacesFromIpJson(json: unknown): HostInterface[] {
  if (!Array.isArray(json)) return [];
  return (json as IpAddrJson[])
    .filter((l) => typeof l.ifname === 'string')
    .map((l) => ({
      name: l.ifname!,
      up: (l.flags ?? []).includes('UP'),
      ipv4: (l.addr_info ?? [])
        .filter((a) => a.family === 'inet' && typeof a.local === 'string')
        .map((a) => {
          const addr: HostInterface['ipv4'][number] = { address: a.local!, prefixLen: a.prefixlen ?? 32 };
          if (a.broadcast) addr.broadcast = a.broadcast;
          return addr;
        }),
      ipv6: (l.addr_info ?? [])
        .filter((a) => a.family === 'inet6' && typeof a.local === 'string')
        .map((a) => ({ address: a.local!, prefixLen: a.prefixlen ?? 128, ...(a.scope ? { scope: a.scope } : {}), ...(a.tentative ? { tentative: true } : {}), ...(a.dadfailed ? { dadfailed: true } : {}) })),
    }));
}
