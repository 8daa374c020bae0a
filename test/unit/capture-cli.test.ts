/**
 * Captures from anywhere through the CLI (`main()` of src/cli/main.ts, in process): what garp-check,
 * measure-failover and hb-inspect print for a QinQ/LLC-SNAP capture and for files they must refuse (one line
 * on stderr, exit 2, nothing on stdout claiming "healthy").
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { pcapHeader, pcapRecord } from '../../src/codecs/pcap.js';
import { encodeArp } from '../../src/codecs/arp.js';
import { encodeEthernet, encodeSnapFrame, ETHERTYPE_ARP, ETHERTYPE_QINQ, ETHERTYPE_VLAN } from '../../src/codecs/ethernet.js';
import { encodeIpv4, IPPROTO_ICMP } from '../../src/codecs/ipv4.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hadiag-capture-cli-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const VIP = '198.18.0.20';
const T0 = 1_764_067_137_000;

function file(name: string, bytes: Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

/** Run the CLI in process; what it wrote to stdout and stderr, and its exit code. */
async function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const { stdout, stderr } = process;
  const writeOut = stdout.write;
  const writeErr = stderr.write;
  // the test runner reports through stdout in binary chunks: pass those on, keep the command's text
  const keep = (into: string[], write: typeof stdout.write, stream: NodeJS.WriteStream) =>
    ((c: unknown, ...rest: unknown[]) => (typeof c === 'string' ? (into.push(c), true) : (write as (...a: unknown[]) => boolean).call(stream, c, ...rest))) as typeof stdout.write;
  stdout.write = keep(out, writeOut, stdout);
  stderr.write = keep(err, writeErr, stderr);
  process.exitCode = undefined;
  try {
    await main(args);
  } finally {
    stdout.write = writeOut;
    stderr.write = writeErr;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out: out.join(''), err: err.join(''), code };
}

