/**
 * garp-check's announcements as the kernel sees them: an unsolicited unicast reply (hadiag's unicast-reply form,
 * also what ARP poisoning looks like) moves the client's entry at once and is an announcement, listed with its
 * form; the reply to the client's own request is resolution. Plus the streaming pieces: the JSON document
 * written element by element equals printJson's, the bounded sequence window and interval histogram.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildArpFrame, buildGarp } from '../../src/codecs/arp.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { encodeEthernet, ETHERTYPE_IPV4 } from '../../src/codecs/ethernet.js';
import { encodeIpv4, IPPROTO_ICMP } from '../../src/codecs/ipv4.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';
import { GarpAnalyzer } from '../../src/models/resolution/garp-watch.js';
import { stockClientVerdicts } from '../../src/models/resolution/host-model.js';
import { JsonArrayDocument } from '../../src/commands/render/json-stream.js';
import { jsonReplacer } from '../../src/commands/output.js';
import { SeqWindow, SEQ_WINDOW, medianOfCounts } from '../../src/models/inspect/seq-window.js';
import { median } from '../../src/core/stats.js';

const VIP = '10.0.0.20';
const OLD = '02:00:00:00:00:11';
const NEW = '02:00:00:00:00:12';
const PC = { ip: '10.0.0.5', mac: '02:00:00:00:00:05' };
const t0 = 1_700_000_000_000;
const ping = (dstMac: string, seq: number) =>
  encodeEthernet({ dst: dstMac, src: PC.mac, ethertype: ETHERTYPE_IPV4 }, encodeIpv4({ src: PC.ip, dst: VIP, proto: IPPROTO_ICMP }, encodeIcmpEcho({ type: 8, id: 1, seq })));
const unicastReply = (mac: string) => buildGarp('unicast-reply', { vip: VIP, mac, targetIp: PC.ip, targetMac: PC.mac });

test('an unsolicited unicast reply that moves the client to a new MAC is an announcement, listed with its form', () => {
  const a = new GarpAnalyzer({ vip: VIP });
  for (let s = 0; s < 10; s++) a.add(t0 + s * 100, decodeFrame(ping(OLD, s)));
  const f = decodeFrame(unicastReply(NEW));
  const r = a.add(t0 + 1000, f, stockClientVerdicts(f)?.withEntry, 'a stock client')!;
  assert.equal(r.kind, 'unsolicited-reply');
  assert.equal(r.gratuitous, true);
  assert.equal(r.label, `unsolicited unicast reply to ${PC.ip}`);
  assert.equal(r.prediction?.accepted, true, 'the stock client takes the new MAC at once');
  assert.equal(r.prediction?.stateAfter, 'REACHABLE');
  for (let s = 10; s < 20; s++) a.add(t0 + s * 100 + 50, decodeFrame(ping(NEW, s)));
  const sum = a.summary();
  assert.equal(sum.takeovers.length, 1);
  assert.equal(sum.takeovers[0]!.mac, NEW);
  assert.deepEqual(sum.announcers.map((x) => [x.ip, x.mac, x.count, x.forms]), [[VIP, NEW, 1, { [`unsolicited unicast reply to ${PC.ip}`]: 1 }]]);
  assert.equal(sum.clients[0]!.oldMac, OLD);
  assert.equal(sum.clients[0]!.verdict, 'accepted');
  assert.doesNotMatch(sum.conclusions.join('\n'), /no announcement/);
  assert.equal(sum.byKind['unsolicited-reply'], 1);
});

test("the reply to the client's own request is resolution, not an announcement", () => {
  const a = new GarpAnalyzer({ vip: VIP });
  a.add(t0, decodeFrame(buildArpFrame({ ethDst: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: PC.mac, senderIp: PC.ip, targetMac: '00:00:00:00:00:00', targetIp: VIP })));
  const r = a.add(t0 + 1, decodeFrame(unicastReply(NEW)))!;
  assert.equal(r.kind, 'reply');
  assert.equal(r.gratuitous, false);
  const sum = a.summary();
  assert.equal(sum.takeovers.length, 0);
  assert.deepEqual(sum.announcers, []);
  assert.deepEqual(sum.conclusions, [`no announcement for ${VIP} seen`]);
  // long after that request, the same reply is unsolicited again
  assert.equal(a.add(t0 + 60_000, decodeFrame(unicastReply(NEW)))!.kind, 'unsolicited-reply');
});

test('a unicast request from the VIP to a client is an announcement with --vip', () => {
  const a = new GarpAnalyzer({ vip: VIP });
  const r = a.add(t0, decodeFrame(buildArpFrame({ ethDst: PC.mac, op: 1, senderMac: NEW, senderIp: VIP, targetMac: '00:00:00:00:00:00', targetIp: PC.ip })))!;
  assert.equal(r.kind, 'vip-unicast-request');
  assert.equal(a.summary().takeovers[0]?.mac, NEW);
});

test('the streamed JSON document is the text printJson prints for the same object', () => {
  const frames = [{ a: 1, b: [1, 2], c: undefined, d: { e: 'x' } }, { a: 2, b: [], d: {} }];
  for (const list of [frames, []]) {
    let text = '';
    const doc = new JsonArrayDocument((t) => (text += t), { file: 'f.pcap', none: undefined, linktype: 1 }, 'frames');
    for (const f of list) doc.item(f);
    doc.end({ truncated: false, summary: { n: list.length, w: [] }, healthy: true });
    const expected = JSON.stringify({ file: 'f.pcap', linktype: 1, frames: list, truncated: false, summary: { n: list.length, w: [] }, healthy: true }, jsonReplacer, 2) + '\n';
    assert.equal(text, expected);
  }
});

test('sequence window: copies are duplicates, gaps counted, memory bounded on a long run', () => {
  const w = new SeqWindow();
  assert.equal(w.note(1, 'status'), true);
  assert.equal(w.note(1, 'status'), false);
  assert.equal(w.note(1, 'ack'), true, 'same seq, another type: not a copy');
  w.note(4, 'status');
  assert.equal(w.gaps(), 2);
  const long = new SeqWindow();
  for (let s = 0; s < 100_000; s++) if (s % 10 !== 3) long.note(s, 'status');
  assert.equal(long.gaps(), 10_000);
  assert.ok((long as unknown as { recent: Map<number, unknown> }).recent.size <= 2 * SEQ_WINDOW + 1);
});

test('median from a histogram equals the median of the list', () => {
  for (const xs of [[1000], [1000, 1002], [999.5, 1000, 1000, 1003, 1200], [3, 1, 2, 2]]) {
    const counts = new Map<number, number>();
    for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
    assert.equal(medianOfCounts(counts), median(xs));
  }
  assert.equal(medianOfCounts(new Map()), undefined);
});
