/**
 * The strategy language for an IPv6 VIP: the frames of every form byte for byte and field by field against
 * RFC 4861 (unsolicited NA 7.2.6: to ff02::1, override set, solicited clear, router flag only when this host
 * forwards, target link-layer option, hop limit 255), the NS / NA forms per client, the answers to NSs sent to
 * the dead MAC, the family errors, and the ICMPv6 checksums as tcpdump decodes a pcap of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { parseStrategy, planAnnouncements, announcementLanguage } from '../../src/models/strategy/language.js';
import { answerFor } from '../../src/models/strategy/probe-answer.js';
import { decodeFrame, type Frame } from '../../src/codecs/decode.js';
import { buildNa, buildNs, icmpv6ChecksumOk, ipv6MulticastMac, solicitedNode } from '../../src/codecs/nd.js';
import { decodeIpv6 } from '../../src/codecs/ipv6.js';
import { HadiagError } from '../../src/core/errors.js';
import { pcapHeader, pcapRecord } from '../../src/codecs/pcap.js';

const VIP = '2001:db8::20';
const MAC = '02:48:44:00:00:12';
const C5 = { ip: '2001:db8::5', mac: '02:48:44:00:00:05' };
const C6 = { ip: '2001:db8::6' };
const ctx = { vip: VIP, mac: MAC, clients: [C5, C6] };
const plan = (spec: string, extra: Partial<typeof ctx & { router: boolean; untilMs: number }> = {}) => planAnnouncements(parseStrategy(spec), { ...ctx, ...extra });

/** The ICMPv6 checksum of a whole frame is right (over the pseudo-header of its own addresses). */
function checksumOk(frame: Buffer): boolean {
  const ip = decodeIpv6(frame, 14);
  assert.ok(ip.ok);
  return icmpv6ChecksumOk(ip.ip6.src, ip.ip6.dst, ip.payload);
}

/** RFC 4861 7.2.6: what every unsolicited NA must be. */
function assertUnsolicitedNa(f: Frame, o: { router: boolean; mac?: string }): void {
  assert.equal(f.eth?.dst, '33:33:00:00:00:01');
  assert.equal(f.eth?.src, o.mac ?? MAC);
  assert.equal(f.ipv6?.src, VIP, 'from the VIP (as the kernel sends its own)');
  assert.equal(f.ipv6?.dst, 'ff02::1');
  assert.equal(f.ipv6?.hopLimit, 255);
  assert.equal(f.nd?.kind, 'na');
  assert.equal(f.nd?.target, VIP);
  assert.equal(f.nd?.solicited, false, 'solicited flag clear');
  assert.equal(f.nd?.override, true, 'override flag set');
  assert.equal(f.nd?.router, o.router);
  assert.equal(f.nd?.targetLinkAddr, o.mac ?? MAC, 'target link-layer option');
  assert.equal(f.nd?.sourceLinkAddr, undefined);
}

test('na: one unsolicited NA byte for byte (checked once with tcpdump 4.99.3: "[icmp6 sum ok]", Flags [override], destination link-address option)', () => {
  const p = plan('na:count=1');
  assert.equal(p.length, 1);
  const expected =
    '333300000001' + '024844000012' + '86dd' + // Ethernet: all-nodes MAC, our MAC, IPv6
    '60000000' + '0020' + '3a' + 'ff' + // version 6, payload 32, ICMPv6, hop limit 255
    '20010db8000000000000000000000020' + 'ff020000000000000000000000000001' + // VIP → ff02::1
    '88' + '00' + 'b493' + '20000000' + // NA, code 0, checksum, flags O (R S clear)
    '20010db8000000000000000000000020' + // target = VIP
    '02' + '01' + '024844000012'; // target link-layer option, 8 bytes, our MAC
  assert.equal(p[0]!.frame.toString('hex'), expected);
  assert.ok(checksumOk(p[0]!.frame));
  assert.equal(p[0]!.label, 'unsolicited NA to ff02::1 (O, target LL) 1/1');
});

