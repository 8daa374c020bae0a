/** md5 and crc traffic captured from the real Heartbeat 3.0.6 daemon (see test/fixtures/heartbeat-{md5,crc}/README.md). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, verifyMessage } from '../../src/codecs/heartbeat/codec.js';
import { messageSummary } from '../../src/codecs/heartbeat/summary.js';
import type { AuthKeyLike } from '../../src/codecs/heartbeat/auth.js';
import { datagrams, keyMap } from './wire-fixtures.js';

const cases: Array<{ dir: string; key: AuthKeyLike; count: number; digestLengths: number[] }> = [
  { dir: 'heartbeat-md5', key: { index: 1, method: 'md5', key: 'hadiag-md5-key' }, count: 86, digestLengths: [32] },
  { dir: 'heartbeat-crc', key: { index: 1, method: 'crc', key: '' }, count: 84, digestLengths: [7, 8] },
];

for (const c of cases) {
  test(`${c.dir}: every real packet decodes, verifies on both layers and re-encodes byte for byte`, async () => {
    const ds = await datagrams(`${c.dir}/start-stop.pcap`);
    assert.equal(ds.length, c.count);
    const lengths = new Set<number>();
    const types = new Set<string>();
    for (const d of ds) {
      const r = decodeMessage(d.payload);
      assert.ok(r.ok, !r.ok ? r.reason : '');
      const v = verifyMessage(d.payload, keyMap(c.key));
      assert.deepEqual([v.trailing, v.inner, v.accepted], ['ok', 'ok', true]);
      assert.ok(encodeMessage(r.msg, c.key).equals(d.payload));
      lengths.add(r.trailer!.digest.length);
      types.add(messageSummary(r.msg).type!);
    }
    assert.deepEqual([...lengths].sort(), c.digestLengths);
    for (const t of ['status', 'NS_ackmsg', 'resource', 'shutdone']) assert.ok(types.has(t), `no ${t} message`);
  });

  test(`${c.dir}: a wrong key or method fails every packet`, async () => {
    const wrong: AuthKeyLike = c.key.method === 'crc' ? { index: 1, method: 'md5', key: '' } : { ...c.key, key: 'hadiag-md5-kex' };
    for (const d of await datagrams(`${c.dir}/start-stop.pcap`)) {
      const v = verifyMessage(d.payload, keyMap(wrong));
      assert.deepEqual([v.trailing, v.inner, v.accepted], ['bad', 'bad', false]);
    }
  });
}

test('crc: a flipped bit in a real packet fails (crc is not a MAC, but it detects corruption)', async () => {
  const [d] = await datagrams('heartbeat-crc/start-stop.pcap');
  const key = keyMap({ index: 1, method: 'crc', key: '' });
  for (let i = 0; i < d!.payload.length; i++) {
    const b = Buffer.from(d!.payload);
    b[i] = b[i]! ^ 0x04;
    assert.equal(verifyMessage(b, key).accepted, false, `flip at ${i}`);
  }
});
