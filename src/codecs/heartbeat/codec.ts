/**
 * Heartbeat 3.0.x wire codec, byte-exact with the real daemon (see docs/hb-inspect.md for the format).
 *
 *   netstring (what 3.0.6 sends):  ###\n  <len>:(<type>)<name>=<value>, ...  %%%\n  <len>:<idx> <hex>,
 *   classic (older builds):        >>>\n  name=value\n | (<type>)name=value\n ...  <<<\n \0
 *
 * Decoding never throws and never allocates by a length read from the input: every length is checked
 * against the bytes actually present first. Encoding works from the decoded fields only (no raw bytes
 * are kept), so a decoded message re-encodes to the captured bytes.
 */
import { authDigest, type AuthKeyLike } from './auth.js';
import { FT_BINARY, FT_STRING, type HbField, type HbMessage } from './message.js';

export type Encoding = 'netstring' | 'classic';

/** Why a datagram is not a Heartbeat message. */
export type DecodeErrorCode =
  | 'empty'
  | 'too-large'
  | 'bad-marker' // does not start with ###\n or >>>\n
  | 'truncated' // ends before the end marker or inside a field
  | 'bad-length' // a netstring length that is not a number, too big, or not followed by ','
  | 'bad-field' // a field without name=value, a bad name, a NUL in a string
  | 'bad-type' // a (type) prefix that is not a field type
  | 'unsupported-type' // nested message, list or compressed field (types 2-5): not used by 3.0.6 over UDP
  | 'non-utf8'
  | 'bad-base64'
  | 'bad-trailer' // the trailing auth netstring is not `<index> <hex>`
  | 'trailing-bytes'; // bytes after the end of the message

export interface AuthToken {
  index: number;
  digest: string;
}

export interface DecodeOk {
  ok: true;
  msg: HbMessage;
  encoding: Encoding;
  /** netstring only: the trailing `<index> <hex>` token. */
  trailer?: AuthToken;
  /** netstring only: how many leading bytes the trailing token signs (`###\n` … `%%%\n`). */
  signedLength?: number;
}
export interface DecodeError {
  ok: false;
  code: DecodeErrorCode;
  reason: string;
}
export type DecodeResult = DecodeOk | DecodeError;

/** Largest datagram the codec looks at (a UDP datagram cannot be larger). */
export const MAX_MESSAGE_BYTES = 65_535;
/** Netstring length prefixes longer than this many digits are rejected before being parsed. */
const MAX_LEN_DIGITS = 5;
const MAX_FIELDS = 1024;

const NETSTRING_START = Buffer.from('###\n');
const NETSTRING_END = Buffer.from('%%%\n');
const CLASSIC_START = Buffer.from('>>>\n');
const CLASSIC_END = Buffer.from('<<<\n');
/** Classic format: a newline inside a value travels as this byte. */
const CLASSIC_NEWLINE = '\x13';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const fail = (code: DecodeErrorCode, reason: string): DecodeError => ({ ok: false, code, reason });

function startsWithAt(buf: Buffer, pos: number, marker: Buffer): boolean {
  return buf.length - pos >= marker.length && buf.compare(marker, 0, marker.length, pos, pos + marker.length) === 0;
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The text of bytes that are all ASCII without NUL (every field Heartbeat sends), else undefined: no UTF-8 decoder needed. */
function asciiText(bytes: Uint8Array): string | undefined {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! === 0 || bytes[i]! > 0x7f) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

const NAME_OK = /^[!-<>-~]+$/; // printable ASCII without space and '='

/** Decode one datagram. Never throws. */
export function decodeMessage(input: Buffer | Uint8Array): DecodeResult {
  if (!(input instanceof Uint8Array)) return fail('empty', 'not a byte buffer');
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length === 0) return fail('empty', 'empty datagram');
  if (buf.length > MAX_MESSAGE_BYTES) return fail('too-large', `${buf.length} bytes is more than one datagram (${MAX_MESSAGE_BYTES})`);
  if (startsWithAt(buf, 0, NETSTRING_START)) return decodeNetstring(buf);
  if (startsWithAt(buf, 0, CLASSIC_START)) return decodeClassic(buf);
  return fail('bad-marker', 'does not start with "###\\n" (netstring) or ">>>\\n" (classic)');
}