test('na and answer-probes rounds are RFC 4861 unsolicited NAs; the router flag only when this host forwards (or router=on)', () => {
  for (const spec of ['na', 'answer-probes', 'na:count=3,interval=1s']) {
    const p = plan(spec);
    assert.equal(p.length, 3, spec);
    assert.deepEqual(p.map((x) => x.offsetMs), [0, 1000, 2000], spec);
    for (const x of p) {
      assertUnsolicitedNa(decodeFrame(x.frame), { router: false });
      assert.ok(checksumOk(x.frame));
    }
    for (const x of plan(spec, { router: true })) assertUnsolicitedNa(decodeFrame(x.frame), { router: true });
  }
  assertUnsolicitedNa(decodeFrame(plan('na:router=on')[0]!.frame), { router: true });
  assertUnsolicitedNa(decodeFrame(plan('na:router=off', { router: true })[0]!.frame), { router: false });
  // vmac: from and for the virtual MAC
  const vm = planAnnouncements(parseStrategy('vmac:count=1'), { ...ctx, mac: '00:00:5e:00:02:01' });
  assertUnsolicitedNa(decodeFrame(vm[0]!.frame), { router: false, mac: '00:00:5e:00:02:01' });
});

test("na's broken variants put exactly the named fault on the wire (for measuring clients, never a fix)", () => {
  const noO = decodeFrame(plan('na:count=1,override=off')[0]!.frame);
  assert.equal(noO.nd?.override, false);
  assert.equal(noO.nd?.targetLinkAddr, MAC);
  const sll = decodeFrame(plan('na:count=1,lladdr=source')[0]!.frame);
  assert.equal(sll.nd?.targetLinkAddr, undefined);
  assert.equal(sll.nd?.sourceLinkAddr, MAC);
  const none = plan('na:count=1,lladdr=none')[0]!;
  assert.equal(none.frame.length, 14 + 40 + 24);
  assert.equal(decodeFrame(none.frame).nd?.targetLinkAddr, undefined);
  assert.ok(checksumOk(none.frame));
  assert.match(none.label, /no LL option/);
});

test('directed for IPv6: an NS from the VIP with our MAC to each client, unicast when its MAC is known, else to its solicited-node group; via=na sends an unsolicited NA instead', () => {
  const p = plan('directed:count=1');
  assert.equal(p.length, 2);
  const [a, b] = p.map((x) => decodeFrame(x.frame));
  assert.equal(a!.nd?.kind, 'ns');
  assert.equal(a!.eth?.dst, C5.mac);
  assert.equal(a!.ipv6?.dst, C5.ip);
  assert.equal(a!.ipv6?.src, VIP);
  assert.equal(a!.ipv6?.hopLimit, 255);
  assert.equal(a!.nd?.target, C5.ip, "asks for the client's own address: the client learns the sender");
  assert.equal(a!.nd?.sourceLinkAddr, MAC);
  assert.equal(b!.ipv6?.dst, 'ff02::1:ff00:6');
  assert.equal(b!.eth?.dst, '33:33:ff:00:00:06');
  for (const x of p) assert.ok(checksumOk(x.frame));
  assert.deepEqual(p.map((x) => x.label), ['NS from the VIP to 2001:db8::5 (02:48:44:00:00:05) 1/1', 'NS from the VIP to 2001:db8::6 via ff02::1:ff00:6 1/1']);

  const na = plan('directed:count=1,via=na').map((x) => decodeFrame(x.frame));
  assert.equal(na[0]!.nd?.kind, 'na');
  assert.equal(na[0]!.eth?.dst, C5.mac);
  assert.equal(na[0]!.ipv6?.dst, C5.ip);
  assert.equal(na[0]!.nd?.solicited, false);
  assert.equal(na[0]!.nd?.override, true);
  assert.equal(na[0]!.nd?.targetLinkAddr, MAC);
  // a client named in the spec, with its MAC
  const one = plan('directed:2001:db8::7@02:48:44:00:00:07,count=1');
  assert.equal(one.length, 1);
  assert.equal(decodeFrame(one[0]!.frame).eth?.dst, '02:48:44:00:00:07');
  // the client book's IPv4 clients are not addressed for an IPv6 VIP
  assert.equal(planAnnouncements(parseStrategy('directed:count=1'), { ...ctx, clients: [...ctx.clients, { ip: '198.18.0.5', mac: '02:48:44:00:00:05' }] }).length, 2);
});

test("unicast-reply for IPv6: an NA with solicited and override set to the client's MAC and address", () => {
  const p = plan('unicast-reply:2001:db8::5@02:48:44:00:00:05,count=2,interval=500ms');
  assert.deepEqual(p.map((x) => x.offsetMs), [0, 500]);
  const f = decodeFrame(p[0]!.frame);
  assert.equal(f.eth?.dst, C5.mac);
  assert.equal(f.ipv6?.dst, C5.ip);
  assert.equal(f.nd?.solicited, true);
  assert.equal(f.nd?.override, true);
  assert.equal(f.nd?.router, false);
  assert.equal(f.nd?.targetLinkAddr, MAC);
  assert.ok(checksumOk(p[0]!.frame));
  assert.throws(() => plan('unicast-reply:count=1', { clients: [C6] }), /the MAC of client 2001:db8::6 is not known/);
});

