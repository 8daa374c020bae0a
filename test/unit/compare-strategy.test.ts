/** compare-garp's strategy forms (answer-probes, vmac, arping, send_arp), client learning and probe answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseStrategy, planAnnouncements } from '../../src/models/strategy/language.js';
import { HadiagError } from '../../src/core/errors.js';
import { parsePcap } from '../../src/codecs/pcap.js';
import { buildArpFrame } from '../../src/codecs/arp.js';
import { encodeEthernet } from '../../src/codecs/ethernet.js';
import { arpingMode, isExternal, needsClients, vmacOf, DEFAULT_VMAC } from '../../src/models/strategy/forms.js';
import { externalArgv } from '../../src/effects/announce/external.js';
import { checkNodeStrategy } from '../../src/models/strategy/node-check.js';
import { ClientBook, decodeClientList, encodeClientList, parseProcNetArp } from '../../src/models/strategy/client-book.js';
import { answerFor } from '../../src/models/strategy/probe-answer.js';

const VIP = '198.18.0.20';
const MAC = '02:00:00:00:00:12';
const ctx = { vip: VIP, mac: MAC };
const fixture = (name: string) => parsePcap(readFileSync(new URL(`../fixtures/garp-emitters/${name}`, import.meta.url))).records.map((r) => r.data);

function usage(spec: string, re: RegExp) {
  assert.throws(
    () => parseStrategy(spec, '--strategy'),
    (e: unknown) => e instanceof HadiagError && e.exitCode === 2 && re.test(e.message) && e.message.includes(`"${spec}"`),
    spec,
  );
}

test('arping and arping:A plan exactly the frames iputils arping -U / -A put on the wire', () => {
  const u = planAnnouncements(parseStrategy('arping'), ctx);
  assert.equal(u.length, 3);
  for (const [i, p] of u.entries()) assert.deepEqual(p.frame, fixture('iputils-U.pcap')[i]);
  assert.deepEqual(u.map((p) => p.offsetMs), [0, 1000, 2000]);
  const a = planAnnouncements(parseStrategy('arping:A'), ctx);
  for (const [i, p] of a.entries()) assert.deepEqual(p.frame, fixture('iputils-A.pcap')[i]);
  assert.equal(arpingMode(parseStrategy('arping:A')), 'A');
});

test('send_arp plans the request (00:00) + reply (own) pairs of the IPaddr2 capture, byte for byte', () => {
  const plan = planAnnouncements(parseStrategy('send_arp:count=5,interval=200ms'), ctx);
  const real = fixture('send_arp-IPaddr2.pcap');
  assert.equal(plan.length, 10);
  plan.forEach((p, i) => assert.deepEqual(p.frame, real[i], `frame ${i}`));
});

test('external senders: command lines as the programs take them', () => {
  const s = parseStrategy('send_arp:count=5,interval=200ms');
  assert.deepEqual(externalArgv(s, '/usr/libexec/heartbeat/send_arp', 'eth0', VIP, 5), ['/usr/libexec/heartbeat/send_arp', '-i', '200', '-r', '5', 'eth0', VIP, 'auto', 'not_used', 'not_used']);
  const a = parseStrategy('arping:A,count=2,interval=2s');
  assert.deepEqual(externalArgv(a, 'arping', 'eth0', VIP, 2), ['arping', '-A', '-q', '-c', '2', '-i', '2', '-I', 'eth0', VIP]);
  assert.throws(() => checkNodeStrategy(parseStrategy('arping:interval=500ms')), /whole seconds/);
  assert.ok(isExternal(a) && !isExternal(parseStrategy('directed')));
});

test('answer-probes and vmac: frames and their arguments', () => {
  const ap = planAnnouncements(parseStrategy('answer-probes:count=1'), ctx);
  assert.equal(ap.length, 2);
  assert.equal(ap[0]!.frame.readUInt16BE(20), 1);
  assert.equal(ap[1]!.frame.readUInt16BE(20), 2);
  const v = parseStrategy('vmac:00:00:5E:00:01:14');
  assert.equal(vmacOf(v), '00:00:5e:00:01:14');
  assert.equal(vmacOf(parseStrategy('vmac')), DEFAULT_VMAC);
  const vf = planAnnouncements(v, { vip: VIP, mac: vmacOf(v) })[0]!.frame;
  assert.equal(vf.subarray(6, 12).toString('hex'), '00005e000114');
  assert.equal(vf.subarray(32, 38).toString('hex'), 'ffffffffffff');
});

test('strategy errors name the bad part and the fix', () => {
  usage('arping:X', /arping mode "X" is not U or A/);
  usage('vmac:01:00:5e:00:00:01', /multicast MAC/);
  usage('vmac:zz', /"zz" is not a MAC address/);
  usage('answer-probes:198.18.0.5', /takes no argument|not OPTION=VALUE/);
  usage('send_arp:target=bcast', /has no target option/);
  usage('answer-prob', /unknown form "answer-prob"/);
  usage('directed:refresh=50ms', /below 100ms/);
  usage('unicast-reply:198.18.0.5@zz', /not a MAC address/);
  assert.throws(() => checkNodeStrategy(parseStrategy('arping:vlan=5')), /cannot tag frames/);
  assert.throws(() => checkNodeStrategy(parseStrategy('send_arp:count=2+2@5s')), /sends one burst/);
  assert.ok(needsClients(parseStrategy('directed')));
  assert.ok(!needsClients(parseStrategy('directed:198.18.0.5')));
});

test('refresh= and burst=N@T plan repetitions', () => {
  const s = parseStrategy('directed:198.18.0.5,count=1,refresh=2s');
  assert.deepEqual(planAnnouncements(s, { ...ctx, untilMs: 5000 }).map((p) => p.offsetMs), [0, 2000, 4000]);
  const b = parseStrategy('request:burst=2+2@3s');
  assert.deepEqual(planAnnouncements(b, ctx).map((p) => p.offsetMs), [0, 0, 3000, 3000]);
});

function arp(op: number, ethDst: string, senderMac: string, senderIp: string, targetMac: string, targetIp: string): Buffer {
  return buildArpFrame({ ethDst, op, senderMac, senderIp, targetMac, targetIp });
}

test('ClientBook learns askers, IP users and the neighbour table; never the VIP, itself or announcements', () => {
  const book = new ClientBook({ vips: [VIP], ownMacs: [MAC], ownIps: ['198.18.0.12'] });
  const c5 = '02:00:00:00:00:05';
  assert.equal(book.learnFrame(arp(1, 'ff:ff:ff:ff:ff:ff', c5, '198.18.0.5', '00:00:00:00:00:00', VIP), 1)?.source, 'arp-request');
  book.learnFrame(arp(1, 'ff:ff:ff:ff:ff:ff', '02:00:00:00:00:0b', VIP, '00:00:00:00:00:00', VIP), 2); // a GARP
  book.learnFrame(arp(1, 'ff:ff:ff:ff:ff:ff', MAC, '198.18.0.12', '00:00:00:00:00:00', '198.18.0.5'), 3); // our own request
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 1;
  ip.writeUInt16BE(20, 2);
  Buffer.from([198, 18, 0, 6]).copy(ip, 12);
  Buffer.from([198, 18, 0, 20]).copy(ip, 16);
  book.learnFrame(encodeEthernet({ dst: '02:00:00:00:00:0b', src: '02:00:00:00:00:06', ethertype: 0x0800 }, ip), 4);
  assert.equal(book.learnNeigh([{ dst: '198.18.0.7', dev: 'eth0', lladdr: '02:00:00:00:00:07', state: ['STALE'] }, { dst: '198.18.0.8', dev: 'eth0', state: ['FAILED'] }, { dst: 'fe80::1', lladdr: '02:00:00:00:00:09' }], 5), 1);
  assert.deepEqual(book.list, [
    { ip: '198.18.0.5', mac: c5 },
    { ip: '198.18.0.6', mac: '02:00:00:00:00:06' },
    { ip: '198.18.0.7', mac: '02:00:00:00:00:07' },
  ]);
  assert.deepEqual(book.clients().map((c) => c.source), ['arp-request', 'ip-to-vip', 'neigh']);
  // the live list is what directed plans from
  const plan = planAnnouncements(parseStrategy('directed:count=1'), { ...ctx, clients: book.list });
  assert.deepEqual(plan.map((p) => p.frame.subarray(38, 42).join('.')), ['198.18.0.5', '198.18.0.6', '198.18.0.7']);
  assert.deepEqual(decodeClientList(encodeClientList(book.list)), book.list);
  assert.deepEqual(decodeClientList('junk;1.2.3.4@zz;198.18.0.9'), [{ ip: '1.2.3.4' }, { ip: '198.18.0.9' }]);
});

test('answer-probes answers only requests for a held VIP sent to a foreign unicast MAC', () => {
  const held = new Map([[VIP, MAC]]);
  const dead = '02:00:00:00:00:0b';
  const c = '02:00:00:00:00:05';
  const probe = arp(1, dead, c, '198.18.0.5', '00:00:00:00:00:00', VIP);
  const a = answerFor(probe, held)!;
  assert.deepEqual(a.seen, { vip: VIP, clientIp: '198.18.0.5', clientMac: c, deadMac: dead });
  assert.deepEqual(a.reply, arp(2, c, MAC, VIP, c, '198.18.0.5'));
  assert.equal(answerFor(arp(1, 'ff:ff:ff:ff:ff:ff', c, '198.18.0.5', '00:00:00:00:00:00', VIP), held), undefined, 'broadcast: the kernel answers');
  assert.equal(answerFor(arp(1, MAC, c, '198.18.0.5', '00:00:00:00:00:00', VIP), held), undefined, 'to us: the kernel answers');
  assert.equal(answerFor(arp(1, dead, c, '198.18.0.5', '00:00:00:00:00:00', '198.18.0.99'), held), undefined, 'not a VIP');
  assert.equal(answerFor(arp(2, dead, c, '198.18.0.5', '00:00:00:00:00:00', VIP), held), undefined, 'a reply');
  assert.equal(answerFor(Buffer.from('garbage'), held), undefined);
  assert.equal(answerFor(probe, new Map()), undefined, 'VIP not held');
});

test('parseProcNetArp reads the kernel neighbour table file; unresolved entries are marked INCOMPLETE', () => {
  const text = [
    'IP address       HW type     Flags       HW address            Mask     Device',
    '198.18.0.5       0x1         0x2         02:48:44:00:00:05     *        hdab-eth0',
    '198.18.0.9       0x1         0x0         00:00:00:00:00:00     *        hdab-eth0',
    '',
  ].join('\n');
  const rows = parseProcNetArp(text);
  assert.deepEqual(rows, [
    { dst: '198.18.0.5', dev: 'hdab-eth0', lladdr: '02:48:44:00:00:05', state: ['REACHABLE'] },
    { dst: '198.18.0.9', dev: 'hdab-eth0', lladdr: '00:00:00:00:00:00', state: ['INCOMPLETE'] },
  ]);
  const book = new ClientBook({ vips: [VIP], ownMacs: [MAC] });
  assert.equal(book.learnNeigh(rows, 1, ['hdab-eth0']), 1);
  assert.deepEqual(book.list, [{ ip: '198.18.0.5', mac: '02:48:44:00:00:05' }]);
});
