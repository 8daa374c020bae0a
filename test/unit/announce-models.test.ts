import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddressEvent, parseLocalStamp } from '../../src/models/announce/address-event.js';
import { decodeBook, encodeBook, MAX_BOOK_DATAGRAM } from '../../src/models/announce/book-message.js';
import type { AuthKeyLike } from '../../src/codecs/heartbeat/auth.js';

test('ip -o -ts monitor address lines: added, deleted, IPv6, other lines', () => {
  const add = parseAddressEvent('[2026-12-04T18:23:09.626513] 3: veth0    inet 10.9.9.1/24 scope global veth0\\       valid_lft forever preferred_lft forever');
  assert.deepEqual({ ...add, stampMs: undefined }, { kind: 'added', iface: 'veth0', family: 'inet', ip: '10.9.9.1', prefixLen: 24, stampMs: undefined });
  assert.equal(add!.stampMs, parseLocalStamp('2026-12-04T18:23:09.626513'));
  assert.ok(Math.abs(parseLocalStamp('2026-12-04T18:23:09.626513')! - parseLocalStamp('2026-12-04T18:23:09')! - 626.513) < 1e-3);
  const del = parseAddressEvent('[2026-12-04T18:23:09.648691] Deleted 3: veth0    inet 10.9.9.1/24 scope global veth0');
  assert.equal(del?.kind, 'deleted');
  assert.equal(del?.ip, '10.9.9.1');
  assert.equal(parseAddressEvent('2: hd1a2b@if7    inet 198.18.0.20/24 scope global secondary hd1a2b')?.iface, 'hd1a2b');
  assert.equal(parseAddressEvent('3: veth0    inet6 fe80::5cd7:75ff:fe1f:78c9/64 scope link')?.family, 'inet6');
  assert.equal(parseAddressEvent('Error: Peer netns reference is invalid.'), undefined);
  assert.equal(parseAddressEvent(''), undefined);
});

const KEY: AuthKeyLike = { index: 1, method: 'sha1', key: 'secret' };
const keys = new Map([[1, KEY]]);
const clients = (n: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, mac: `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` }));

test('a client book round-trips, signed, in parts under the size limit, with no cap on clients', () => {
  const book = clients(1000);
  const dgrams = encodeBook({ src: 'server1', boot: 'b1', seq: 7 }, book, KEY);
  assert.ok(dgrams.length > 1);
  for (const d of dgrams) assert.ok(d.length <= MAX_BOOK_DATAGRAM, `${d.length} bytes`);
  const got = dgrams.map((d) => decodeBook(d, keys));
  const back = got.flatMap((g) => (g.ok ? g.part.clients : []));
  assert.deepEqual(back, book);
  for (const [i, g] of got.entries()) {
    assert.ok(g.ok);
    assert.deepEqual([g.part.src, g.part.boot, g.part.seq, g.part.part, g.part.parts], ['server1', 'b1', 7, i + 1, dgrams.length]);
  }
});

test('an empty book is one part; a wrong key, a garbled datagram and another message type are refused', () => {
  const [only, ...rest] = encodeBook({ src: 's', boot: 'b', seq: 1 }, [], KEY);
  assert.equal(rest.length, 0);
  const ok = decodeBook(only!, keys);
  assert.ok(ok.ok && ok.part.clients.length === 0 && ok.part.parts === 1);
  const wrong = encodeBook({ src: 's', boot: 'b', seq: 1 }, clients(3), { index: 1, method: 'sha1', key: 'other' })[0]!;
  const r = decodeBook(wrong, keys);
  assert.ok(!r.ok && r.reason === 'auth' && r.auth === 'bad');
  const otherIndex = encodeBook({ src: 's', boot: 'b', seq: 1 }, clients(3), { index: 3, method: 'md5', key: 'x' })[0]!;
  const r2 = decodeBook(otherIndex, keys);
  assert.ok(!r2.ok && r2.reason === 'auth' && r2.auth === 'unknown-index');
  const r3 = decodeBook(Buffer.from('hello'), keys);
  assert.ok(!r3.ok && r3.reason === 'malformed');
  const flipped = Buffer.from(only!);
  flipped[10] ^= 1;
  assert.equal(decodeBook(flipped, keys).ok, false);
});