test('refresh= and vlan= work for IPv6 plans as for IPv4', () => {
  const p = plan('na:count=1,refresh=10s,vlan=20', { untilMs: 30_000 });
  assert.deepEqual(p.map((x) => x.offsetMs), [0, 10_000, 20_000, 30_000]);
  const f = decodeFrame(p[1]!.frame);
  assert.equal(f.eth?.vlan, 20);
  assert.equal(f.nd?.kind, 'na');
  assert.match(p[1]!.label, /refresh @10s/);
});

test('one language for both families: each form plans its family, the other is a usage error naming the forms that do it', () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof HadiagError, String(e));
      return e.render();
    }
    assert.fail('no error');
  };
  assert.equal(
    err(() => plan('both:count=1')),
    'hadiag: strategy "both:count=1": both sends ARP frames (IPv4 only), not for an IPv6 VIP (neighbour discovery): strategy — for an IPv6 VIP (neighbour discovery) use one of: directed, unicast-reply, answer-probes, vmac, na',
  );
  assert.match(err(() => planAnnouncements(parseStrategy('na'), { vip: '198.18.0.20', mac: MAC })), /na sends IPv6 neighbour discovery frames \(IPv6 only\), not for an IPv4 VIP \(ARP\).*use one of: request, reply, both, directed, unicast-reply, answer-probes, vmac, arping, send_arp$/);
  assert.match(err(() => plan('answer-probes:target=bcast')), /answer-probes has no target option/);
  assert.match(err(() => plan('directed:target=bcast,count=1')), /target= is the ARP target-MAC field/);
  assert.match(err(() => planAnnouncements(parseStrategy('directed:198.18.0.5,via=na'), { vip: '198.18.0.20', mac: MAC })), /via= is for an IPv6 VIP/);
  assert.match(err(() => plan('directed:198.18.0.5')), /client 198\.18\.0\.5 is not an IPv6 address/);
  assert.match(err(() => parseStrategy('na:router=yes')), /router "yes" is not on or off/);
  assert.match(err(() => parseStrategy('na:lladdr=mac')), /lladdr "mac" is not target, source or none/);
  assert.match(err(() => parseStrategy('directed:198.18.0.5@02:00:00:00:00:05')), /directed takes an IP only/);
  // checkFamily refuses before any plan, with the caller's flag
  assert.match(err(() => announcementLanguage.checkFamily(parseStrategy('send_arp'), 6, '--garp')), /: --garp — for an IPv6 VIP/);
  assert.doesNotThrow(() => announcementLanguage.checkFamily(parseStrategy('both'), 4));
  assert.deepEqual(announcementLanguage.formsFor(6), ['directed', 'unicast-reply', 'answer-probes', 'vmac', 'na']);
});

test('answer-probes for IPv6: an NS for the VIP sent to the dead MAC gets a solicited NA to the client; DAD, multicast resolution and our own NSs do not', () => {
  const held = new Map([[VIP, MAC]]);
  const DEAD = '02:48:44:00:00:11';
  const probe = buildNs({ src: C5.ip, target: VIP, mac: C5.mac, dst: VIP, ethDst: DEAD });
  const a = answerFor(probe, held);
  assert.ok(a);
  assert.deepEqual(a.seen, { vip: VIP, clientIp: C5.ip, clientMac: C5.mac, deadMac: DEAD });
  assert.equal(a.reply.toString('hex'), buildNa({ vip: VIP, mac: MAC, dst: C5.ip, ethDst: C5.mac, solicited: true, override: true }).toString('hex'));
  const f = decodeFrame(a.reply);
  assert.deepEqual([f.nd?.solicited, f.nd?.override, f.nd?.router, f.nd?.targetLinkAddr, f.ipv6?.dst, f.eth?.dst], [true, true, false, MAC, C5.ip, C5.mac]);
  assert.ok(checksumOk(a.reply));
  assert.equal(decodeFrame(answerFor(probe, held, { router: true })!.reply).nd?.router, true);
  // DAD probe (source ::), resolution to the solicited-node group, an NS to us, another VIP: no answer
  assert.equal(answerFor(buildNs({ src: '::', target: VIP, mac: C5.mac, ethDst: DEAD, dst: solicitedNode(VIP) }), held), undefined);
  assert.equal(answerFor(buildNs({ src: C5.ip, target: VIP, mac: C5.mac }), held), undefined);
  assert.equal(answerFor(buildNs({ src: C5.ip, target: VIP, mac: C5.mac, dst: VIP, ethDst: MAC }), held), undefined);
  assert.equal(answerFor(buildNs({ src: C5.ip, target: '2001:db8::99', mac: C5.mac, dst: '2001:db8::99', ethDst: DEAD }), held), undefined);
  assert.equal(ipv6MulticastMac(solicitedNode(VIP)), '33:33:ff:00:00:20');
});

