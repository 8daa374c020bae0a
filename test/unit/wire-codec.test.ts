import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classicText,
  decodeMessage,
  encodeFields,
  encodeMessage,
  verifyMessage,
  type DecodeOk,
  type DecodeErrorCode,
} from '../../src/codecs/heartbeat/codec.js';
import { buildMessage, FT_BINARY, FT_STRING, getField, type HbMessage } from '../../src/codecs/heartbeat/message.js';
import { messageSummary } from '../../src/codecs/heartbeat/summary.js';
import { datagrams, keyMap, SHA1_KEY, type Datagram } from './wire-fixtures.js';

const KEYS = keyMap(SHA1_KEY);
const cycle = await datagrams('heartbeat-3.0.6/hb-cycle.pcap');
const steady = await datagrams('heartbeat-3.0.6/steady.pcap');

function decoded(d: Datagram): DecodeOk {
  const r = decodeMessage(d.payload);
  assert.ok(r.ok, `does not decode: ${!r.ok && r.reason}`);
  return r;
}

test('the captures hold the documented number of messages', () => {
  assert.equal(cycle.length, 209);
  assert.equal(steady.length, 10);
});

test('every captured packet decodes, verifies on both layers and re-encodes from its fields to the same bytes', () => {
  for (const d of [...cycle, ...steady]) {
    const r = decoded(d);
    assert.equal(r.encoding, 'netstring');
    assert.deepEqual(r.trailer?.index, 2);
    const v = verifyMessage(d.payload, KEYS);
    assert.deepEqual([v.trailing, v.inner, v.accepted], ['ok', 'ok', true]);
    // Re-encode from a deep copy of the fields, so nothing of the input buffer can leak through.
    const copy: HbMessage = {
      fields: r.msg.fields.map((f) => (f.type === FT_BINARY ? { ...f, value: Buffer.from(f.value.toString('hex'), 'hex') } : { ...f })),
    };
    assert.ok(encodeMessage(copy, SHA1_KEY).equals(d.payload), `re-encoding differs: ${getField(r.msg, 't')}`);
  }
});

test('a status message built field by field encodes to the captured bytes', () => {
  const msg = buildMessage([
    ['t', 'status'],
    ['st', 'active'],
    ['dt', (5000).toString(16)],
    ['protocol', '1'],
    ['src', 'server2'],
    ['srcuuid', Buffer.from('fca7c54d21ea446b8f956ef44bb1e720', 'hex')],
    ['seq', (0x1d).toString(16)],
    ['hg', (0x6b06b660).toString(16)],
    ['ts', (0x6b06b670).toString(16)],
    ['ld', '0.16 0.17 0.08 1/121 13983'],
    ['ttl', '3'],
  ]);
  const wire = encodeMessage(msg, SHA1_KEY);
  assert.equal(wire.length, 314);
  assert.ok(wire.equals(steady[0]!.payload), `${wire.toString('latin1')}\n!=\n${steady[0]!.payload.toString('latin1')}`);
});

test('the captured messages summarise to what the notes describe', () => {
  const s = messageSummary(decoded(steady[0]!).msg);
  assert.deepEqual(
    { type: s.type, src: s.src, status: s.status, seq: s.seq, hg: s.hg, dt: s.deadtimeMs, uuid: s.srcUuid },
    { type: 'status', src: 'server2', status: 'active', seq: 0x1d, hg: 0x6b06b660, dt: 5000, uuid: 'fca7c54d-21ea-446b-8f95-6ef44bb1e720' },
  );
  const ack = cycle.map((d) => messageSummary(decoded(d).msg)).find((x) => x.type === 'NS_ackmsg')!;
  assert.equal(ack.seq, undefined);
  assert.equal(typeof ack.ackseq, 'number');
  assert.ok(ack.dest === 'server1' || ack.dest === 'server2');
});

test('a flipped byte anywhere in a packet fails verification', () => {
  const samples = [steady[0]!, cycle.find((d) => getField(decoded(d).msg, 't') === 'NS_ackmsg')!, cycle.find((d) => getField(decoded(d).msg, 't') === 'resource')!];
  for (const d of samples) {
    for (let i = 0; i < d.payload.length; i++) {
      for (const mask of [0x01, 0x20, 0x80]) {
        const b = Buffer.from(d.payload);
        b[i] = b[i]! ^ mask;
        const v = verifyMessage(b, KEYS);
        assert.equal(v.accepted, false, `flip 0x${mask.toString(16)} at byte ${i} of ${d.payload.length} accepted`);
        assert.notEqual(v.trailing, 'ok', `flip at ${i}`);
      }
    }
  }
});

