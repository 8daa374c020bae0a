/**
 * The client book of (client, VIP) pairs: learned from a client's ARP request for a VIP and its traffic to one;
 * a takeover plans, once for all VIPs of the group, each client for its own VIPs only (every VIP for a client
 * known without one); the peer book carries the pairs, packed by bytes (each message one datagram), and a book
 * of the older format still means every VIP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientBook, packPeerBook, parsePeerBook, PEER_BOOK_BYTES, type PairedClient } from '../../src/models/strategy/client-book.js';
import { buildArpFrame } from '../../src/codecs/arp.js';
import { encodeEthernet, ETHERTYPE_IPV4 } from '../../src/codecs/ethernet.js';
import { encodeIpv4 } from '../../src/codecs/ipv4.js';
import { encodeIcmpEcho } from '../../src/codecs/icmp.js';
import { getField } from '../../src/codecs/heartbeat/message.js';
import { encodeMessage } from '../../src/codecs/heartbeat/codec.js';
import { CLIENTS_TYPE } from '../../src/models/node/machine.js';
import { Sim, baseConfig } from './node-sim.js';
import { parseStrategy, planAnnouncements } from '../../src/models/strategy/language.js';

const VIPS = ['198.18.0.20', '198.18.0.21', '198.18.0.22'];
const mac = (i: number) => `02:48:46:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const arpFor = (ip: string, m: string, vip: string) => buildArpFrame({ ethDst: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: m, senderIp: ip, targetMac: '00:00:00:00:00:00', targetIp: vip });
const pingTo = (ip: string, m: string, vip: string) => encodeEthernet({ dst: '02:00:00:00:00:11', src: m, ethertype: ETHERTYPE_IPV4 }, encodeIpv4({ src: ip, dst: vip, proto: 1 }, encodeIcmpEcho({ type: 8, id: 1, seq: 1 })));

test('the book learns (client, VIP) pairs; a takeover addresses each client for its own VIPs, a client without one for every VIP', () => {
  const book = new ClientBook({ vips: VIPS });
  book.learnFrame(arpFor('198.18.1.1', mac(1), VIPS[0]!), 100); // resolving VIP 0
  book.learnFrame(pingTo('198.18.1.2', mac(2), VIPS[1]!), 200); // talking to VIP 1
  book.learnFrame(pingTo('198.18.1.3', mac(3), VIPS[1]!), 300);
  book.learnFrame(arpFor('198.18.1.3', mac(3), VIPS[0]!), 400); // and resolving VIP 0 too
  book.learnNeigh([{ dst: '198.18.1.9', lladdr: mac(9), dev: 'eth0', state: ['REACHABLE'] }], 50); // no VIP known
  const plan = book.pairsFor(VIPS);
  const ips = (v: string) => plan.get(v)!.map((c) => c.ip);
  assert.deepEqual(ips(VIPS[0]!), ['198.18.1.3', '198.18.1.1', '198.18.1.9'], 'VIP 0: its two clients (most recent first), then the one without a VIP');
  assert.deepEqual(ips(VIPS[1]!), ['198.18.1.3', '198.18.1.2', '198.18.1.9']);
  assert.deepEqual(ips(VIPS[2]!), ['198.18.1.3', '198.18.1.2', '198.18.1.1', '198.18.1.9'], 'a VIP nobody was seen using goes to every client');
  assert.equal(plan.get(VIPS[0]!)![0]!.mac, mac(3));
  // the peer book form: each learned client with its VIPs (none for the neighbour-table one)
  const paired = new Map(book.paired().map((c) => [c.ip, c.vips]));
  assert.deepEqual(paired.get('198.18.1.3')?.sort(), [VIPS[0], VIPS[1]]);
  assert.equal(paired.get('198.18.1.9'), undefined);
});

test('500 clients × 64 VIPs: one (client, VIP) pair each, 500 frames per round instead of 32 000; planned in well under a second', () => {
  const vips = Array.from({ length: 64 }, (_, i) => `198.18.0.${20 + i}`);
  const book = new ClientBook({ vips });
  for (let i = 0; i < 500; i++) book.learnFrame(pingTo(`198.18.${2 + (i >> 7)}.${i & 0x7f}`, mac(i), vips[i % 64]!), i);
  const t0 = performance.now();
  const plan = book.pairsFor(vips);
  const ms = performance.now() - t0;
  const pairs = [...plan.values()].reduce((n, l) => n + l.length, 0);
  assert.equal(pairs, 500);
  assert.ok([...plan.values()].every((l) => l.length >= 7 && l.length <= 8));
  assert.equal(plan.get(vips[0]!)![0]!.ip, '198.18.5.64', 'most recently seen first (client 448)');
  assert.ok(ms < 500, `${ms.toFixed(1)} ms`);
});

test('peer book: pairs packed by bytes (IPv6 clients too), each message one datagram ≤ 1 400 B; the peer learns every pair', () => {
  const vips = Array.from({ length: 64 }, (_, i) => `198.18.0.${20 + i}`);
  const v6 = Array.from({ length: 8 }, (_, i) => `2001:db8::${(0x20 + i).toString(16)}`);
  const book: PairedClient[] = [
    ...Array.from({ length: 400 }, (_, i) => ({ ip: `198.18.${1 + (i >> 8)}.${i & 0xff}`, mac: mac(i), vips: [vips[i % 64]!] })),
    ...Array.from({ length: 100 }, (_, i) => ({ ip: `2001:db8::1:${i.toString(16)}`, mac: mac(1000 + i), vips: [v6[i % 8]!] })),
    { ip: '198.18.9.9', mac: mac(999) }, // known without a VIP
  ];
  const parts = packPeerBook(book);
  assert.ok(parts.every((p) => p.clients.length + (p.vips?.length ?? 0) + (p.pairs?.length ?? 0) + 3 <= PEER_BOOK_BYTES + 3));
  const back = parts.flatMap((p) => parsePeerBook(p.clients, p.vips, p.pairs).clients);
  assert.deepEqual(back, book);
  // through the machine: the real message size, and the peer's action carries the pairs
  const sim = new Sim(baseConfig());
  sim.add('server1');
  sim.runFor(12_000);
  sim.add('server2');
  sim.runFor(5_000);
  sim.feed(sim.node('server1'), { type: 'clients', clients: book });
  sim.runFor(100);
  const msgs = sim.wire.filter((w) => w.from === 'server1' && getField(w.msg, 't') === CLIENTS_TYPE);
  assert.ok(msgs.length >= 15, `${msgs.length} messages`);
  const sizes = msgs.map((m) => encodeMessage(m.msg, { index: 1, method: 'sha1', key: 'k' }).length);
  assert.ok(Math.max(...sizes) <= 1400, `largest message ${Math.max(...sizes)} B`);
  const got = sim.node('server2').peerClients.flatMap((p) => p.clients as PairedClient[]);
  assert.equal(got.length, 501);
  assert.deepEqual(got.find((c) => c.ip === '2001:db8::1:5')?.vips, [v6[5]]);
  assert.equal(got.find((c) => c.ip === '198.18.9.9')?.vips, undefined);
});

test('peer book of the older format (clients only) means every VIP; a bad VIP index is counted, the client kept', () => {
  const old = parsePeerBook('198.18.1.1@02:48:46:00:00:01 198.18.1.2');
  assert.equal(old.bad, 0);
  assert.deepEqual(old.clients, [{ ip: '198.18.1.1', mac: '02:48:46:00:00:01' }, { ip: '198.18.1.2' }]);
  const bad = parsePeerBook('198.18.1.1 junk 198.18.1.2', '198.18.0.20', '0 * 7');
  assert.equal(bad.bad, 2);
  assert.deepEqual(bad.clients, [{ ip: '198.18.1.1', vips: ['198.18.0.20'] }, { ip: '198.18.1.2' }]);
  const book = new ClientBook({ vips: ['198.18.0.20', '198.18.0.21'] });
  for (const c of old.clients) book.add(c.ip, c.mac, 'peer', 1);
  assert.equal(book.pairsFor(['198.18.0.20', '198.18.0.21']).get('198.18.0.21')!.length, 2);
});

test('directed by default: one broadcast a round (every host with an entry moves), the other clients each to its MAC; eth=bcast all broadcast', () => {
  const clients = [{ ip: '198.18.1.1', mac: mac(1) }, { ip: '198.18.1.2', mac: mac(2) }, { ip: '198.18.1.3' }];
  const dst = (spec: string) => planAnnouncements(parseStrategy(spec), { vip: VIPS[0]!, mac: '02:00:00:00:00:12', clients }).map((p) => p.frame.subarray(0, 6).toString('hex'));
  assert.deepEqual(dst('directed:count=1'), ['ffffffffffff', '024846000002', 'ffffffffffff'], 'no MAC known for the third: broadcast');
  assert.deepEqual(dst('directed:count=1,eth=bcast'), ['ffffffffffff', 'ffffffffffff', 'ffffffffffff']);
  assert.deepEqual(dst('directed:count=1,eth=unicast'), ['024846000001', '024846000002', 'ffffffffffff']);
});