type Slice = { ok: true; start: number; end: number; next: number } | DecodeError;

/** Parse `<len>:<bytes>,` at pos, checking the length against what is really there. */
function readNetstring(buf: Buffer, pos: number, what: string): Slice {
  let len = 0;
  let i = pos;
  while (i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39) {
    if (i - pos >= MAX_LEN_DIGITS) return fail('bad-length', `${what} at byte ${pos}: length has more than ${MAX_LEN_DIGITS} digits`);
    len = len * 10 + (buf[i]! - 0x30);
    i++;
  }
  if (i === buf.length) return fail('truncated', `${what} at byte ${pos}: ends inside the length`);
  if (i === pos) return fail('bad-length', `${what} at byte ${pos}: expected a decimal length, found 0x${buf[i]!.toString(16)}`);
  if (buf[i] !== 0x3a) return fail('bad-length', `${what} at byte ${pos}: length not followed by ':'`);
  if (i - pos > 1 && buf[pos] === 0x30) return fail('bad-length', `${what} at byte ${pos}: length with a leading zero`);
  const start = i + 1;
  const left = buf.length - start;
  if (len + 1 > left) {
    return len > MAX_MESSAGE_BYTES
      ? fail('bad-length', `${what} at byte ${pos}: length ${len} is larger than any datagram`)
      : fail('truncated', `${what} at byte ${pos}: length ${len} but only ${Math.max(0, left - 1)} bytes follow`);
  }
  if (buf[start + len] !== 0x2c) return fail('bad-length', `${what} at byte ${pos}: ${len} bytes not followed by ','`);
  return { ok: true, start, end: start + len, next: start + len + 1 };
}

type FieldResult = { ok: true; field: HbField } | DecodeError;

function checkType(t: number, where: string): DecodeError | undefined {
  if (t === FT_STRING || t === FT_BINARY) return undefined;
  if (t >= 2 && t <= 5) {
    const kind = ['nested message', 'list', 'compressed field', 'uncompressed container'][t - 2];
    return fail('unsupported-type', `${where}: field type ${t} (${kind}) is not supported (Heartbeat 3.0.6 sends only strings and binaries over UDP)`);
  }
  return fail('bad-type', `${where}: field type ${t} is not a Heartbeat field type`);
}

function makeField(name: string, type: number, value: Uint8Array, where: string, classic: boolean): FieldResult {
  if (!NAME_OK.test(name)) return fail('bad-field', `${where}: field name ${JSON.stringify(name.slice(0, 40))} is empty or not printable ASCII`);
  if (type === FT_BINARY) {
    if (!classic) return { ok: true, field: { name, type: FT_BINARY, value: Buffer.from(value) } };
    const text = decodeUtf8(value) ?? '';
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return fail('bad-base64', `${where}: field ${name}: not base64`);
    const bytes = Buffer.from(text, 'base64');
    if (bytes.toString('base64') !== text) return fail('bad-base64', `${where}: field ${name}: base64 is not canonical`);
    return { ok: true, field: { name, type: FT_BINARY, value: bytes } };
  }
  const ascii = asciiText(value);
  if (ascii !== undefined) return { ok: true, field: { name, type: FT_STRING, value: classic ? ascii.replaceAll(CLASSIC_NEWLINE, '\n') : ascii } };
  if (value.includes(0)) return fail('bad-field', `${where}: field ${name}: NUL byte in a string value`);
  const text = decodeUtf8(value);
  if (text === undefined) return fail('non-utf8', `${where}: field ${name}: value is not UTF-8`);
  return { ok: true, field: { name, type: FT_STRING, value: classic ? text.replaceAll(CLASSIC_NEWLINE, '\n') : text } };
}