test('a wrong key fails every packet on both layers; an unknown index or no keys is said so', () => {
  const wrong = keyMap({ index: 2, method: 'sha1', key: 'passs' });
  const otherIndex = keyMap({ index: 1, method: 'sha1', key: 'pass' });
  const md5 = keyMap({ index: 2, method: 'md5', key: 'pass' });
  for (const d of [...cycle, ...steady]) {
    assert.deepEqual(pick(verifyMessage(d.payload, wrong)), ['bad', 'bad', false]);
    assert.deepEqual(pick(verifyMessage(d.payload, md5)), ['bad', 'bad', false]);
    assert.deepEqual(pick(verifyMessage(d.payload, otherIndex)), ['unknown-index', 'unknown-index', false]);
    assert.deepEqual(pick(verifyMessage(d.payload, new Map())), ['no-key', 'no-key', false]);
  }
});

const pick = (v: ReturnType<typeof verifyMessage>) => [v.trailing, v.inner, v.accepted];

test('missing auth layers are reported as missing', () => {
  const r = decoded(steady[0]!);
  const noTrailer = encodeFields(r.msg, 'netstring');
  assert.deepEqual(pick(verifyMessage(noTrailer, KEYS)), ['missing', 'ok', false]);
  const noAuthField = { fields: r.msg.fields.filter((f) => f.name !== 'auth') };
  const body = encodeFields(noAuthField, 'netstring');
  const v = verifyMessage(encodeFields(noAuthField, 'netstring', `2 ${'0'.repeat(40)}`), KEYS);
  assert.deepEqual([v.trailing, v.inner], ['bad', 'missing']);
  assert.equal(decodeMessage(body).ok, true);
});

test('classic encoding: exact text, both ways, with binary fields and newlines in values', () => {
  const msg = buildMessage([
    ['t', 'resource'],
    ['info', 'two\nlines'],
    ['srcuuid', Buffer.from([0, 1, 2, 0xfe, 0xff])],
    ['src', 'server1'],
  ]);
  const wire = encodeMessage(msg, SHA1_KEY, 'classic');
  const text = wire.toString('latin1');
  assert.match(text, /^>>>\nt=resource\ninfo=two\x13lines\n\(1\)srcuuid=AAEC\/v8=\nsrc=server1\nauth=2 [0-9a-f]{40}\n<<<\n\0$/);
  const r = decodeMessage(wire);
  assert.ok(r.ok && r.encoding === 'classic');
  assert.deepEqual(r.msg.fields.slice(0, 4), msg.fields);
  assert.deepEqual(pick(verifyMessage(wire, KEYS)), ['missing', 'ok', true]);
  assert.ok(encodeMessage(r.msg, SHA1_KEY, 'classic').equals(wire));
  // Without the trailing NUL it is still accepted.
  assert.equal(verifyMessage(wire.subarray(0, -1), KEYS).accepted, true);
  const bad = Buffer.from(wire);
  bad[6] = 'x'.charCodeAt(0); // t=rexource
  assert.deepEqual(pick(verifyMessage(bad, KEYS)), ['missing', 'bad', false]);
});

test('every captured message survives netstring -> classic -> netstring', () => {
  for (const d of cycle) {
    const r = decoded(d);
    const classic = encodeMessage(r.msg, SHA1_KEY, 'classic');
    const back = decodeMessage(classic);
    assert.ok(back.ok);
    assert.equal(verifyMessage(classic, KEYS).inner, 'ok');
    assert.ok(encodeMessage(back.msg, SHA1_KEY).equals(d.payload));
  }
});

test('the inner auth covers the classic text of the other fields, binary as (1)name=<base64>', () => {
  const r = decoded(steady[0]!);
  const text = classicText(r.msg.fields.filter((f) => f.name !== 'auth'));
  assert.match(text, /^t=status\nst=active\ndt=1388\nprotocol=1\nsrc=server2\n\(1\)srcuuid=\/KfFTSHqRGuPlW70S7HnIA==\nseq=1d\n/);
});

