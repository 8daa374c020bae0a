import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePingLine, PingProbes } from '../../src/models/measure/ping-lines.js';
import { parseNeighLine, neighStateOf } from '../../src/models/measure/neigh-events.js';

test('ping -D -O lines: reply, no answer yet, error, header', () => {
  const r = parsePingLine('[1795607597.526969] 64 bytes from 198.18.0.20: icmp_seq=12 ttl=64 time=0.062 ms');
  assert.deepEqual(r, { kind: 'reply', tsMs: 1795607597526.969, seq: 12, rttMs: 0.062, from: '198.18.0.20', dup: false });
  assert.deepEqual(parsePingLine('[1795607597.756136] no answer yet for icmp_seq=1'), { kind: 'pending', tsMs: 1795607597756.136, seq: 1 });
  const e = parsePingLine('[1795607597.555307] From 198.18.0.5 icmp_seq=7 Destination Host Unreachable');
  assert.equal(e?.kind, 'error');
  assert.equal(e?.seq, 7);
  assert.equal(parsePingLine('PING 198.18.0.20 (198.18.0.20) 56(84) bytes of data.'), undefined);
  assert.equal(parsePingLine('--- 198.18.0.20 ping statistics ---'), undefined);
  const dup = parsePingLine('[1.5] 64 bytes from 198.18.0.20: icmp_seq=3 ttl=64 time=0.1 ms (DUP!)');
  assert.equal(dup?.kind === 'reply' && dup.dup, true);
});

test('PingProbes: late reply wins over "no answer yet", send times from rtt and interpolation, seq wrap', () => {
  const pp = new PingProbes(5);
  pp.add(parsePingLine('[1000.000100] 64 bytes from 198.18.0.20: icmp_seq=1 ttl=64 time=0.100 ms')!);
  pp.add(parsePingLine('[1000.010000] no answer yet for icmp_seq=2')!);
  pp.add(parsePingLine('[1000.015000] no answer yet for icmp_seq=3')!);
  pp.add(parsePingLine('[1000.020500] 64 bytes from 198.18.0.20: icmp_seq=4 ttl=64 time=0.500 ms')!);
  pp.add(parsePingLine('[1000.021000] 64 bytes from 198.18.0.20: icmp_seq=3 ttl=64 time=11.000 ms')!);
  const ps = pp.probes();
  assert.equal(ps.length, 4);
  assert.equal(ps[1]!.replyTsMs, undefined);
  assert.ok(Math.abs(ps[1]!.sentTsMs! - 1000005) < 0.01, String(ps[1]!.sentTsMs));
  assert.equal(ps[2]!.replyTsMs, 1000021);
  assert.ok(Math.abs(ps[2]!.sentTsMs! - 1000010) < 0.01);
  const w = new PingProbes(5);
  w.add({ kind: 'reply', tsMs: 1, seq: 65535, from: 'x', dup: false, rttMs: 0.1 });
  w.add({ kind: 'reply', tsMs: 6, seq: 0, from: 'x', dup: false, rttMs: 0.1 });
  assert.deepEqual(w.probes().map((p) => p.seq), [65535, 65536]);
});

test('ip -ts monitor neigh lines', () => {
  const a = parseNeighLine('[2026-11-25T11:53:38.548504] 198.18.0.20 dev hd1-eth0 lladdr 02:00:C6:12:00:0B REACHABLE');
  assert.ok(a);
  assert.equal(a.tsMs, Date.UTC(2026, 10, 25, 11, 53, 38) + 548.504);
  assert.equal(a.src, 'ip-ts');
  assert.equal(a.lladdr, '02:00:c6:12:00:0b');
  assert.equal(a.dev, 'hd1-eth0');
  assert.equal(neighStateOf(a), 'REACHABLE');
  const f = parseNeighLine('[2026-11-25T11:53:40.000001] 198.18.0.20 dev eth0  FAILED');
  assert.equal(neighStateOf(f!), 'FAILED');
  assert.equal(f!.lladdr, undefined);
  const d = parseNeighLine('[2026-11-25T11:53:40.000001] Deleted 198.18.0.20 dev eth0 lladdr 02:00:00:00:00:01 STALE');
  assert.equal(neighStateOf(d!), 'DELETED');
  const noTs = parseNeighLine('198.18.0.20 dev eth0 lladdr 02:00:00:00:00:01 PROBE', 42);
  assert.equal(noTs!.tsMs, 42);
  assert.equal(noTs!.src, 'arrival');
  // IPv6 lines only when asked for (measure-failover --vip IPV6 follows `ip -6 monitor neigh`)
  assert.equal(parseNeighLine('[2026-11-25T11:53:40.000001] fe80::1 dev eth0 lladdr 02:00:00:00:00:01 STALE'), undefined);
  assert.equal(parseNeighLine('[2026-11-25T11:53:40.000001] fe80::1 dev eth0 lladdr 02:00:00:00:00:01 STALE', undefined, 6)?.ip, 'fe80::1');
  assert.equal(parseNeighLine('[2026-11-25T11:53:40.000001] 198.18.0.20 dev eth0 lladdr 02:00:00:00:00:01 STALE', undefined, 6), undefined);
  assert.equal(parseNeighLine('[2026-11-25T11:53:40.000001] 198.18.0.0/24 dev eth0 proto kernel'), undefined);
  assert.equal(parseNeighLine('garbage'), undefined);
});

test('pcap stream reader: records come out as chunks complete them', async () => {
  const { PcapReader } = await import('../../src/codecs/pcap.js');
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(262144, 16);
  hdr.writeUInt32LE(1, 20);
  const rec = (sec: number, usec: number, data: Buffer) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(sec, 0);
    h.writeUInt32LE(usec, 4);
    h.writeUInt32LE(data.length, 8);
    h.writeUInt32LE(data.length, 12);
    return Buffer.concat([h, data]);
  };
  const all = Buffer.concat([hdr, rec(10, 500, Buffer.from('abc')), rec(11, 1, Buffer.from('defgh'))]);
  const r = new PcapReader();
  const got = [...r.read(all.subarray(0, 30)), ...r.read(all.subarray(30, 45)), ...r.read(all.subarray(45))];
  assert.equal(r.linktype, 1);
  assert.deepEqual(got.map((x) => [x.tsMs, x.data.toString()]), [[10000.5, 'abc'], [11000.001, 'defgh']]);
  const bad = new PcapReader();
  assert.deepEqual([...bad.read(Buffer.alloc(30, 7))], []);
  assert.throws(() => bad.end(), /not a pcap file/);
});