/** `(<type>)<name>=<value>` (netstring) or `[(<type>)]<name>=<value>` (classic). */
function parseField(bytes: Buffer, where: string, classic: boolean): FieldResult {
  let type: number = FT_STRING;
  let p = 0;
  if (bytes[0] === 0x28 /* ( */) {
    if (bytes.length < 3 || bytes[2] !== 0x29 || bytes[1]! < 0x30 || bytes[1]! > 0x39) {
      return fail('bad-type', `${where}: field does not start with a "(<digit>)" type`);
    }
    type = bytes[1]! - 0x30;
    const bad = checkType(type, where);
    if (bad) return bad;
    p = 3;
  } else if (!classic) {
    return fail('bad-type', `${where}: field does not start with a "(<digit>)" type`);
  }
  const eq = bytes.indexOf(0x3d /* = */, p);
  if (eq < 0) return fail('bad-field', `${where}: field has no "name=value"`);
  const name = bytes.toString('latin1', p, eq);
  return makeField(name, type, bytes.subarray(eq + 1), where, classic);
}

function decodeNetstring(buf: Buffer): DecodeResult {
  const fields: HbField[] = [];
  let pos = NETSTRING_START.length;
  for (;;) {
    if (pos >= buf.length) return fail('truncated', `ends after ${fields.length} fields without "%%%\\n"`);
    if (startsWithAt(buf, pos, NETSTRING_END)) break;
    if (fields.length >= MAX_FIELDS) return fail('bad-field', `more than ${MAX_FIELDS} fields`);
    const s = readNetstring(buf, pos, `field ${fields.length + 1}`);
    if (!s.ok) return s;
    const f = parseField(buf.subarray(s.start, s.end), `field ${fields.length + 1}`, false);
    if (!f.ok) return f;
    fields.push(f.field);
    pos = s.next;
  }
  pos += NETSTRING_END.length;
  const signedLength = pos;
  if (pos === buf.length) return { ok: true, msg: { fields }, encoding: 'netstring', signedLength };
  const s = readNetstring(buf, pos, 'trailing auth');
  if (!s.ok) return s.code === 'truncated' ? s : fail('bad-trailer', s.reason);
  if (s.next !== buf.length) return fail('trailing-bytes', `${buf.length - s.next} bytes after the trailing auth token`);
  const token = parseAuthToken(buf.toString('latin1', s.start, s.end));
  if (!token) return fail('bad-trailer', 'trailing auth token is not "<index> <hex digest>"');
  return { ok: true, msg: { fields }, encoding: 'netstring', trailer: token, signedLength };
}

function decodeClassic(buf: Buffer): DecodeResult {
  let end = buf.length;
  if (buf[end - 1] === 0) end--;
  if (end < CLASSIC_START.length + CLASSIC_END.length || !startsWithAt(buf, end - CLASSIC_END.length, CLASSIC_END)) {
    const stray = buf.indexOf(CLASSIC_END, CLASSIC_START.length);
    return stray >= 0
      ? fail('trailing-bytes', `${buf.length - stray - CLASSIC_END.length} bytes after "<<<\\n"`)
      : fail('truncated', 'classic message without "<<<\\n"');
  }
  const body = buf.subarray(CLASSIC_START.length, end - CLASSIC_END.length);
  if (body.length > 0 && body[body.length - 1] !== 0x0a) return fail('bad-marker', '"<<<\\n" does not start a line');
  const fields: HbField[] = [];
  let p = 0;
  while (p < body.length) {
    if (fields.length >= MAX_FIELDS) return fail('bad-field', `more than ${MAX_FIELDS} fields`);
    const nl = body.indexOf(0x0a, p); // found: the body ends with a newline
    const f = parseField(body.subarray(p, nl), `line ${fields.length + 2}`, true);
    if (!f.ok) return f;
    fields.push(f.field);
    p = nl + 1;
  }
  return { ok: true, msg: { fields }, encoding: 'classic' };
}

