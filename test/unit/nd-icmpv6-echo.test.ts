/**
 * ICMPv6 echo (what `ping -6` sends, for measure-failover on an IPv6 VIP): encoded with the checksum over the
 * pseudo-header, decoded with its id and seq, and tcpdump agrees ("[icmp6 sum ok]", "echo request, id, seq").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { encodeIcmpv6Echo } from '../../src/codecs/icmp.js';
import { encodeIpv6 } from '../../src/codecs/ipv6.js';
import { encodeEthernet, ETHERTYPE_IPV6 } from '../../src/codecs/ethernet.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, icmpv6ChecksumOk } from '../../src/codecs/nd.js';
import { pcapHeader, pcapRecord } from '../../src/codecs/pcap.js';

const C = '2001:db8::5';
const VIP = '2001:db8::20';
const frame = (type: 128 | 129, src: string, dst: string, seq: number) =>
  encodeEthernet({ dst: '02:48:44:00:00:12', src: '02:48:44:00:00:05', ethertype: ETHERTYPE_IPV6 }, encodeIpv6({ src, dst, nextHeader: 58, hopLimit: 64 }, encodeIcmpv6Echo({ type, id: 0x1234, seq, src, dst }, Buffer.from('hadiag'))));

test('ICMPv6 echo request and reply: checksum over the pseudo-header, id and seq decoded', () => {
  const req = encodeIcmpv6Echo({ type: ICMPV6_ECHO_REQUEST, id: 7, seq: 300, src: C, dst: VIP });
  assert.equal(req.toString('hex').slice(0, 4), '8000');
  assert.ok(icmpv6ChecksumOk(C, VIP, req));
  assert.ok(!icmpv6ChecksumOk('2001:db8::6', VIP, req), 'the checksum covers the addresses');
  const f = decodeFrame(frame(ICMPV6_ECHO_REPLY, VIP, C, 9));
  assert.deepEqual(f.icmp6, { type: 129, code: 0, id: 0x1234, seq: 9 });
  assert.equal(f.nd, undefined);
  assert.match(decodeFrame(frame(128, C, VIP, 1).subarray(0, 14 + 40 + 6)).error ?? '', /truncated ICMPv6 echo header/);
});

test('tcpdump decodes them with a good checksum', (t) => {
  if (spawnSync('tcpdump', ['--version']).status !== 0) return t.skip('tcpdump is not installed');
  const path = join(mkdtempSync(join(tmpdir(), 'hadiag-echo6-')), 'echo.pcap');
  writeFileSync(path, Buffer.concat([pcapHeader(), pcapRecord(1_700_000_000_000, frame(128, C, VIP, 1)), pcapRecord(1_700_000_000_001, frame(129, VIP, C, 1))]));
  const out = spawnSync('tcpdump', ['-r', path, '-nn', '-vv'], { encoding: 'utf8' }).stdout;
  assert.equal((out.match(/\[icmp6 sum ok\]/g) ?? []).length, 2, out);
  assert.match(out, /ICMP6, echo request, id 4660, seq 1/);
  assert.match(out, /ICMP6, echo reply, id 4660, seq 1/);
});
