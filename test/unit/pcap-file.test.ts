import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parsePcap, pcapHeader, pcapRecord, PcapReader, type PcapFile } from '../../src/codecs/pcap.js';
import { PcapWriter, readPcap, readPcapRecords } from '../../src/effects/io/pcap-file.js';
import { HadiagError } from '../../src/core/errors.js';
import { buildGarp } from '../../src/codecs/arp.js';
import { decodeFrame } from '../../src/codecs/decode.js';

const FIX = new URL('../fixtures/garp-emitters/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'hadiag-pcap-'));

test('classic µs pcap fixture: records, times and link type', async () => {
  const f = await readPcap(join(FIX, 'iputils-U.pcap'));
  assert.equal(f.format, 'pcap');
  assert.equal(f.linktype, 1);
  assert.equal(f.records.length, 3);
  assert.equal(f.truncated, false);
  // 10:18:57.689642 UTC per tcpdump; whole seconds since the epoch are what tcpdump printed, modulo the day
  const d = new Date(f.records[0]!.tsMs);
  assert.equal(d.toISOString().slice(11, 23), '10:18:57.689');
  assert.ok(Math.abs((f.records[0]!.tsMs % 1000) - 689.642) < 0.001);
  assert.equal(f.records[0]!.data.length, 42);
});

test('big-endian and nanosecond pcap give the same records', () => {
  const le = readFileSync(join(FIX, 'iputils-A.pcap'));
  const base = parsePcap(le);
  // rewrite as big-endian nanosecond pcap
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32BE(0xa1b23c4d, 0);
  h.writeUInt16BE(2, 4);
  h.writeUInt16BE(4, 6);
  h.writeUInt32BE(65535, 16);
  h.writeUInt32BE(1, 20);
  parts.push(h);
  for (const r of base.records) {
    const rh = Buffer.alloc(16);
    const ns = BigInt(Math.round(r.tsMs * 1000)) * 1000n + 123n;
    rh.writeUInt32BE(Number(ns / 1_000_000_000n), 0);
    rh.writeUInt32BE(Number(ns % 1_000_000_000n), 4);
    rh.writeUInt32BE(r.data.length, 8);
    rh.writeUInt32BE(r.origLen, 12);
    parts.push(rh, r.data);
  }
  const be = parsePcap(Buffer.concat(parts));
  assert.equal(be.format, 'pcap-ns');
  assert.equal(be.records.length, base.records.length);
  for (let i = 0; i < be.records.length; i++) {
    assert.deepEqual(be.records[i]!.data, base.records[i]!.data);
    assert.ok(Math.abs(be.records[i]!.tsMs - base.records[i]!.tsMs) < 0.001); // a float of epoch ms keeps ~0.25 µs
  }
});

/** Build a pcapng by hand: SHB, two IDBs (Ethernet µs; SLL with tsresol 2^-10... and ns), EPBs, one SPB. */
function block(type: number, body: Buffer, be = false): Buffer {
  const len = 12 + Math.ceil(body.length / 4) * 4;
  const b = Buffer.alloc(len);
  const w = (v: number, o: number) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  w(type, 0);
  w(len, 4);
  body.copy(b, 8);
  w(len, len - 4);
  return b;
}

function pcapng(be: boolean): Buffer {
  const u16 = (v: number) => { const b = Buffer.alloc(2); be ? b.writeUInt16BE(v) : b.writeUInt16LE(v); return b; };
  const u32 = (v: number) => { const b = Buffer.alloc(4); be ? b.writeUInt32BE(v) : b.writeUInt32LE(v); return b; };
  const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const shb = Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]);
  const opt = (code: number, val: Buffer) => Buffer.concat([u16(code), u16(val.length), pad4(val)]);
  const idb0 = Buffer.concat([u16(1), u16(0), u32(262144), opt(2, Buffer.from('eth0')), u16(0), u16(0)]);
  const idb1 = Buffer.concat([u16(113), u16(0), u32(262144), opt(9, Buffer.from([9])), u16(0), u16(0)]);
  const frame = buildGarp('request', { vip: '198.18.0.20', mac: '02:00:00:00:00:12' });
  const sll = Buffer.concat([Buffer.from([0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x12, 0, 0, 0x08, 0x06]), frame.subarray(14)]);
  const epb = (ifid: number, units: bigint, data: Buffer) =>
    Buffer.concat([u32(ifid), u32(Number(units >> 32n)), u32(Number(units & 0xffffffffn)), u32(data.length), u32(data.length), pad4(data)]);
  const t0 = 1_764_067_137_244_290n; // µs
  const blocks = [
    block(0x0a0d0d0a, shb, be),
    block(1, idb0, be),
    block(1, idb1, be),
    block(6, epb(0, t0, frame), be),
    block(6, epb(1, t0 * 1000n + 7n, sll), be),
    block(3, Buffer.concat([u32(frame.length), pad4(frame)]), be),
    block(5, Buffer.alloc(8), be), // interface statistics: skipped
  ];
  // SHB type is palindromic, but its length field follows the section byte order
  return Buffer.concat(blocks);
}