/** `<index> <hex>` as both auth layers write it. */
export function parseAuthToken(text: string): AuthToken | undefined {
  const m = /^(0|[1-9]\d{0,2}) ([0-9a-fA-F]{1,128})$/.exec(text);
  return m ? { index: Number(m[1]), digest: m[2]! } : undefined;
}

// ---------------------------------------------------------------------------------------------- encoding

/**
 * `###\n`, each field as `<len>:(<type>)<name>=<value>,`, `%%%\n` and, with `trailer`, `<len>:<trailer>,`, written
 * into one buffer sized first (a node encodes every keepalive: one allocation, not four per field).
 */
function netstringBytes(fields: readonly HbField[], trailer?: string): Buffer {
  const heads: string[] = [];
  let total = NETSTRING_START.length + NETSTRING_END.length;
  for (const f of fields) {
    if (f.type !== FT_STRING && f.type !== FT_BINARY) throw new TypeError(`field ${f.name}: type ${f.type} cannot be encoded (only strings and binaries)`);
    const valueLength = f.type === FT_STRING ? Buffer.byteLength(f.value) : f.value.length;
    const typed = `(${f.type})${f.name}=`;
    const head = `${Buffer.byteLength(typed) + valueLength}:${typed}`;
    heads.push(head);
    total += Buffer.byteLength(head) + valueLength + 1;
  }
  const tail = trailer === undefined ? '' : `${Buffer.byteLength(trailer)}:${trailer},`;
  total += Buffer.byteLength(tail);
  const out = Buffer.allocUnsafe(total);
  let p = NETSTRING_START.copy(out, 0);
  fields.forEach((f, i) => {
    p += out.write(heads[i]!, p, 'utf8');
    p += f.type === FT_STRING ? out.write(f.value, p, 'utf8') : (f.value as Buffer).copy(out, p);
    out[p++] = 0x2c;
  });
  p += NETSTRING_END.copy(out, p);
  out.write(tail, p, 'utf8');
  return out;
}

/** The classic text of fields: one `name=value\n` line each (binary as `(1)name=<base64>`). */
export function classicText(fields: readonly HbField[]): string {
  let s = '';
  for (const f of fields) {
    if (f.type === FT_STRING) s += `${f.name}=${f.value.replaceAll('\n', CLASSIC_NEWLINE)}\n`;
    else if (f.type === FT_BINARY) s += `(1)${f.name}=${f.value.toString('base64')}\n`;
    else throw new TypeError(`field ${f.name}: type ${f.type} cannot be encoded (only strings and binaries)`);
  }
  return s;
}

/**
 * Encode the fields exactly as given (no auth is computed). With `trailer`, a netstring message gets that
 * trailing token. For tests and forged traffic; a node sends with encodeMessage.
 */
export function encodeFields(msg: HbMessage, encoding: Encoding = 'netstring', trailer?: string): Buffer {
  if (encoding === 'classic') return Buffer.from(`>>>\n${classicText(msg.fields)}<<<\n\0`, 'utf8');
  return netstringBytes(msg.fields, trailer);
}

/** The `auth` field's value: `<index> <MAC over the classic text of every other field>`. */
export function innerAuthValue(fields: readonly HbField[], key: AuthKeyLike): string {
  return `${key.index} ${authDigest(key.method, key.key, classicText(fields))}`;
}

/**
 * Encode a message as Heartbeat 3.0.6 sends it: the fields (any `auth` field is dropped and recomputed),
 * then `auth`, then (netstring) the trailing token over `###\n` … `%%%\n`.
 * Throws TypeError for a field type it cannot encode (a programming error, not input).
 */
