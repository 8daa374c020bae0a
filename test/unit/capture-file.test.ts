/**
 * openCaptureFile (src/effects/io/capture-file.ts): every capture decoded or refused in one line with exit 2 —
 * empty, cut-short, compressed and unreadable files, link types a use cannot work with, files whose packets
 * carry no timestamp — and the records of the rest given one at a time with their stats and limits.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openCaptureFile, type CaptureFile, type CaptureUse } from '../../src/effects/io/capture-file.js';
import { pcapHeader, pcapRecord } from '../../src/codecs/pcap.js';
import { buildGarp } from '../../src/codecs/arp.js';
import { encodeIpv4, IPPROTO_ICMP } from '../../src/codecs/ipv4.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';
import { HadiagError } from '../../src/core/errors.js';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hadiag-capture-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_764_067_137_000;
const garp = buildGarp('request', { vip: '198.18.0.20', mac: '02:00:00:00:00:12' });
const echo = encodeIpv4({ src: '198.18.0.5', dst: '198.18.0.20', proto: IPPROTO_ICMP }, encodeIcmpEcho({ type: 8, id: 1, seq: 1 }));

function file(name: string, bytes: Buffer | string): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

const classic = (linktype: number, frames: Buffer[]) => Buffer.concat([pcapHeader(linktype), ...frames.map((f, i) => pcapRecord(T0 + i * 10, f))]);

/** pcapng (little endian): SHB, one IDB per link type, then blocks built by `packets` (EPB with a time, SPB without). */
function pcapng(linktypes: number[], packets: { iface?: number; timed: boolean; data: Buffer }[]): Buffer {
  const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const block = (type: number, body: Buffer) => { const len = 12 + pad4(body).length; return Buffer.concat([u32(type), u32(len), pad4(body), u32(len)]); };
  const us = BigInt(T0) * 1000n;
  return Buffer.concat([
    block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)])),
    ...linktypes.map((lt) => block(1, Buffer.concat([u16(lt), u16(0), u32(262144)]))),
    ...packets.map((p, i) =>
      p.timed
        ? block(6, Buffer.concat([u32(p.iface ?? 0), u32(Number((us + BigInt(i)) >> 32n)), u32(Number((us + BigInt(i)) & 0xffffffffn)), u32(p.data.length), u32(p.data.length), p.data]))
        : block(3, Buffer.concat([u32(p.data.length), p.data])),
    ),
  ]);
}

async function consume(c: CaptureFile): Promise<number> {
  let n = 0;
  for await (const r of c.records) {
    assert.ok(Number.isFinite(r.tsMs), 'every record given has a time');
    n++;
  }
  return n;
}

/** The error openCaptureFile (or iterating its records) ends in: one line, exit 2, naming the file. */
async function refusal(path: string, use: CaptureUse): Promise<string> {
  try {
    await consume(await openCaptureFile(path, use));
  } catch (err) {
    assert.ok(err instanceof HadiagError, `not a HadiagError: ${(err as Error)?.stack}`);
    assert.equal(err.exitCode, 2);
    const line = err.render();
    assert.ok(!line.includes('\n'), line);
    assert.ok(line.includes(path), `${line} does not name the file`);
    return line;
  }
  assert.fail(`${path} was accepted for ${use}`);
}

test('an empty file, a 10-byte pcapng, a cut pcap header, a section with no interface: too short to be a capture', async () => {
  const cases: [string, Buffer, RegExp][] = [
    ['empty.pcap', Buffer.alloc(0), /too short to be a capture \(the file is empty\)/],
    ['ten.pcapng', pcapng([1], []).subarray(0, 10), /too short to be a capture \(its pcapng section header is cut short after 10 bytes\)/],
    ['header.pcap', pcapHeader(1).subarray(0, 20), /too short to be a capture \(a pcap file header is 24 bytes, this file has 20\)/],
    ['shb-only.pcapng', pcapng([], []), /too short to be a capture \(a pcapng section header and no interface description\)/],
    ['three.pcap', Buffer.from([0xd4, 0xc3, 0xb2]), /too short to be a capture \(3 bytes\)/],
  ];
  for (const [name, bytes, re] of cases) {
    const line = await refusal(file(name, bytes), 'arp');
    assert.match(line, re);
    assert.match(line, /capture again with tcpdump -w FILE$/);
  }
});

