/**
 * The client book the announce sidecars exchange (`hadiag announce --peer`): Heartbeat messages signed with
 * Heartbeat's auth layer (codecs/heartbeat: the `auth` field and the netstring trailer, the keys of an
 * authkeys file), type `t=hadiag-book`. A book of any size is split into parts that each stay one
 * datagram under MAX_BOOK_DATAGRAM bytes, and every part stands alone (a lost part loses only its clients
 * until the next round).
 */
import { decodeMessage, encodeMessage, verifyDecoded, type Verdict } from '../../codecs/heartbeat/codec.js';
import type { AuthKeyLike } from '../../codecs/heartbeat/auth.js';
import { buildMessage, getField } from '../../codecs/heartbeat/message.js';
import { encodeClientList, parseClientList } from '../strategy/client-book.js';
import type { Client } from '../strategy/language.js';

export const BOOK_TYPE = 'hadiag-book';
/** Largest part sent: one Ethernet frame's worth of UDP payload, so a part is never fragmented. */
export const MAX_BOOK_DATAGRAM = 1400;

export interface BookHeader {
  /** the sending sidecar's name */
  src: string;
  /** the sender's start (a new start restarts seq) */
  boot: string;
  /** the round this part belongs to */
  seq: number;
}

export interface BookPart extends BookHeader {
  part: number;
  parts: number;
  clients: Client[];
}

function encodePart(h: BookHeader, part: number, parts: number, clients: Client[], key: AuthKeyLike): Buffer {
  const msg = buildMessage([
    ['t', BOOK_TYPE],
    ['src', h.src],
    ['boot', h.boot],
    ['seq', String(h.seq)],
    ['part', String(part)],
    ['parts', String(parts)],
    ['clients', encodeClientList(clients, Infinity)],
  ]);
  return encodeMessage(msg, key);
}

/**
 * The datagrams of one round: the whole book, as few parts as fit under `limit` bytes each (at least one,
 * so an empty book is still sent: the peer learns the sender is alive and its key is right).
 */
export function encodeBook(h: BookHeader, clients: Client[], key: AuthKeyLike, limit = MAX_BOOK_DATAGRAM): Buffer[] {
  const groups: Client[][] = [[]];
  for (const c of clients) {
    const cur = groups[groups.length - 1]!;
    cur.push(c);
    // worst case part/parts numbers are as long as the client count's digits
    if (cur.length > 1 && encodePart(h, clients.length, clients.length, cur, key).length > limit) {
      cur.pop();
      groups.push([c]);
    }
  }
  return groups.map((g, i) => encodePart(h, i + 1, groups.length, g, key));
}

export type BookVerdict =
  | { ok: true; part: BookPart; bad: number }
  | { ok: false; reason: 'malformed' | 'not-book' | 'auth'; auth?: Verdict; detail: string };

/** Check and read one datagram (never throws). */
export function decodeBook(buf: Buffer, keys: ReadonlyMap<number, AuthKeyLike>): BookVerdict {
  const d = decodeMessage(buf);
  if (!d.ok) return { ok: false, reason: 'malformed', detail: d.reason };
  const v = verifyDecoded(buf, d, keys);
  if (!v.accepted) return { ok: false, reason: 'auth', auth: v.trailing, detail: `auth ${v.trailing}${v.trailingIndex !== undefined ? ` (key index ${v.trailingIndex})` : ''}` };
  if (getField(d.msg, 't') !== BOOK_TYPE) return { ok: false, reason: 'not-book', detail: `t=${getField(d.msg, 't') ?? '(none)'}` };
  const num = (name: string) => Number(getField(d.msg, name));
  const src = getField(d.msg, 'src') ?? '';
  const [seq, part, parts] = [num('seq'), num('part'), num('parts')];
  if (!src || ![seq, part, parts].every((n) => Number.isInteger(n) && n >= 0) || part < 1 || part > parts) {
    return { ok: false, reason: 'malformed', detail: 'src/seq/part/parts missing or out of range' };
  }
  const { clients, bad } = parseClientList(getField(d.msg, 'clients') ?? '', Infinity);
  return { ok: true, part: { src, boot: getField(d.msg, 'boot') ?? '', seq, part, parts, clients }, bad };
}
