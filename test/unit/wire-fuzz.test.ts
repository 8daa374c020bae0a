/**
 * Property tests of the Heartbeat decoder: generated and mutated inputs always end in a value or a typed
 * error, quickly. FUZZ_RUNS raises the number of cases (e.g. FUZZ_RUNS=100000 for a bench-size run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, encodeFields, encodeMessage, verifyMessage, type DecodeErrorCode } from '../../src/codecs/heartbeat/codec.js';
import { FT_BINARY, FT_STRING, type HbField } from '../../src/codecs/heartbeat/message.js';
import { datagrams, keyMap, SHA1_KEY } from './wire-fixtures.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const KEYS = keyMap(SHA1_KEY, { index: 1, method: 'md5', key: 'k' }, { index: 3, method: 'crc', key: '' });
const CODES: ReadonlySet<DecodeErrorCode> = new Set([
  'empty', 'too-large', 'bad-marker', 'truncated', 'bad-length', 'bad-field', 'bad-type', 'unsupported-type',
  'non-utf8', 'bad-base64', 'bad-trailer', 'trailing-bytes',
]);
const packets = (await datagrams('heartbeat-3.0.6/hb-cycle.pcap')).map((d) => d.payload);

/** The decoder's contract for one input; returns whether it decoded. */
function checkOne(input: Buffer): boolean {
  const t0 = performance.now();
  const r = decodeMessage(input); // throwing fails the property
  const v = verifyMessage(input, KEYS);
  assert.ok(performance.now() - t0 < 250, 'one datagram took over 250 ms');
  if (!r.ok) {
    assert.ok(CODES.has(r.code), `untyped error code ${r.code}`);
    assert.equal(typeof r.reason, 'string');
    assert.equal(v.accepted, false);
    return false;
  }
  // A decoded netstring message re-encodes exactly from its fields (and its trailer, if any).
  if (r.encoding === 'netstring') {
    const trailer = r.trailer && `${r.trailer.index} ${r.trailer.digest}`;
    assert.ok(encodeFields(r.msg, 'netstring', trailer).equals(input), 'netstring decode/encode not exact');
  } else {
    const again = encodeFields(r.msg, 'classic');
    assert.ok(again.equals(input) || again.equals(Buffer.concat([input, Buffer.from([0])])), 'classic decode/encode not exact');
  }
  for (const f of r.msg.fields) {
    assert.ok(f.type === FT_STRING || f.type === FT_BINARY);
    if (f.type === FT_BINARY) assert.ok(f.value.length <= input.length, 'allocation larger than the input');
  }
  return true;
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('digits' as const), at: fc.nat(), text: fc.constantFrom('0', '9', '99999', '4294967296', '-1', ':', ',') }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 20 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(buf: Buffer, m: Mutation): Buffer {
  const at = m.at % (buf.length + 1);
  switch (m.kind) {
    case 'flip': {
      const b = Buffer.from(buf);
      if (b.length) b[at % b.length] = b[at % b.length]! ^ m.mask;
      return b;
    }
    case 'cut':
      return buf.subarray(0, at);
    case 'insert':
      return Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)]);
    case 'digits':
      return Buffer.concat([buf.subarray(0, at), Buffer.from(m.text), buf.subarray(at)]);
    case 'delete':
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.n)]);
  }
}

test('mutated real packets end in a value or a typed error, and never verify', () => {
  const t0 = performance.now();
  fc.assert(
    fc.property(fc.nat(packets.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
      const original = packets[i]!;
      const input = ms.reduce(mutate, original);
      checkOne(input);
      if (!input.equals(original)) assert.equal(verifyMessage(input, KEYS).accepted, false, 'a mutated packet verified');
    }),
    { numRuns: RUNS },
  );
  assert.ok(performance.now() - t0 < 60_000, 'fuzzing took far too long');
});

test('random bytes behind each marker end in a value or a typed error', () => {
  const prefix = fc.constantFrom('', '###\n', '>>>\n', '###\n11:(0)t=status,', '###\n11:(0)t=status,%%%\n');
  fc.assert(
    fc.property(prefix, fc.uint8Array({ maxLength: 400 }), (p, bytes) => {
      checkOne(Buffer.concat([Buffer.from(p), Buffer.from(bytes)]));
    }),
    { numRuns: RUNS },
  );
});

const name = fc.stringMatching(/^[a-z_][a-z0-9_\-.]{0,11}$/).filter((n) => n !== 'auth');
const field: fc.Arbitrary<HbField> = fc.oneof(
  fc.record({ name, type: fc.constant(FT_STRING), value: fc.string({ maxLength: 40, unit: 'grapheme' }).filter((s) => !s.includes('\0') && !s.includes('\x13')) }),
  fc.record({ name, type: fc.constant(FT_BINARY), value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) }),
);

test('generated messages round-trip through both encodings and verify with every method', () => {
  fc.assert(
    fc.property(fc.array(field, { maxLength: 15 }), fc.constantFrom(1, 2, 3), fc.constantFrom('netstring' as const, 'classic' as const), (fields, idx, enc) => {
      const key = KEYS.get(idx)!;
      const wire = encodeMessage({ fields }, key, enc);
      assert.ok(checkOne(wire));
      const r = decodeMessage(wire);
      assert.ok(r.ok);
      assert.deepEqual(r.msg.fields.slice(0, -1), fields.map((f) => ({ ...f })));
      const v = verifyMessage(wire, KEYS);
      assert.equal(v.accepted, true);
      assert.equal(v.inner, 'ok');
      if (enc === 'netstring') assert.equal(v.trailing, 'ok');
    }),
    { numRuns: Math.ceil(RUNS / 3) },
  );
});
