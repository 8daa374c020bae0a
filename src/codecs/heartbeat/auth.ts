import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/**
 * Heartbeat's message authentication (authkeys `N sha1|md5|crc [KEY]`): sha1 and md5 are standard HMAC
 * (RFC 2104) printed as lowercase hex; crc is CRC-32 without a key, printed without leading zeros.
 */
export type AuthMethod = 'sha1' | 'md5' | 'crc';

/** What the codec needs of an authkeys entry (config's AuthKey satisfies it structurally). */
export interface AuthKeyLike {
  index: number;
  method: AuthMethod;
  /** The first token of the key text only, as Heartbeat uses it. Ignored for crc. */
  key: string;
}

/** The MAC of `data` (a string counts as its UTF-8 bytes) as Heartbeat prints it in an `auth` token (lowercase hex; crc without leading zeros). */
export function authDigest(method: AuthMethod, key: string, data: Buffer | string): string {
  switch (method) {
    case 'sha1':
    case 'md5':
      return createHmac(method, secretKey(key)).update(data).digest('hex');
    case 'crc':
      return heartbeatCrc(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString(16);
  }
}

/** authkeys keys as key objects: createHmac with a string key re-imports it on every message (4× the time) */
const keyObjects = new Map<string, KeyObject>();

function secretKey(key: string): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    if (keyObjects.size >= 64) keyObjects.clear();
    k = createSecretKey(key, 'utf8');
    keyObjects.set(key, k);
  }
  return k;
}

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let b = 0; b < 8; b++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/**
 * Heartbeat's crc auth: CRC-32, polynomial 0x04C11DB7 processed MSB-first, initial value 0, final
 * complement, and (unlike POSIX `cksum`) no length appended. Returns an unsigned 32-bit number.
 */
export function heartbeatCrc(data: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
  return ~crc >>> 0;
}

/** Digest length in hex digits a method produces at most (crc: up to 8, fewer when it has leading zeros). */
export const DIGEST_HEX_LEN: Record<AuthMethod, number> = { sha1: 40, md5: 32, crc: 8 };
