import { createSocket } from 'node:dgram';
import { ipJson } from '../io/exec.js';

/** What check-config needs to know about one network interface of this host. */
export interface HostInterface {
  name: string;
  up: boolean;
  ipv4: { address: string; prefixLen: number; broadcast?: string }[];
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
  addr_info?: { family?: string; local?: string; prefixlen?: number; broadcast?: string }[];
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
    }));
}

/**
 * Is UDP `port` free on 0.0.0.0 (where Heartbeat listens)? Binds a socket and closes it at once; sends nothing.
 * 'unknown' when the bind fails for another reason (e.g. no permission for a port below 1024).
 */
export function udpPortState(port: number): Promise<PortState> {
  return new Promise((resolve) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      sock.close();
      resolve(err.code === 'EADDRINUSE' ? 'in-use' : 'unknown');
    });
    sock.bind({ port, address: '0.0.0.0', exclusive: true }, () => {
      sock.close();
      resolve('free');
    });
  });
}

/** Read this host's interfaces (`ip -json addr`, in the current network namespace) and test the UDP ports. */
export async function gatherHostFacts(hostname: string, ports: number[]): Promise<HostFacts> {
  const interfaces = interfacesFromIpJson(await ipJson(['addr']));
  const states: Record<number, PortState> = {};
  for (const p of new Set(ports)) states[p] = await udpPortState(p);
  return { hostname, interfaces, ports: states };
}
