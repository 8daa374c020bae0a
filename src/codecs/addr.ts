/** MAC and IP address text <-> bytes. MACs are lowercase 'aa:bb:cc:dd:ee:ff', IPv4 dotted quads. */
import { isIPv4, isIPv6 } from 'node:net';

export const MAC_BROADCAST = 'ff:ff:ff:ff:ff:ff';
export const MAC_ZERO = '00:00:00:00:00:00';

const MAC_RE = /^[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$/i;

export function isMac(text: string): boolean {
  return MAC_RE.test(text.trim());
}

/** Normalise a MAC ('2:0:0:0:0:A' or '02-00-...') to 'aa:bb:..'; returns undefined if it is not one. */
export function normMac(text: string): string | undefined {
  const t = text.trim();
  if (!MAC_RE.test(t)) return undefined;
  return t
    .split(/[:-]/)
    .map((p) => p.toLowerCase().padStart(2, '0'))
    .join(':');
}

export function macToBytes(mac: string): Buffer {
  const n = normMac(mac);
  if (!n) throw new TypeError(`not a MAC address: ${mac}`);
  return Buffer.from(n.replace(/:/g, ''), 'hex');
}

export function macFromBytes(buf: Buffer, off = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + buf[off + i]!.toString(16).padStart(2, '0');
  return s;
}

export const isBroadcastMac = (mac: string) => mac === MAC_BROADCAST;
export const isZeroMac = (mac: string) => mac === MAC_ZERO;
/** Group bit set (broadcast or multicast). */
export const isGroupMac = (mac: string) => (parseInt(mac.slice(0, 2), 16) & 1) === 1;

export { isIPv4, isIPv6 };

export function ipv4ToBytes(ip: string): Buffer {
  if (!isIPv4(ip)) throw new TypeError(`not an IPv4 address: ${ip}`);
  return Buffer.from(ip.split('.').map(Number));
}

export function ipv4FromBytes(buf: Buffer, off = 0): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** Compressed IPv6 text (RFC 5952 style: lowercase, longest zero run as ::). */
export function ipv6FromBytes(buf: Buffer, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(buf.readUInt16BE(off + 2 * i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function ipv6ToBytes(ip: string): Buffer {
  if (!isIPv6(ip)) throw new TypeError(`not an IPv6 address: ${ip}`);
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4ToBytes(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const words = [...h, ...Array(fill).fill('0'), ...t].map((w) => parseInt(w, 16));
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, 2 * i));
  return out;
}