test('compressed captures: the command that decompresses them, with the file', async () => {
  const cases: [string, number[], string][] = [
    ['c.pcap.zst', [0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58], 'unzstd'],
    ['c.pcap.gz', [0x1f, 0x8b, 0x08, 0x00], 'gunzip'],
    ['c.pcap.xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00], 'xz -d'],
    ['c.pcap.bz2', [0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59], 'bzip2 -d'],
  ];
  for (const [name, magic, command] of cases) {
    const p = file(name, Buffer.concat([Buffer.from(magic), Buffer.alloc(100, 0x33)]));
    const line = await refusal(p, 'icmp');
    assert.equal(line, `hadiag: not a pcap file (it is ${command === 'unzstd' ? 'zstd' : command === 'gunzip' ? 'gzip' : command.split(' ')[0]}-compressed): ${p} — decompress it first: ${command} ${p}, then read the file it leaves`);
  }
});

test('files that cannot be read or are not captures', async () => {
  assert.match(await refusal(join(tmp, 'missing.pcap'), 'arp'), /cannot read capture file: .*missing\.pcap: no such file/);
  assert.match(await refusal(tmp, 'arp'), /cannot read capture file: .*: is a directory/);
  assert.match(await refusal(file('t.pcap', 'hello\n'.repeat(20)), 'arp'), /not a pcap file \(it is text, starts with "hello"\)/);
});

test('link types: raw IP refused for ARP, usable for ICMP; others refused naming the link type', async () => {
  const raw = file('raw.pcap', classic(101, [echo]));
  assert.equal(
    await refusal(raw, 'arp'),
    `hadiag: link type 101 (RAW) has no link layer, so no ARP: ${raw} — capture on the Ethernet interface, e.g. tcpdump -i eth0 -w FILE`,
  );
  const c = await openCaptureFile(raw, 'icmp');
  assert.equal(await consume(c), 1);
  assert.match(c.limits.join(), /no link layer/);
  for (const [lt, name] of [[7, 'ARCNET_BSD'], [107, 'FRELAY, Frame Relay'], [129, 'ARCNET_LINUX'], [4242, '']] as const) {
    const p = file(`lt${lt}.pcap`, classic(lt, [garp]));
    for (const use of ['arp', 'icmp', 'heartbeat'] as const) {
      const line = await refusal(p, use);
      assert.ok(line.startsWith(`hadiag: link type ${lt}${name ? ` (${name})` : ''} is not supported (hadiag reads Ethernet, Linux cooked and raw IP captures): `), line);
      assert.match(line, / — capture on the Ethernet interface, e.g. tcpdump -i eth0 -w FILE, or tcpdump -i any -w FILE$/);
    }
  }
  const ng = file('lt7.pcapng', pcapng([7], [{ timed: true, data: garp }]));
  assert.match(await refusal(ng, 'arp'), /link type 7 \(ARCNET_BSD\) is not supported/);
});

test('Linux cooked: decoded, with what it cannot tell', async () => {
  const sll = Buffer.concat([Buffer.from([0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x12, 0, 0, 0x08, 0x06]), garp.subarray(14)]);
  const c = await openCaptureFile(file('sll.pcap', classic(113, [sll, sll])), 'arp');
  assert.equal(c.linktype, 113);
  assert.equal(await consume(c), 2);
  assert.deepEqual(c.stats, { records: 2, untimed: 0, skipped: 0, truncated: false });
  assert.equal(c.limits.length, 1);
  assert.match(c.limits[0]!, /no destination MAC, so who a frame was addressed to is unknown/);
});

test('pcapng Simple Packet Blocks: timed records only, the untimed counted; a file of only untimed ones refused', async () => {
  const mixed = await openCaptureFile(file('mixed.pcapng', pcapng([1], [{ timed: true, data: garp }, { timed: false, data: garp }, { timed: true, data: garp }])), 'arp');
  assert.equal(await consume(mixed), 2);
  assert.deepEqual(mixed.stats, { records: 2, untimed: 1, skipped: 0, truncated: false });
  const only = file('spb.pcapng', pcapng([1], [{ timed: false, data: garp }, { timed: false, data: garp }]));
  for (const use of ['arp', 'icmp', 'heartbeat'] as const) {
    const line = await refusal(only, use);
    assert.match(line, /^hadiag: no packet has a timestamp \(2 pcapng simple packet block\(s\)\), and .+: .+ — capture again with tcpdump -w FILE, which timestamps every packet \(editcap -F pcap converts the file but cannot add the missing times\)$/);
  }
});

test('a pcapng mixing link types: records of an interface the use cannot read are left out and said', async () => {
  const p = file('mixed-lt.pcapng', pcapng([1, 101], [{ iface: 0, timed: true, data: garp }, { iface: 1, timed: true, data: echo }, { iface: 1, timed: true, data: echo }]));
  const arp = await openCaptureFile(p, 'arp');
  assert.equal(await consume(arp), 1);
  assert.equal(arp.stats.skipped, 2);
  assert.deepEqual(arp.limits, [`packets of link type 101 (RAW) were left out: link type 101 (RAW) has no link layer, so no ARP`]);
  const icmp = await openCaptureFile(p, 'icmp');
  assert.equal(await consume(icmp), 3);
  assert.equal(icmp.stats.skipped, 0);
  assert.match(icmp.limits.join(), /raw IP capture: no link layer/);
});

test('records come one at a time as they are consumed; a capture cut inside a record is marked truncated', async () => {
  const frames = Array.from({ length: 2000 }, () => garp);
  const whole = classic(1, frames);
  const c = await openCaptureFile(file('cut.pcap', whole.subarray(0, whole.length - 7)), 'arp');
  assert.equal(c.format, 'pcap');
  let seen = 0;
  for await (const r of c.records) {
    seen++;
    assert.equal(c.stats.records, seen, 'stats follow the iteration');
    assert.equal(r.data.length, garp.length);
  }
  assert.equal(seen, 1999);
  assert.equal(c.stats.truncated, true);
  // stopping early closes the file and leaves no error
  const early = await openCaptureFile(file('whole.pcap', whole), 'arp');
  for await (const r of early.records) if (r) break;
  assert.equal(early.stats.records, 1);
});

test('mutated captures end in records or a one-line HadiagError through the opener (property)', async () => {
  const seeds = [classic(1, [garp, garp]), classic(101, [echo]), pcapng([1, 113], [{ timed: true, data: garp }, { timed: false, data: garp }]), pcapng([229], [{ timed: true, data: echo }])];
  const outcomes = { ok: 0, error: 0 };
  await fc.assert(
    fc.asyncProperty(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), fc.constantFrom<CaptureUse>('arp', 'icmp', 'heartbeat'), async (i, sets, cut, use) => {
      const b = Buffer.from(seeds[i]!);
      for (const [at, v] of sets) b[at % b.length] = v;
      const p = file('fuzz.pcap', b.subarray(0, cut % (b.length + 1)));
      try {
        await consume(await openCaptureFile(p, use));
        outcomes.ok++;
      } catch (err) {
        assert.ok(err instanceof HadiagError, `threw ${(err as Error)?.stack}`);
        assert.ok(!err.render().includes('\n'));
        outcomes.error++;
      }
    }),
    { numRuns: 300 },
  );
  assert.ok(outcomes.ok > 0 && outcomes.error > 0, JSON.stringify(outcomes));
});
