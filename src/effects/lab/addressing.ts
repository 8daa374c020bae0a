import { usageError } from '../../core/errors.js';
import type { LabFamily, LabVip } from './types.js';

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

/** The IPv6 subnet of the client-facing link with family 6 (a documentation prefix, inside the namespaces only). */
export const LAB_SUBNET6 = { network: '2001:db8::', prefixLen: 64 };

/** The IPv6 address of host `.n` (n < 100: the same digits as its IPv4 host number, e.g. .11 → 2001:db8::11). */
export function hostAddress6(n: number): string {
  return `${LAB_SUBNET6.network}${n < 100 ? String(n) : n.toString(16)}`;
}

/** VIP k (0-based) of a family: .20, .21, … and 2001:db8::20, ::21, … (hex after ::29: ::2a …). */
export function vipAddress(subnet: Subnet, family: LabFamily, k: number): string {
  return family === 4 ? hostAddress(subnet, VIP_HOST + k) : `${LAB_SUBNET6.network}${(0x20 + k).toString(16)}`;
}

/** Most VIPs per family (--vips); the IPv4 subnet bounds it further. */
export const MAX_VIPS = 1024;

/** Parse `--family` (repeatable): 4 and/or 6, each once, in the order given; [4] when none. */
export function parseFamilies(given: (string | number)[] | undefined): LabFamily[] {
  const out: LabFamily[] = [];
  for (const g of given ?? []) {
    const f = Number(String(g).replace(/^(ipv|inet)/i, ''));
    if (f !== 4 && f !== 6) throw usageError(`--family ${g} is not 4 or 6`, '--family', 'write --family 4, --family 6, or both (--family 4 --family 6) for a dual-stack VIP pair');
    if (!out.includes(f)) out.push(f);
  }
  return out.length ? out : [4];
}

/**
 * The lab's VIPs: `count` per family, the families in order. IPv4 ones take .20 … .20+count−1 of the lab
 * subnet (below its broadcast address); IPv6 ones 2001:db8::20 … (prefix /64).
 */
export function planVips(subnet: Subnet, families: LabFamily[], count: number): LabVip[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_VIPS) throw usageError(`--vips ${count} is out of range`, '--vips', `use 1–${MAX_VIPS} VIPs per family`);
  const size = 2 ** (32 - subnet.prefixLen);
  if (families.includes(4) && VIP_HOST + count > size - 1) {
    const wider = 32 - Math.ceil(Math.log2(VIP_HOST + count + 1));
    throw usageError(`${count} VIPs do not fit in ${subnet.network}/${subnet.prefixLen} (they take .${VIP_HOST} onwards: room for ${Math.max(0, size - 1 - VIP_HOST)})`, '--vips', `use a wider lab subnet, e.g. --subnet 198.18.0.0/${Math.max(15, wider)}`);
  }
  return families.flatMap((family) =>
    Array.from({ length: count }, (_, k) => ({ family, address: vipAddress(subnet, family, k), prefixLen: family === 4 ? subnet.prefixLen : LAB_SUBNET6.prefixLen })),
  );
}

/** Client i's VIPs, round-robin: the (i mod M)-th VIP of each family. */
export function clientVipsFor(vips: LabVip[], i: number): string[] {
  const families = [...new Set(vips.map((v) => v.family))];
  return families.map((f) => {
    const list = vips.filter((v) => v.family === f);
    return list[i % list.length]!.address;
  });
}
