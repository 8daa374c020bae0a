import { usageError } from '../../core/errors.js';

/** Host numbers inside the lab subnet, mirroring the field report (10.0.0.11/.12/.20/.5). */
export const SERVER1_HOST = 11;
export const SERVER2_HOST = 12;
export const VIP_HOST = 20;
export const FIRST_CLIENT_HOST = 5;
/** --ping-node: the always-up host on the client side (an address of the client bridge itself) */
export const PING_NODE_HOST = 1;
/** Clients take .5, .6, … up to .10 (the servers start at .11). */
export const MAX_CLIENTS = SERVER1_HOST - FIRST_CLIENT_HOST;

export const DEFAULT_SUBNET = '198.18.0.0/24';
const LAB_RANGE = { base: ipToInt('198.18.0.0'), prefixLen: 15 };

export interface Subnet {
  network: string;
  prefixLen: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return NaN;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function inRange(ip: number, base: number, prefixLen: number): boolean {
  const size = 2 ** (32 - prefixLen);
  return ip >= base && ip < base + size;
}

/** Parse `--subnet`: an aligned IPv4 network inside 198.18.0.0/15, big enough for .5–.20. */
export function parseSubnet(text: string): Subnet {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(String(text).trim());
  const fix = 'write a network inside 198.18.0.0/15 with a prefix of /15–/27, e.g. 198.18.0.0/24 or 198.19.4.0/24';
  if (!m) throw usageError(`subnet "${text}" is not IPv4 CIDR`, '--subnet', fix);
  const base = ipToInt(m[1]!);
  const prefixLen = Number(m[2]);
  if (!Number.isFinite(base) || prefixLen < LAB_RANGE.prefixLen || prefixLen > 27) throw usageError(`subnet "${text}" is not usable`, '--subnet', fix);
  const size = 2 ** (32 - prefixLen);
  if (base % size !== 0) throw usageError(`subnet "${text}" has host bits set`, '--subnet', `write ${intToIp(base - (base % size))}/${prefixLen}`);
  if (!inRange(base, LAB_RANGE.base, LAB_RANGE.prefixLen)) throw usageError(`subnet "${text}" is outside the lab range 198.18.0.0/15`, '--subnet', fix);
  return { network: m[1]!, prefixLen };
}

/** The address `.n` of the subnet (dotted, no prefix). */
export function hostAddress(subnet: Subnet, n: number): string {
  return intToIp(ipToInt(subnet.network) + n);
}

export function broadcastAddress(subnet: Subnet): string {
  return intToIp(ipToInt(subnet.network) + 2 ** (32 - subnet.prefixLen) - 1);
}

export interface PlannedHost {
  name: string;
  role: 'server' | 'client';
  hostNumber: number;
  address: string;
}

/** Logical client names: client, client2, client3, … */
export function clientName(i: number): string {
  return i === 0 ? 'client' : `client${i + 1}`;
}

/** The hosts of a lab with `clients` clients (pure; addresses without prefix). */
export function planHosts(subnet: Subnet, clients: number): PlannedHost[] {
  if (!Number.isInteger(clients) || clients < 1 || clients > MAX_CLIENTS) {
    throw usageError(`--clients ${clients} is out of range`, '--clients', `use 1–${MAX_CLIENTS} (clients take .5–.10)`);
  }
  const hosts: PlannedHost[] = [
    { name: 'server1', role: 'server', hostNumber: SERVER1_HOST, address: hostAddress(subnet, SERVER1_HOST) },
    { name: 'server2', role: 'server', hostNumber: SERVER2_HOST, address: hostAddress(subnet, SERVER2_HOST) },
  ];
  for (let i = 0; i < clients; i++) {
    const n = FIRST_CLIENT_HOST + i;
    hosts.push({ name: clientName(i), role: 'client', hostNumber: n, address: hostAddress(subnet, n) });
  }
  return hosts;
}

/**
 * The subnet of --heartbeat-link separate: the lab subnet with the other half of 198.18.0.0/15
 * (198.18.x ↔ 198.19.x), so the two never overlap.
 */
export function heartbeatSubnet(subnet: Subnet): Subnet {
  if (subnet.prefixLen < 16) throw usageError(`subnet ${subnet.network}/${subnet.prefixLen} covers the whole lab range: no room for a separate heartbeat subnet`, '--subnet', 'use a /16 or longer prefix, e.g. 198.18.0.0/24');
  const flipped = ipToInt(subnet.network) ^ (1 << 16);
  return { network: intToIp(flipped >>> 0), prefixLen: subnet.prefixLen };
}
