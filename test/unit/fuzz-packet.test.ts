/**
 * Fuzzing the packet layer's pure decoders (decodeFrame: Ethernet with VLAN stacks and LLC/SNAP, Linux cooked
 * SLL/SLL2, raw IPv4/IPv6, ARP, IPv4, UDP, ICMP, IPv6 + ND; parsePcap: classic pcap µs/ns both byte orders, pcapng) with frames and files
 * mutated from real captures (test/fixtures) and generated from scratch. Contract for every input: a value
 * (decodeFrame: a Frame, possibly with `error`; parsePcap: records) or a typed error (HadiagError for
 * parsePcap), never another exception, no hang (each call well under 250 ms), and allocations bounded by
 * the input (decoded payloads and records are views of the input, never larger than it).
 *
 * FUZZ_RUNS raises the number of cases (bench/fuzz.ts runs 100 000+). The Heartbeat decoder is fuzzed in
 * wire-fuzz.test.ts and the config parsers in config-fuzz.test.ts; not repeated here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeFrame, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, type Frame } from '../../src/codecs/decode.js';
import { parsePcap, pcapHeader, pcapRecord } from '../../src/codecs/pcap.js';
import { buildGarp } from '../../src/codecs/arp.js';
import { HadiagError } from '../../src/core/errors.js';
import { encodeEthernet, encodeSnapFrame } from '../../src/codecs/ethernet.js';
import { encodeIpv4 } from '../../src/codecs/ipv4.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const FIX = join(import.meta.dirname, '../fixtures');
const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
const IP4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** "No hang": a call slower than this is timed again; only a reproducibly slow input fails (GC, a busy machine). */
const SLOW_MS = 1000;