function refused(r: { out: string; err: string; code: number }, re: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code}; stdout: ${r.out}; stderr: ${r.err}`);
  assert.equal(r.out, '', 'nothing on stdout');
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0]!, re);
}

test('garp-check --read: ARP behind QinQ tags shows every tag; ARP in an 802.3 LLC/SNAP frame is decoded', async () => {
  const announce = encodeArp({ op: 1, senderMac: '02:00:00:00:00:0b', senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: VIP });
  const qinq = encodeEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:0b', ethertype: ETHERTYPE_ARP, tags: [{ tpid: ETHERTYPE_QINQ, id: 100 }, { tpid: ETHERTYPE_VLAN, id: 20 }] }, announce);
  const snap = encodeSnapFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:0c', ethertype: ETHERTYPE_ARP }, encodeArp({ op: 1, senderMac: '02:00:00:00:00:0c', senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: VIP }));
  const p = file('qinq-snap.pcap', Buffer.concat([pcapHeader(1), pcapRecord(T0, qinq), pcapRecord(T0 + 1500, snap)]));
  const r = await run(['garp-check', '--read', p, '--vip', VIP]);
  const lines = r.out.split('\n');
  assert.match(lines[0]!, /02:00:00:00:00:0b → ff:ff:ff:ff:ff:ff vlans 100,20  request 02:00:00:00:00:0b 198\.18\.0\.20/);
  assert.ok(lines.some((l) => /02:00:00:00:00:0c → ff:ff:ff:ff:ff:ff  request 02:00:00:00:00:0c 198\.18\.0\.20/.test(l)), r.out);
  assert.match(r.out, /2 frame\(s\), 2 ARP, 2 reported/);
});

test('compressed, empty and cut-short captures: one line, exit 2, in every --read command', async () => {
  const zst = file('client.pcap.zst', Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(80, 7)]));
  const ten = file('ten.pcapng', Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c]));
  const empty = file('empty.pcap', Buffer.alloc(0));
  const commands = [['garp-check'], ['measure-failover', '--vip', VIP], ['hb-inspect']];
  for (const c of commands) {
    refused(await run([...c, '--read', zst]), new RegExp(`^hadiag: not a pcap file \\(it is zstd-compressed\\): ${zst} — decompress it first: unzstd ${zst}, then read the file it leaves$`));
    refused(await run([...c, '--read', ten]), /^hadiag: too short to be a capture \(its pcapng section header is cut short after 10 bytes\): .*ten\.pcapng — /);
    refused(await run([...c, '--read', empty]), /^hadiag: too short to be a capture \(the file is empty\): .*empty\.pcap — /);
  }
});

/** pcapng (little endian): SHB, an Ethernet IDB, and Simple Packet Blocks only (no timestamps). */
function spbOnly(frames: Buffer[]): Buffer {
  const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const block = (type: number, body: Buffer) => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    return Buffer.concat([u32(type), u32(12 + padded.length), padded, u32(12 + padded.length)]);
  };
  return Buffer.concat([
    block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)])),
    block(1, Buffer.concat([u16(1), u16(0), u32(262144)])),
    ...frames.map((f) => block(3, Buffer.concat([u32(f.length), f]))),
  ]);
}

test('link types a command cannot use, and captures whose packets carry no timestamp: one line, exit 2', async () => {
  const echo = encodeIpv4({ src: '198.18.0.5', dst: VIP, proto: IPPROTO_ICMP }, encodeIcmpEcho({ type: 8, id: 1, seq: 1 }));
  const raw = file('raw.pcap', Buffer.concat([pcapHeader(101), pcapRecord(T0, echo)]));
  refused(await run(['garp-check', '--read', raw]), new RegExp(`^hadiag: link type 101 \\(RAW\\) has no link layer, so no ARP: ${raw} — capture on the Ethernet interface, e.g. tcpdump -i eth0 -w FILE$`));
  const arcnet = file('arcnet.pcap', Buffer.concat([pcapHeader(7), pcapRecord(T0, echo)]));
  const unknown = file('unknown.pcap', Buffer.concat([pcapHeader(4242), pcapRecord(T0, echo)]));
  const garp = encodeEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:0b', ethertype: ETHERTYPE_ARP }, encodeArp({ op: 1, senderMac: '02:00:00:00:00:0b', senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: VIP }));
  const untimed = file('spb.pcapng', spbOnly([garp, garp]));
  for (const c of [['garp-check'], ['measure-failover', '--vip', VIP], ['hb-inspect']]) {
    refused(await run([...c, '--read', arcnet]), /^hadiag: link type 7 \(ARCNET_BSD\) is not supported \(hadiag reads Ethernet, Linux cooked and raw IP captures\): .*arcnet\.pcap — capture on the Ethernet interface/);
    refused(await run([...c, '--read', unknown]), /^hadiag: link type 4242 is not supported/);
    refused(await run([...c, '--read', untimed]), /^hadiag: no packet has a timestamp \(2 pcapng simple packet block\(s\)\), and .*spb\.pcapng — capture again with tcpdump -w FILE/);
  }
});

test('measure-failover --read on a raw IP capture: ICMP still timed, and the note says what it cannot see', async () => {
  const records: Buffer[] = [pcapHeader(101)];
  for (let seq = 1; seq <= 200; seq++) {
    const t = T0 + seq * 10;
    records.push(pcapRecord(t, encodeIpv4({ src: '198.18.0.5', dst: VIP, proto: IPPROTO_ICMP }, encodeIcmpEcho({ type: 8, id: 77, seq }))));
    if (seq < 50 || seq >= 150) records.push(pcapRecord(t + 0.4, encodeIpv4({ src: VIP, dst: '198.18.0.5', proto: IPPROTO_ICMP }, encodeIcmpEcho({ type: 0, id: 77, seq }))));
  }
  const p = file('raw-pings.pcap', Buffer.concat(records));
  const r = await run(['measure-failover', '--vip', VIP, '--read', p]);
  assert.equal(r.err, '');
  assert.match(r.out, /200 probes every 10(\.0+)? ms, 100 unanswered, 1 outage\(s\)/);
  assert.match(r.out, /note: raw IP capture: no link layer, so no MAC addresses and no ARP/);
});
