import { createSocket } from 'node:dgram';
import { ipJson } from '../io/exec.js';
import { interfacesFromIpJson, type HostFacts, type PortState } from '../../models/config/host.js';

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