const pcapFiles = ['garp-emitters', 'heartbeat-3.0.6', 'heartbeat-md5', 'heartbeat-crc', 'measure'].flatMap((d) =>
  readdirSync(join(FIX, d)).filter((f) => f.endsWith('.pcap')).map((f) => join(FIX, d, f)),
);
const files = pcapFiles.map((f) => readFileSync(f));
/** Every frame of every fixture capture (ARP in every sender's form, heartbeat UDP, ICMP echo, IPv6 NA). */
const frames: Buffer[] = files.flatMap((b) => parsePcap(b).records.map((r) => Buffer.from(r.data)));
/** A VLAN-tagged GARP and a cooked (SLL) rendering of some frames, so those paths are seeded too. */
const vlanGarp = buildGarp('request', { vip: '198.18.0.20', mac: '02:48:44:00:00:0b', vlan: 20 } as Parameters<typeof buildGarp>[1]);
function toSll(eth: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(1, 0); // broadcast
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  eth.copy(h, 6, 6, 12);
  h.writeUInt16BE(eth.readUInt16BE(12), 14);
  return Buffer.concat([h, eth.subarray(14)]);
}
function toSll2(eth: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(eth.readUInt16BE(12), 0);
  h.writeUInt32BE(2, 4); // ifindex
  h.writeUInt16BE(1, 8);
  h.writeUInt8(1, 10);
  h.writeUInt8(6, 11);
  eth.copy(h, 12, 6, 12);
  return Buffer.concat([h, eth.subarray(14)]);
}
/** ICMP echo request/reply (the fixtures hold none): what measure-failover's probes look like. */
const echoes = [0, 8].map((type, i) =>
  encodeEthernet(
    { dst: '02:48:44:00:00:14', src: '02:48:44:00:00:05', ethertype: 0x0800, ...(i ? { vlan: 7 } : {}) },
    encodeIpv4({ src: '198.18.0.5', dst: '198.18.0.20', proto: 1 }, encodeIcmpEcho({ type: type as 0 | 8, id: 0x1234, seq: 42 + i }, Buffer.alloc(56, 0x61))),
  ),
);
/** ARP behind stacks of tags (802.1ad over 802.1Q, the old 0x9100, five deep) and inside an 802.3 LLC/SNAP frame. */
const arpBody = vlanGarp.subarray(18);
const tagStacks = [
  [{ tpid: 0x88a8, id: 100 }, { tpid: 0x8100, id: 20 }],
  [{ tpid: 0x9100, id: 300 }, { tpid: 0x88a8, id: 100 }, { tpid: 0x8100, id: 20, pcp: 6 }],
  Array.from({ length: 5 }, (_, i) => ({ tpid: 0x8100, id: i + 1 })),
];
const stackedArp = tagStacks.map((tags) => encodeEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:48:44:00:00:0b', ethertype: 0x0806, tags }, arpBody));
const snapArp = encodeSnapFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:48:44:00:00:0b', ethertype: 0x0806 }, arpBody);
/** IP packets of the fixtures with their link layer cut off: raw IP captures (LINKTYPE_RAW 101, IPV4 228, IPV6 229). */
const ipPackets = frames.filter((f) => f.readUInt16BE(12) === 0x0800 || f.readUInt16BE(12) === 0x86dd).slice(0, 40).map((f) => f.subarray(14));
const seeds: { lt: number; data: Buffer }[] = [
  ...frames.map((data) => ({ lt: LINKTYPE_ETHERNET, data })),
  ...echoes.map((data) => ({ lt: LINKTYPE_ETHERNET, data })),
  { lt: LINKTYPE_ETHERNET, data: vlanGarp },
  ...[...stackedArp, snapArp].map((data) => ({ lt: LINKTYPE_ETHERNET, data })),
  ...ipPackets.map((data) => ({ lt: 101, data })),
  ...echoes.map((data) => ({ lt: 228, data: data.subarray(data.readUInt16BE(12) === 0x8100 ? 18 : 14) })),
  ...frames.filter((f) => f.readUInt16BE(12) === 0x86dd).map((f) => ({ lt: 229, data: f.subarray(14) })),
  ...frames.slice(0, 20).map((f) => ({ lt: LINKTYPE_LINUX_SLL, data: toSll(f) })),
  ...frames.slice(0, 20).map((f) => ({ lt: LINKTYPE_LINUX_SLL2, data: toSll2(f) })),
];

/** A minimal pcapng file (SHB, IDB with if_tsresol, EPBs, an SPB) in either byte order, from the fixture frames. */
function pcapng(list: Buffer[], bigEndian = false, tsresol = 6): Buffer {
  const w32 = (b: Buffer, v: number, o: number) => (bigEndian ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const w16 = (b: Buffer, v: number, o: number) => (bigEndian ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const block = (type: number, body: Buffer) => {
    const pad = (4 - (body.length % 4)) % 4;
    const len = 12 + body.length + pad;
    const b = Buffer.alloc(len);
    w32(b, type, 0);
    w32(b, len, 4);
    body.copy(b, 8);
    w32(b, len, len - 4);
    return b;
  };
  const shb = Buffer.alloc(16);
  w32(shb, 0x1a2b3c4d, 0);
  w16(shb, 1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8 + 8 + 4);
  w16(idb, 1, 0);
  w32(idb, 262144, 4);
  w16(idb, 9, 8); // if_tsresol
  w16(idb, 1, 10);
  idb[12] = tsresol;
  const blocks = [block(0x0a0d0d0a, shb), block(1, idb)];
  list.forEach((f, i) => {
    const body = Buffer.alloc(20 + f.length);
    w32(body, 0, 0);
    w32(body, 0x5f5e1, 4);
    w32(body, 1000 * i, 8);
    w32(body, f.length, 12);
    w32(body, f.length, 16);
    f.copy(body, 20);
    blocks.push(block(6, body));
  });
  const spb = Buffer.alloc(4 + (list[0]?.length ?? 0));
  w32(spb, list[0]?.length ?? 0, 0);
  list[0]?.copy(spb, 4);
  blocks.push(block(3, spb));
  return Buffer.concat(blocks);
}

/** A classic pcap in big-endian / nanosecond form (the fixtures are little-endian µs). */
function pcapVariant(list: Buffer[], bigEndian: boolean, nano: boolean): Buffer {
  const h = pcapHeader(LINKTYPE_ETHERNET);
  const recs = list.map((f, i) => pcapRecord(1_700_000_000_000 + i, f));
  const out = Buffer.concat([h, ...recs]);
  if (nano) out.writeUInt32LE(0xa1b23c4d, 0);
  if (!bigEndian) return out;
  // swap every 32-bit field of the header and record headers (16-bit version fields too)
  const b = Buffer.from(out);
  b.writeUInt32BE(out.readUInt32LE(0), 0);
  b.writeUInt16BE(out.readUInt16LE(4), 4);
  b.writeUInt16BE(out.readUInt16LE(6), 6);
  for (const o of [8, 12, 16, 20]) b.writeUInt32BE(out.readUInt32LE(o), o);
  let off = 24;
  while (off + 16 <= out.length) {
    const incl = out.readUInt32LE(off + 8);
    for (const o of [0, 4, 8, 12]) b.writeUInt32BE(out.readUInt32LE(off + o), off + o);
    off += 16 + incl;
  }
  return b;
}

const fileSeeds: Buffer[] = [
  ...files.filter((f) => f.length < 40_000),
  pcapng(frames.slice(0, 12)),
  pcapng(frames.slice(12, 24), true, 9),
  pcapng(frames.slice(24, 30), false, 0x80 | 20),
  pcapVariant(frames.slice(0, 10), true, false),
  pcapVariant(frames.slice(10, 20), false, true),
];

// ------------------------------------------------------------------ mutations

const mutation = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x01, 0x05, 0x06, 0x11, 0x45, 0x4f, 0x81, 0x86, 0x88) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: fc.constantFrom(0, 0xffffffff, 0x7fffffff, 0x80000000, 0x0000ffff, 12, 16, 65536, 0x0a0d0d0a, 0x1a2b3c4d) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 24 }) }) },
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'flip':
        b[at] = b[at]! ^ m.mask;
        break;
      case 'set':
        b[at] = m.value;
        break;
      case 'word':
        if (at + 4 <= b.length) (at % 2 ? b.writeUInt32BE(m.value, at) : b.writeUInt32LE(m.value, at));
        break;
      case 'cut':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
        break;
    }
  }
  return b;
}

