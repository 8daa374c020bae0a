/** Each real capture in test/fixtures/garp-emitters is classified as what its sender emits (docs/facts/arp-facts.md). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parsePcap } from '../../src/codecs/pcap.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { classifyArp, classifyNd } from '../../src/models/resolution/classify.js';
import { GarpAnalyzer } from '../../src/models/resolution/garp-watch.js';

const FIX = new URL('../fixtures/garp-emitters/', import.meta.url).pathname;
const VIP = '198.18.0.20';

function load(name: string) {
  return parsePcap(readFileSync(FIX + name)).records.map((r) => ({ tsMs: r.tsMs, f: decodeFrame(r.data, r.linktype) }));
}
function labels(name: string, vip?: string) {
  return load(name)
    .filter((x) => x.f.arp && (x.f.arp.senderIp === VIP || x.f.arp.targetIp === VIP))
    .filter((x) => x.f.arp!.senderMac !== '02:00:00:00:00:05' && x.f.arp!.senderMac !== '02:00:c6:12:00:05')
    .map((x) => classifyArp(x.f, { vip })!);
}

test('iputils arping -U: 3 GARP requests, target MAC ff:ff, no problems', () => {
  const l = labels('iputils-U.pcap');
  assert.equal(l.length, 3);
  for (const c of l) assert.deepEqual([c.kind, c.targetMacForm, c.ethDst, c.problems], ['announce-request', 'bcast', 'broadcast', []]);
});

test('iputils arping -A: 3 GARP replies, target MAC own', () => {
  const l = labels('iputils-A.pcap');
  assert.equal(l.length, 3);
  for (const c of l) assert.deepEqual([c.kind, c.targetMacForm, c.label], ['announce-reply', 'own', 'GARP reply (target MAC own MAC)']);
});

test('iputils arping -b -s VIP CLIENT: directed requests to the client (even without --vip)', () => {
  const frames = load('iputils-b.pcap');
  const sent = frames.filter((x) => x.f.arp!.senderIp === VIP).map((x) => classifyArp(x.f)!);
  assert.equal(sent.length, 3);
  for (const c of sent) assert.equal(c.kind, 'directed-request');
  assert.equal(sent[0]!.label, 'directed request to 198.18.0.5');
  const answers = frames.filter((x) => x.f.arp!.senderIp !== VIP).map((x) => classifyArp(x.f)!.kind);
  assert.deepEqual(answers, ['reply', 'reply', 'reply']);
});

test('Habets arping -U / -U -P: padded requests / replies with target MAC ff:ff', () => {
  for (const c of labels('habets-U.pcap')) assert.deepEqual([c.kind, c.targetMacForm], ['announce-request', 'bcast']);
  const p = labels('habets-U-P.pcap');
  assert.equal(p.length, 3);
  for (const c of p) assert.deepEqual([c.kind, c.targetMacForm, c.problems], ['announce-reply', 'bcast', []]);
});

test('send_arp as IPaddr2 calls it: 5 request (00:00) + 5 reply (own) alternating', () => {
  const l = labels('send_arp-IPaddr2.pcap');
  assert.deepEqual(l.map((c) => `${c.kind}/${c.targetMacForm}`), Array.from({ length: 10 }, (_, i) => (i % 2 ? 'announce-reply/own' : 'announce-request/zero')));
});

test('keepalived 2.2.7: 5 + 5 GARP requests (ff:ff), bursts 5 s apart, flagged as a burst inside locktime', () => {
  const frames = load('keepalived-takeover.pcap');
  const a = new GarpAnalyzer({ vip: VIP });
  for (const x of frames) a.add(x.tsMs, x.f);
  const s = a.summary();
  assert.equal(s.takeovers.length, 1);
  assert.equal(s.takeovers[0]!.mac, '02:00:00:00:00:12');
  assert.equal(s.takeovers[0]!.announcements, 10);
  assert.deepEqual(s.takeovers[0]!.forms, { 'GARP request (target MAC ff:ff)': 10 });
  const ann = s.announcers[0]!;
  assert.ok(ann.lastRelMs - ann.firstRelMs > 4900 && ann.lastRelMs - ann.firstRelMs < 5100);
  assert.ok(s.warnings.some((w) => w.code === 'burst-in-locktime'));
  assert.ok(!s.warnings.some((w) => w.code === 'split-brain'));
});

test('ucarp 1.5.2: 2 GARP requests with target MAC own, ~2.8 s apart', () => {
  const l = labels('ucarp-takeover.pcap');
  const ann = l.filter((c) => c.gratuitous);
  assert.equal(ann.length, 2);
  for (const c of ann) assert.deepEqual([c.kind, c.targetMacForm], ['announce-request', 'own']);
});

test('send_ua: 5 unsolicited neighbour advertisements with override', () => {
  const frames = load('send_ua-IPaddr2.pcap');
  assert.equal(frames.length, 5);
  for (const x of frames) {
    const c = classifyNd(x.f)!;
    assert.deepEqual([c.unsolicitedNa, c.override, c.target, c.problems], [true, true, '2001:2::20', []]);
  }
  const a = new GarpAnalyzer();
  assert.equal(a.add(frames[0]!.tsMs, frames[0]!.f)!.label, 'unsolicited NA for 2001:2::20 [O]');
});

test('the real Heartbeat takeover: who announced, when, and what the client did', () => {
  const frames = load('heartbeat-IPaddr-takeover.pcap');
  const a = new GarpAnalyzer({ vip: VIP });
  for (const x of frames) a.add(x.tsMs, x.f);
  const s = a.summary();
  assert.equal(s.takeovers.length, 2);
  const [over, back] = s.takeovers;
  assert.equal(over!.mac, '02:00:c6:12:00:0c');
  assert.equal(over!.relMs, 0);
  assert.equal(over!.announcements, 20);
  assert.deepEqual(over!.forms, { 'GARP request (target MAC 00:00)': 10, 'GARP reply (target MAC own MAC)': 10 });
  assert.equal(back!.mac, '02:00:c6:12:00:0b');
  assert.equal(back!.previousMac, '02:00:c6:12:00:0c');
  assert.ok(Math.abs(back!.relMs - 27287) < 5, String(back!.relMs));
  // the client's view after the takeover: its first frame for the VIP was a unicast probe to the NEW MAC
  // 5.02 s later (delay_first_probe after it had accepted the GARP), never one to an old MAC
  const c = s.clients.find((x) => x.takeoverRelMs === 0)!;
  assert.equal(c.ip, '198.18.0.5');
  assert.equal(c.verdict, 'accepted');
  assert.deepEqual(c.probesToOld, []);
  assert.equal(c.probesToNew.length, 1);
  assert.ok(Math.abs(c.probesToNew[0]! - 5017.5) < 1, String(c.probesToNew[0]));
  assert.match(c.conclusion, /accepted the announcements at \+0\.00 s: its first frame to the VIP after them was a unicast probe to the new MAC at \+5\.02 s/);
  // failback: server1 also asked the client directly (a directed request from the VIP)
  assert.equal(s.byKind['directed-request'], 1);
  assert.equal(s.warnings.filter((w) => w.code === 'split-brain' || w.code === 'malformed' || w.code === 'burst-in-locktime').length, 0, JSON.stringify(s.warnings));
});
