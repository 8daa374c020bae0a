/** External GARP senders run for comparison (arping, send_arp): where they are and how they are called. */
import { existsSync } from 'node:fs';
import { envError } from '../../core/errors.js';
import type { Strategy } from '../../models/strategy/language.js';
import { arpingMode } from '../../models/strategy/forms.js';

export const SEND_ARP_PATHS = ['/usr/libexec/heartbeat/send_arp', '/usr/lib/heartbeat/send_arp', '/usr/libexec/resource-agents/send_arp'];
export const ARPING_PATHS = ['/usr/bin/arping', '/usr/sbin/arping', '/bin/arping'];

export function findProgram(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

/** The program an external strategy runs, or an environment error saying how to install it. */
export function externalProgram(s: Strategy): string {
  if (s.form === 'arping') {
    const p = findProgram(ARPING_PATHS);
    if (!p) throw envError('arping is not installed', ARPING_PATHS.join(', '), 'apt-get install iputils-arping');
    return p;
  }
  const p = findProgram(SEND_ARP_PATHS);
  if (!p) throw envError('send_arp is not installed', SEND_ARP_PATHS.join(', '), 'apt-get install heartbeat (resource-agents ships send_arp with it)');
  return p;
}

/** One burst's command line (bursts and refresh are repeated by the caller). */
export function externalArgv(s: Strategy, program: string, iface: string, vip: string, count: number): string[] {
  if (s.form === 'arping') {
    // iputils: -U/-A unsolicited mode, -c frames, -i whole seconds between them, -I device
    return [program, `-${arpingMode(s)}`, '-q', '-c', String(count), '-i', String(Math.max(1, Math.round(s.intervalMs / 1000))), '-I', iface, vip];
  }
  // send_arp as IPaddr2 calls it: -i ms between pairs, -r pairs, device, address, MAC (auto), broadcast, netmask
  return [program, '-i', String(s.intervalMs), '-r', String(count), iface, vip, 'auto', 'not_used', 'not_used'];
}