// ------------------------------------------------------------------ contracts

function validIp4(ip: string): boolean {
  const m = IP4_RE.exec(ip);
  return !!m && m.slice(1).every((x) => Number(x) <= 255);
}

function assertQuick(fn: () => void, what: string): void {
  for (let attempt = 0; ; attempt++) {
    const t0 = performance.now();
    fn();
    const ms = performance.now() - t0;
    if (ms < SLOW_MS) return;
    assert.ok(attempt < 2, `${what} took ${ms.toFixed(0)} ms three times on the same input (a hang)`);
  }
}

/** decodeFrame's contract for one input. */
export function checkFrame(data: Buffer, lt: number): Frame {
  const f = decodeFrame(data, lt); // a throw fails the property
  assertQuick(() => decodeFrame(data, lt), 'decodeFrame');
  assert.equal(f.len, data.length);
  if (f.error !== undefined) assert.equal(typeof f.error, 'string');
  if (f.eth) {
    // a cooked header may carry no (or a non-6-byte) link address: '' then
    assert.ok(MAC_RE.test(f.eth.src) || (f.cooked !== undefined && f.eth.src === ''), `eth src ${f.eth.src}`);
    assert.ok(f.eth.dst === '' || MAC_RE.test(f.eth.dst), `eth dst ${f.eth.dst}`);
    assert.ok(Number.isInteger(f.eth.ethertype) && f.eth.ethertype >= 0 && f.eth.ethertype <= 0xffff);
    assert.ok(4 * (f.eth.tags?.length ?? 0) <= data.length - 14, 'more VLAN tags than the frame holds');
    if (f.eth.tags) assert.equal(f.eth.vlan, f.eth.tags[0]!.id);
  }
  if (f.arp) {
    for (const ip of [f.arp.senderIp, f.arp.targetIp]) assert.ok(validIp4(ip), `arp ip ${ip}`);
    for (const mac of [f.arp.senderMac, f.arp.targetMac]) assert.ok(MAC_RE.test(mac), `arp mac ${mac}`);
  }
  if (f.ipv4) {
    assert.ok(validIp4(f.ipv4.src) && validIp4(f.ipv4.dst));
    assert.ok(f.ipv4.ttl >= 0 && f.ipv4.ttl <= 255);
  }
  if (f.udp) {
    assert.ok(f.udp.payload.length <= data.length, 'UDP payload larger than the frame');
    assert.ok(f.udp.payload.buffer === data.buffer, 'UDP payload is a copy, not a view of the frame');
    assert.ok(f.udp.srcPort >= 0 && f.udp.srcPort <= 0xffff && f.udp.dstPort >= 0 && f.udp.dstPort <= 0xffff);
  }
  if (f.icmp) assert.ok(f.icmp.type >= 0 && f.icmp.type <= 255);
  // the decoded value is small: bounded by the input (+ a constant for field names)
  assert.ok(JSON.stringify(f, (_k, v) => (Buffer.isBuffer(v) || v?.type === 'Buffer' ? v.length : v)).length < 2048 + 4 * data.length, 'decoded frame out of proportion to the input');
  return f;
}