test("tcpdump decodes every IPv6 form's frames as written, every ICMPv6 checksum ok", (t) => {
  const version = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) return t.skip('tcpdump is not installed');
  const specs = ['na:count=1', 'na:count=1,router=on,override=off,lladdr=source', 'directed:count=1', 'directed:count=1,via=na', 'unicast-reply:2001:db8::5@02:48:44:00:00:05,count=1', 'answer-probes:count=1', 'vmac:count=1'];
  const frames = specs.flatMap((s) => plan(s).map((p) => p.frame));
  const path = join(mkdtempSync(join(tmpdir(), 'hadiag-nd-')), 'forms.pcap');
  writeFileSync(path, Buffer.concat([pcapHeader(), ...frames.map((f, i) => pcapRecord(1_700_000_000_000 + i, f))]));
  const out = spawnSync('tcpdump', ['-r', path, '-nn', '-vv', '-e'], { encoding: 'utf8' }).stdout;
  const packets = out.split('\n').filter((l) => /^\d\d:/.test(l));
  assert.equal(packets.length, frames.length);
  assert.equal(packets.filter((l) => l.includes('[icmp6 sum ok]')).length, frames.length, out);
  assert.ok(packets.every((l) => l.includes('hlim 255')));
  assert.deepEqual(
    packets.map((l) => /neighbor (advertisement|solicitation).*?(Flags \[[^\]]*\]|who has \S+)/.exec(l)?.[2]),
    ['Flags [override]', 'Flags [router]', 'who has 2001:db8::5', 'who has 2001:db8::6', 'Flags [override]', 'Flags [override]', 'Flags [solicited, override]', 'Flags [override]', 'Flags [override]'],
  );
  assert.equal((out.match(/destination link-address option \(2\)/g) ?? []).length, 6);
  assert.equal((out.match(/source link-address option \(1\)/g) ?? []).length, 3);
});

test("na is resource-agents' send_ua frame for frame (the captured IPaddr2 takeover), but for the IPv6 flow label send_ua's socket sets", async () => {
  const { parsePcap } = await import('../../src/codecs/pcap.js');
  const { readFileSync } = await import('node:fs');
  const file = parsePcap(readFileSync(new URL('../fixtures/garp-emitters/send_ua-IPaddr2.pcap', import.meta.url)));
  assert.equal(file.records.length, 5);
  const ours = planAnnouncements(parseStrategy('na:count=1'), { vip: '2001:2::20', mac: '02:00:00:00:00:12' })[0]!.frame;
  for (const r of file.records) {
    const theirs = Buffer.from(r.data);
    assert.notEqual(theirs.readUInt32BE(14) & 0xfffff, 0, 'send_ua sets a flow label');
    theirs.writeUInt32BE(theirs.readUInt32BE(14) & 0xfff00000, 14);
    assert.equal(ours.toString('hex'), theirs.toString('hex'));
  }
});

test("checkNodeStrategy with the VIP's family refuses what a node could not send for it; without it, as before", async () => {
  const { checkNodeStrategy } = await import('../../src/models/strategy/node-check.js');
  assert.throws(() => checkNodeStrategy(parseStrategy('send_arp'), '--garp', 6), /send_arp sends ARP frames \(IPv4 only\)/);
  assert.throws(() => checkNodeStrategy(parseStrategy('na'), '--garp', 4), /na sends IPv6 neighbour discovery frames/);
  assert.doesNotThrow(() => checkNodeStrategy(parseStrategy('answer-probes'), '--garp', 6));
  assert.doesNotThrow(() => checkNodeStrategy(parseStrategy('na')));
  assert.throws(() => checkNodeStrategy(parseStrategy('arping:count=2+2@5s')), /sends one burst/);
});
