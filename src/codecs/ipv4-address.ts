/** IPv4 address arithmetic on dotted quads: parsing, netmasks, subnets (used by the config parsers and the host models). */

/** Dotted quad to a 32-bit unsigned number, or undefined when it is not exactly a.b.c.d with 0–255 parts. */
export function ipv4ToInt(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let n = 0;
  for (const part of m.slice(1)) {
    const v = Number(part);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export const isIpv4 = (text: string): boolean => ipv4ToInt(text) !== undefined;

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

/** A dotted netmask (255.255.255.0) to its prefix length, or undefined when not contiguous ones then zeros. */
export function netmaskToPrefix(text: string): number | undefined {
  const n = ipv4ToInt(text);
  if (n === undefined) return undefined;
  const inverted = ~n >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined; // ones must be contiguous from the top
  return 32 - Math.log2(inverted + 1);
}

export function prefixMask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** Is `ip` inside `net/prefixLen`? */
export function inSubnet(ip: string, net: string, prefixLen: number): boolean {
  const a = ipv4ToInt(ip);
  const b = ipv4ToInt(net);
  if (a === undefined || b === undefined) return false;
  const mask = prefixMask(prefixLen);
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

export function isMulticast(ip: string): boolean {
  const n = ipv4ToInt(ip);
  return n !== undefined && n >>> 28 === 0xe;
}