for (const be of [false, true]) {
  test(`pcapng (${be ? 'big' : 'little'} endian): EPB/SPB, per-interface link type and tsresol`, () => {
    const f = parsePcap(pcapng(be), 'x.pcapng');
    assert.equal(f.format, 'pcapng');
    assert.equal(f.linktype, 1);
    assert.equal(f.records.length, 2, 'the SPB has no timestamp: left out of the records');
    assert.equal(f.untimed, 1);
    const [a, b] = f.records;
    assert.equal(a!.linktype, 1);
    assert.equal(a!.tsMs, 1_764_067_137_244.29);
    assert.equal(b!.linktype, 113);
    assert.equal(b!.ifIndex, 1);
    assert.ok(Math.abs(b!.tsMs - 1_764_067_137_244.290007) < 1e-4);
    const reader = new PcapReader('x.pcapng');
    reader.push(pcapng(be));
    const every = [];
    for (let r = reader.nextAny(); r; r = reader.nextAny()) every.push(r);
    assert.equal(every.length, 3);
    assert.equal(every[2]!.tsMs, undefined, 'the SPB is an untimed record');
    assert.equal(every[2]!.data.length, 42);
    const da = decodeFrame(a!.data, a!.linktype);
    const db = decodeFrame(b!.data, b!.linktype);
    assert.deepEqual(db.arp, da.arp);
    assert.equal(db.eth!.src, '02:00:00:00:00:12');
    assert.equal(db.cooked!.pktTypeName, 'broadcast');
  });
}

test('non-pcap files: one-line errors that say what the file is', async () => {
  const cases: [string, Buffer | string, RegExp][] = [
    ['text.pcap', 'hello world\nsecond line\n', /not a pcap file \(it is text, starts with "hello world"\)/],
    ['empty.pcap', Buffer.alloc(0), /the file is empty/],
    ['gz.pcap', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), /gzip/],
    ['bin.pcap', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4]), /starts with de ad be ef 00 01 02 03/],
  ];
  for (const [name, content, re] of cases) {
    const p = join(tmp, name);
    writeFileSync(p, content);
    await assert.rejects(readPcap(p), (e: unknown) => e instanceof HadiagError && re.test(e.render()) && !e.render().includes('\n') && e.render().includes(p));
  }
  await assert.rejects(readPcap(join(tmp, 'missing.pcap')), (e: unknown) => e instanceof HadiagError && /no such file/.test(e.render()) && e.exitCode === 2);
});

test('a file cut in the middle of a record keeps the whole records and says truncated', () => {
  const full = readFileSync(join(FIX, 'iputils-U.pcap'));
  const f = parsePcap(full.subarray(0, full.length - 5));
  assert.equal(f.records.length, 2);
  assert.equal(f.truncated, true);
  // a huge length field does not allocate or throw
  const bad = Buffer.concat([pcapHeader(), pcapRecord(1000, Buffer.alloc(10))]);
  bad.writeUInt32LE(0xfffffff0, 24 + 8);
  assert.equal(parsePcap(bad).records.length, 0);
});

test('PcapWriter output round-trips and tcpdump reads it', () => {
  const p = join(tmp, 'sub', 'out.pcap');
  const w = PcapWriter.create(p);
  const frames = [
    buildGarp('request', { vip: '198.18.0.20', mac: '02:00:00:00:00:12' }),
    buildGarp('reply', { vip: '198.18.0.20', mac: '02:00:00:00:00:12' }),
  ];
  w.write(1_764_067_137_244.29, frames[0]!);
  w.write(1_764_067_137_344.5, frames[1]!);
  w.close();
  w.close(); // closing twice is harmless
  const f = parsePcap(readFileSync(p));
  assert.equal(f.records.length, 2);
  assert.deepEqual(f.records[1]!.data, frames[1]);
  assert.ok(Math.abs(f.records[1]!.tsMs - 1_764_067_137_344.5) < 0.001);
  const r = spawnSync('tcpdump', ['-nn', '-e', '-r', p], { encoding: 'utf8' });
  if (r.error) return; // tcpdump missing: the parse above still checked the bytes
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /Request who-has 198\.18\.0\.20 tell 198\.18\.0\.20/);
  assert.match(lines[1]!, /Reply 198\.18\.0\.20 is-at 02:00:00:00:00:12/);
  assert.match(r.stderr, /EN10MB/);
});

/** Feed `buf` to a PcapReader in chunks of the given sizes (cycled) and collect what it gives. */
function readInChunks(buf: Buffer, sizes: number[]): PcapFile {
  const reader = new PcapReader('chunks');
  const records = [];
  for (let off = 0, i = 0; off < buf.length; off += sizes[i++ % sizes.length]!) records.push(...reader.read(buf.subarray(off, off + sizes[i % sizes.length]!)));
  reader.end();
  return reader.summary(records);
}

test('the reader gives the same records whatever the chunks (a pipe, a read stream, one buffer)', () => {
  const files = [readFileSync(join(FIX, 'iputils-U.pcap')), readFileSync(join(FIX, 'keepalived-takeover.pcap')), pcapng(false), pcapng(true)];
  const cut = readFileSync(join(FIX, 'iputils-U.pcap'));
  files.push(cut.subarray(0, cut.length - 5));
  for (const buf of files) {
    const whole = parsePcap(buf);
    for (const sizes of [[1], [3, 17], [24, 16, 42], [4096]]) {
      const got = readInChunks(buf, sizes);
      assert.equal(got.format, whole.format);
      assert.equal(got.linktype, whole.linktype);
      assert.equal(got.truncated, whole.truncated);
      assert.deepEqual(got.records, whole.records);
    }
  }
});

test('readPcapRecords: a file as an async iterable of records, format and truncation on the reader', async () => {
  const path = join(FIX, 'keepalived-takeover.pcap');
  const reader = new PcapReader(path);
  let n = 0;
  for await (const r of readPcapRecords(path, reader)) {
    assert.equal(r.linktype, 1);
    n++;
  }
  assert.equal(n, parsePcap(readFileSync(path)).records.length);
  assert.equal(reader.format, 'pcap');
  assert.equal(reader.truncated, false);
  // stopping early is fine (the read stream is closed)
  for await (const r of readPcapRecords(path)) if (r) break;
});