/** parsePcap's contract for one input: records or a HadiagError. */
export function checkPcap(buf: Buffer): 'ok' | 'error' {
  let r;
  try {
    r = parsePcap(buf, 'fuzz.pcap');
  } catch (err) {
    assert.ok(err instanceof HadiagError, `parsePcap threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.match(err.message, /\S/);
    return 'error';
  } finally {
    assertQuick(() => {
      try {
        parsePcap(buf, 'fuzz.pcap');
      } catch {
        /* timed only */
      }
    }, 'parsePcap');
  }
  assert.ok(r.records.length <= buf.length / 12, 'more records than the file can hold');
  let total = 0;
  for (const rec of r.records) {
    assert.ok(rec.data.buffer === buf.buffer, 'record data is not a view of the file');
    total += rec.data.length;
    assert.ok(Number.isFinite(rec.tsMs), 'a record without a real time (pcapng SPBs are counted as untimed instead)');
    // and whatever the record holds decodes to a value
    checkFrame(rec.data, rec.linktype ?? r.linktype);
  }
  assert.ok(total <= buf.length, 'records larger than the file');
  return 'ok';
}

// ------------------------------------------------------------------ properties

test('seed corpus: every fixture frame and file satisfies the contract and decodes its layers', () => {
  assert.ok(frames.length > 300, `only ${frames.length} fixture frames`);
  let arp = 0;
  let udp = 0;
  let icmp = 0;
  for (const s of seeds) {
    const f = checkFrame(s.data, s.lt);
    assert.equal(f.error, undefined, `a fixture frame failed to decode: ${f.error}`);
    if (f.arp) arp++;
    if (f.udp) udp++;
    if (f.icmp) icmp++;
  }
  assert.ok(arp > 20 && udp > 100 && icmp >= 2, `seed layers: arp ${arp} udp ${udp} icmp ${icmp}`);
  for (const data of [...stackedArp, snapArp]) assert.equal(checkFrame(data, LINKTYPE_ETHERNET).arp?.senderIp, '198.18.0.20', 'ARP behind tags / in LLC/SNAP');
  assert.ok(ipPackets.length >= 20 && ipPackets.every((p) => { const f = checkFrame(p, 101); return !f.eth && (f.ipv4 ?? f.ipv6); }), 'raw IP seeds decode with no link layer');
  for (const b of fileSeeds) assert.equal(checkPcap(b), 'ok');
  const ng = parsePcap(fileSeeds.at(-4)!);
  assert.equal(ng.records.length, 12, 'pcapng seed: 12 EPBs');
  assert.equal(ng.untimed, 1, 'pcapng seed: 1 SPB, untimed');
  assert.equal(parsePcap(fileSeeds.at(-2)!).format, 'pcap');
  assert.equal(parsePcap(fileSeeds.at(-1)!).format, 'pcap-ns');
});

test('decodeFrame: mutated real frames (all link types) end in a Frame, quickly, bounded', () => {
  let errors = 0;
  fc.assert(
    fc.property(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 5 }), (i, ms) => {
      const s = seeds[i]!;
      if (checkFrame(mutate(s.data, ms), s.lt).error) errors++;
    }),
    { numRuns: RUNS },
  );
  assert.ok(errors > 0, 'no mutation produced a decode error: the mutator is not reaching the decoders');
});

test('decodeFrame: generated frames with plausible headers (Ethernet + ethertype + random body)', () => {
  const ethertype = fc.constantFrom(0x0806, 0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x1234, 0x0600);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      ethertype,
      fc.option(ethertype),
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom(LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, 0, 12, 101, 228, 229, 0xffff),
      (macs, et, inner, body, lt) => {
        const h = Buffer.alloc(14 + (inner !== null ? 4 : 0));
        Buffer.from(macs).copy(h);
        h.writeUInt16BE(et, 12);
        if (inner !== null) h.writeUInt16BE(inner, 16);
        checkFrame(Buffer.concat([h, Buffer.from(body)]), lt);
      },
    ),
    { numRuns: RUNS },
  );
});

test('decodeFrame: generated stacks of VLAN tags, 802.3 length fields and LLC/SNAP headers', () => {
  const tpid = fc.constantFrom(0x8100, 0x88a8, 0x9100);
  const inner = fc.oneof(
    fc.constantFrom(0x0806, 0x0800, 0x86dd).map((t) => Buffer.from([t >> 8, t & 0xff])),
    fc.tuple(fc.integer({ min: 0, max: 1500 }), fc.constantFrom([0xaa, 0xaa, 0x03, 0, 0, 0], [0xaa, 0xaa, 0x03, 0, 0, 0x0c], [0x42, 0x42, 0x03], []), fc.constantFrom(0x0806, 0x0800, 0x1234)).map(([len, llc, t]) =>
      Buffer.from([len >> 8, len & 0xff, ...llc, ...(llc.length === 6 ? [t >> 8, t & 0xff] : [])]),
    ),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(tpid, fc.integer({ min: 0, max: 0xffff })), { maxLength: 12 }), inner, fc.uint8Array({ maxLength: 64 }), fc.nat(200), (tags, tail, body, cut) => {
      const head = Buffer.concat([Buffer.alloc(6, 0xff), Buffer.from([2, 0, 0, 0, 0, 1]), ...tags.map(([t, tci]) => Buffer.from([t >> 8, t & 0xff, tci >> 8, tci & 0xff]))]);
      const whole = Buffer.concat([head, tail, arpBody, Buffer.from(body)]);
      const f = checkFrame(whole, LINKTYPE_ETHERNET);
      assert.equal(f.eth!.tags?.length ?? 0, tags.length);
      if ((tail.length === 2 && tail.readUInt16BE(0) === 0x0806) || (tail.length === 10 && tail.readUIntBE(5, 3) === 0 && tail.readUInt16BE(8) === 0x0806)) assert.equal(f.arp?.senderIp, '198.18.0.20');
      checkFrame(whole.subarray(0, cut), LINKTYPE_ETHERNET);
    }),
    { numRuns: RUNS },
  );
});

test('parsePcap: mutated pcap/pcapng files end in records or a HadiagError, quickly, bounded', () => {
  const outcomes = { ok: 0, error: 0 };
  fc.assert(
    fc.property(fc.nat(fileSeeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
      outcomes[checkPcap(mutate(fileSeeds[i]!, ms))]++;
    }),
    { numRuns: RUNS },
  );
  assert.ok(outcomes.ok > 0 && outcomes.error > 0, `outcomes ${JSON.stringify(outcomes)}: both kinds expected`);
});

test('parsePcap: random bytes behind each magic number', () => {
  const magic = fc.constantFrom([0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d], [0x0a, 0x0d, 0x0d, 0x0a], []);
  fc.assert(
    fc.property(magic, fc.uint8Array({ maxLength: 300 }), (m, rest) => {
      checkPcap(Buffer.concat([Buffer.from(m), Buffer.from(rest)]));
    }),
    { numRuns: RUNS },
  );
});

test('parsePcap: a header announcing a 4 GB record does not allocate it', () => {
  const b = Buffer.concat([pcapHeader(1), Buffer.alloc(16)]);
  b.writeUInt32LE(0xffffffff, 24 + 8);
  const before = process.memoryUsage().arrayBuffers;
  const r = parsePcap(b);
  assert.equal(r.records.length, 0);
  assert.equal(r.truncated, true);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
});