const MALFORMED: Array<[string, Buffer | string, DecodeErrorCode]> = [
  ['empty', '', 'empty'],
  ['no marker', 'hello', 'bad-marker'],
  ['almost a marker', '##\n', 'bad-marker'],
  ['start marker only', '###\n', 'truncated'],
  ['no end marker', '###\n11:(0)t=status,', 'truncated'],
  ['truncated inside a field', '###\n11:(0)t=sta', 'truncated'],
  ['truncated inside a length', '###\n11', 'truncated'],
  ['length too short', '###\n5:(0)t=status,%%%\n', 'bad-length'],
  ['length too long by one', '###\n12:(0)t=status,%%%\n', 'bad-length'],
  ['huge length', '###\n99999:(0)t=status,%%%\n', 'bad-length'],
  ['absurd length', '###\n99999999999999999999:x,%%%\n', 'bad-length'],
  ['length with a leading zero', '###\n011:(0)t=status,%%%\n', 'bad-length'],
  ['negative length', '###\n-1:x,%%%\n', 'bad-length'],
  ['no colon', '###\n11(0)t=status,%%%\n', 'bad-length'],
  ['no type', '###\n8:t=status,%%%\n', 'bad-type'],
  ['bad type', '###\n11:(9)t=status,%%%\n', 'bad-type'],
  ['nested message', '###\n11:(2)t=status,%%%\n', 'unsupported-type'],
  ['list', '###\n11:(3)t=status,%%%\n', 'unsupported-type'],
  ['compressed', '###\n11:(4)t=status,%%%\n', 'unsupported-type'],
  ['no equals sign', '###\n10:(0)tstatus,%%%\n', 'bad-field'],
  ['empty name', '###\n10:(0)=status,%%%\n', 'bad-field'],
  ['space in name', '###\n13:(0)t x=status,%%%\n', 'bad-field'],
  ['NUL in a string', Buffer.from('###\n11:(0)t=sta\0us,%%%\n', 'latin1'), 'bad-field'],
  ['non-UTF-8 string', Buffer.concat([Buffer.from('###\n12:(0)t=st'), Buffer.from([0xc3, 0x28]), Buffer.from('tus,%%%\n')]), 'non-utf8'],
  ['bad trailer', '###\n11:(0)t=status,%%%\n5:hello,', 'bad-trailer'],
  ['trailer index with leading zero', '###\n11:(0)t=status,%%%\n5:02 ab,', 'bad-trailer'],
  ['trailer with a bad length', '###\n11:(0)t=status,%%%\n3:2 ab,', 'bad-trailer'],
  ['truncated trailer', '###\n11:(0)t=status,%%%\n42:2 ab', 'truncated'],
  ['bytes after the trailer', '###\n11:(0)t=status,%%%\n4:2 ab,x', 'trailing-bytes'],
  ['classic without end', '>>>\nt=status\n', 'truncated'],
  ['classic, end not at line start', '>>>\nt=status<<<\n', 'bad-marker'],
  ['classic, garbage after end', '>>>\nt=status\n<<<\n\0junk', 'trailing-bytes'],
  ['classic, line without =', '>>>\nstatus\n<<<\n', 'bad-field'],
  ['classic, bad base64', '>>>\n(1)srcuuid=@@@@\n<<<\n', 'bad-base64'],
  ['classic, non-canonical base64', '>>>\n(1)srcuuid=QR==\n<<<\n', 'bad-base64'],
  ['classic, nested', '>>>\n(2)child=x\n<<<\n', 'unsupported-type'],
  ['classic, non-UTF-8', Buffer.concat([Buffer.from('>>>\nt='), Buffer.from([0xff]), Buffer.from('\n<<<\n')]), 'non-utf8'],
];

test('malformed input gives a typed error, never an exception', () => {
  for (const [what, input, code] of MALFORMED) {
    const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
    const r = decodeMessage(buf);
    assert.equal(r.ok, false, `${what}: decoded`);
    if (!r.ok) {
      assert.equal(r.code, code, `${what}: ${r.reason}`);
      assert.ok(r.reason.length > 5);
    }
    assert.equal(verifyMessage(buf, KEYS).accepted, false);
  }
  assert.equal(decodeMessage(Buffer.alloc(70_000, 0x23)).ok, false);
  assert.equal((decodeMessage(Buffer.alloc(70_000, 0x23)) as { code: string }).code, 'too-large');
  assert.equal(decodeMessage(null as unknown as Buffer).ok, false);
});

test('every prefix of a captured packet is an error or (with the trailer cut) a message with a missing token', () => {
  for (const d of [steady[0]!, cycle[0]!]) {
    for (let n = 0; n < d.payload.length; n++) {
      const r = decodeMessage(d.payload.subarray(0, n));
      const end = d.payload.indexOf('%%%\n') + 4;
      if (n === end) assert.ok(r.ok && !r.trailer);
      else assert.equal(r.ok, false, `prefix ${n}`);
    }
  }
});

test('string fields keep spaces, unicode and empty values', () => {
  const msg: HbMessage = {
    fields: [
      { name: 'nodelist', type: FT_STRING, value: 'server1 server2 ' },
      { name: 'delnodelist', type: FT_STRING, value: ' ' },
      { name: 'empty', type: FT_STRING, value: '' },
      { name: 'info', type: FT_STRING, value: 'ünïcødé ✓' },
    ],
  };
  for (const enc of ['netstring', 'classic'] as const) {
    const r = decodeMessage(encodeMessage(msg, { index: 1, method: 'md5', key: 'k' }, enc));
    assert.ok(r.ok);
    assert.deepEqual(r.msg.fields.slice(0, 4), msg.fields);
  }
});