export function encodeMessage(msg: HbMessage, key: AuthKeyLike, encoding: Encoding = 'netstring'): Buffer {
  const fields = msg.fields.filter((f) => f.name !== 'auth');
  const all: HbField[] = [...fields, { name: 'auth', type: FT_STRING, value: innerAuthValue(fields, key) }];
  if (encoding === 'classic') return encodeFields({ fields: all }, 'classic');
  const body = encodeFields({ fields: all }, 'netstring');
  const trailer = `${key.index} ${authDigest(key.method, key.key, body)}`;
  return Buffer.concat([body, Buffer.from(`${trailer.length}:${trailer},`)]);
}

// ---------------------------------------------------------------------------------------------- verifying

/**
 * One auth layer: ok, bad (wrong MAC, or the datagram does not decode), unknown-index (no key with that
 * index), missing (no token), no-key (no keys were given).
 */
export type Verdict = 'ok' | 'bad' | 'unknown-index' | 'missing' | 'no-key';

export interface VerifyResult {
  /** The trailing token over `###\n`…`%%%\n` (netstring); always 'missing' for classic messages. */
  trailing: Verdict;
  /** The `auth` field over the classic text of the other fields. */
  inner: Verdict;
  /** Would Heartbeat accept it? netstring: trailing ok (all 3.0.6 checks); classic: inner ok. */
  accepted: boolean;
  /** The index each layer names (when present). */
  trailingIndex?: number;
  innerIndex?: number;
  /** Set when the datagram did not decode (both layers are then 'bad'). */
  error?: DecodeError;
}

function judge(token: AuthToken | undefined, keys: ReadonlyMap<number, AuthKeyLike> | undefined, data: () => Buffer | string): Verdict {
  if (!token) return 'missing';
  if (!keys || keys.size === 0) return 'no-key';
  const key = keys.get(token.index);
  if (!key) return 'unknown-index';
  return authDigest(key.method, key.key, data()) === token.digest ? 'ok' : 'bad';
}

/** Check both auth layers of an already decoded datagram (`buf` is the datagram it was decoded from). */
export function verifyDecoded(buf: Buffer, d: DecodeOk, keys: ReadonlyMap<number, AuthKeyLike> | undefined): VerifyResult {
  const authFields = d.msg.fields.filter((f) => f.name === 'auth');
  const others = d.msg.fields.filter((f) => f.name !== 'auth');
  let inner: Verdict;
  let innerToken: AuthToken | undefined;
  if (authFields.length === 0) inner = 'missing';
  else {
    const a = authFields[0]!;
    innerToken = a.type === FT_STRING && authFields.length === 1 ? parseAuthToken(a.value) : undefined;
    inner = innerToken ? judge(innerToken, keys, () => classicText(others)) : 'bad';
  }
  const trailing = d.encoding === 'netstring' ? judge(d.trailer, keys, () => buf.subarray(0, d.signedLength)) : 'missing';
  const accepted = d.encoding === 'netstring' ? trailing === 'ok' : inner === 'ok';
  const r: VerifyResult = { trailing, inner, accepted };
  if (d.trailer) r.trailingIndex = d.trailer.index;
  if (innerToken) r.innerIndex = innerToken.index;
  return r;
}

/** The trailing token of a decoded netstring message alone: all that Heartbeat 3.0.6 checks before it accepts one. */
export function verifyTrailing(buf: Buffer, d: DecodeOk, keys: ReadonlyMap<number, AuthKeyLike> | undefined): Verdict {
  return d.encoding === 'netstring' ? judge(d.trailer, keys, () => buf.subarray(0, d.signedLength)) : 'missing';
}

/** Decode and check both auth layers. Never throws. */
export function verifyMessage(buf: Buffer, keys: ReadonlyMap<number, AuthKeyLike> | undefined): VerifyResult {
  const d = decodeMessage(buf);
  if (!d.ok) return { trailing: 'bad', inner: 'bad', accepted: false, error: d };
  return verifyDecoded(buf, d, keys);
}
