/**
 * The idle-cost shortcuts of the node's wire path keep its behaviour: the load is read once every 5 s, the
 * one-buffer netstring encoder writes what the field-by-field one wrote, the trailing-token check alone agrees
 * with the full check, and non-ASCII or NUL-bearing fields still take the careful decoding path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeFields, encodeMessage, verifyDecoded, verifyTrailing, type DecodeOk } from '../../src/codecs/heartbeat/codec.js';
import { buildMessage, getField, type HbField } from '../../src/codecs/heartbeat/message.js';
import { Outbox } from '../../src/models/node/outbox.js';
import type { AuthKeyLike } from '../../src/codecs/heartbeat/auth.js';

const KEY: AuthKeyLike = { index: 1, method: 'sha1', key: 'secret' };
const KEYS = new Map([[1, KEY]]);

test('the ld field: /proc/loadavg read once every 5 s, not per message', () => {
  let reads = 0;
  const box = new Outbox({ node: 'n1', uuid: Buffer.alloc(16, 1), generation: 1, load: () => `0.0${++reads} 0.00 0.00 1/100 1` });
  const ld = (t: number) => getField(box.build(t, [['t', 'status']]), 'ld');
  for (let t = 0; t < 5000; t += 100) assert.equal(ld(t), '0.01 0.00 0.00 1/100 1');
  assert.equal(reads, 1);
  assert.equal(ld(5000), '0.02 0.00 0.00 1/100 1');
  assert.equal(ld(4000), '0.03 0.00 0.00 1/100 1', 'a clock that went back reads again');
  assert.equal(reads, 3);
});

/** What the encoder wrote before it sized one buffer: each field as its own netstring, concatenated. */
function fieldByField(fields: HbField[], trailer?: string): Buffer {
  const parts: Buffer[] = [Buffer.from('###\n')];
  for (const f of fields) {
    const head = Buffer.from(`(${f.type})${f.name}=`, 'utf8');
    const value = typeof f.value === 'string' ? Buffer.from(f.value, 'utf8') : (f.value as Buffer);
    parts.push(Buffer.from(`${head.length + value.length}:`), head, value, Buffer.from(','));
  }
  parts.push(Buffer.from('%%%\n'));
  if (trailer !== undefined) parts.push(Buffer.from(`${Buffer.byteLength(trailer)}:${trailer},`));
  return Buffer.concat(parts);
}

test('one-buffer netstring encoding is byte for byte the field-by-field one (ASCII, UTF-8, binary, empty)', () => {
  const msg = buildMessage([['t', 'status'], ['src', 'nœud-é'], ['srcuuid', Buffer.from([0, 0x2c, 0xff, 0x3d, 10])], ['empty', ''], ['clients', '198.18.1.1=02:48:46:00:00:01']]);
  assert.ok(encodeFields(msg).equals(fieldByField(msg.fields)));
  assert.ok(encodeFields(msg, 'netstring', '1 abc').equals(fieldByField(msg.fields, '1 abc')));
  const signed = encodeMessage(msg, KEY);
  const d = decodeMessage(signed) as DecodeOk;
  assert.ok(d.ok);
  assert.equal(getField(d.msg, 'src'), 'nœud-é', 'a UTF-8 field still decodes through the UTF-8 path');
  assert.deepEqual(verifyDecoded(signed, d, KEYS), { trailing: 'ok', inner: 'ok', accepted: true, trailingIndex: 1, innerIndex: 1 });
});

test('the trailing-token check alone agrees with the full check, and fails what it fails', () => {
  const signed = encodeMessage(buildMessage([['t', 'status'], ['src', 'n1'], ['seq', '1f']]), KEY);
  const d = decodeMessage(signed) as DecodeOk;
  assert.equal(verifyTrailing(signed, d, KEYS), 'ok');
  assert.equal(verifyTrailing(signed, d, new Map([[1, { ...KEY, key: 'other' }]])), 'bad');
  assert.equal(verifyTrailing(signed, d, new Map([[2, KEY]])), 'unknown-index');
  const flipped = Buffer.from(signed);
  flipped[flipped.indexOf('seq=1f') + 4] = 0x32; // seq=2f: same length, the MAC no longer matches
  const f = decodeMessage(flipped) as DecodeOk;
  assert.equal(verifyTrailing(flipped, f, KEYS), 'bad');
  assert.equal(verifyDecoded(flipped, f, KEYS).accepted, false);
});

test('a NUL or a non-UTF-8 byte in a field is still refused', () => {
  const withNul = Buffer.from('###\n8:(0)a=b\u0000c,%%%\n');
  const r = decodeMessage(withNul);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'bad-field');
  const bad = Buffer.concat([Buffer.from('###\n9:(0)a=b'), Buffer.from([0xff, 0xfe]), Buffer.from('c,%%%\n')]);
  const r2 = decodeMessage(bad);
  assert.equal(!r2.ok && r2.code, 'non-utf8');
});
