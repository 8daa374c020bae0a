/**
 * Announcements as this host's kernel sees them: any ARP from the VIP that moves (or would move) its entry,
 * whatever the form; the reply to its own request is resolution. And a Linux cooked capture, where only the
 * packet type tells what this host sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePcap } from '../../src/codecs/pcap.js';
import { probesFromCapture, wireEventsOf } from '../../src/models/measure/frames.js';
import { analyze } from '../../src/models/measure/analyze.js';
import { announcersOf } from '../../src/models/measure/outage-evidence.js';
import { F, ask, garp, pcapOf, pingStream, replyTo, vipAsks, type FixtureFrame } from './measure-probes-fixture.js';

function run(frames: FixtureFrame[], cooked = false, sysctls?: Record<string, number>) {
  const pcap = parsePcap(pcapOf(frames, cooked));
  const wire = wireEventsOf(pcap.records, pcap.linktype);
  const cap = probesFromCapture(F.vip, wire);
  const a = analyze({ vip: F.vip, intervalMs: cap.intervalMs, probes: cap.probes, wire, neigh: [], iface: 'eth0', ...(cap.client ? { client: cap.client } : {}), ...(sysctls ? { sysctls } : {}) });
  return { a, wire, cap };
}

/** 5 ms probes for 6 s: the old MAC answers until 1 s, nothing answers until `switchAt`, then the new MAC. */
function failover(switchAt: number, opts: { sendToNewFrom?: number } = {}) {
  const sendToNewFrom = opts.sendToNewFrom ?? switchAt;
  return pingStream({
    startMs: F.t0,
    count: 1200,
    intervalMs: 5,
    id: 0x1234,
    answered: (i) => i * 5 < 1000 || i * 5 >= switchAt,
    mac: (i) => (i * 5 >= sendToNewFrom ? F.newMac : F.oldMac),
  });
}

test('an unsolicited unicast ARP reply from the new MAC is an announcement, taken at once: the cause says so', () => {
  const { a } = run([...failover(3000.5), replyTo(F.t0 + 3000.2, F.newMac)]);
  assert.equal(a.outages.length, 1);
  const o = a.outages[0]!;
  assert.deepEqual(o.announcements.map((x) => [x.mac, x.form]), [[F.newMac, 'unicast-reply']]);
  assert.deepEqual(o.announcers.map((x) => [x.mac, x.forms, x.count]), [[F.newMac, ['unicast-reply'], 1]], 'listed as announcers in the JSON');
  assert.deepEqual(announcersOf(o.announcements), o.announcers);
  assert.equal(o.learnedBy, 'announcement');
  assert.equal(o.diagnosis.cause, 'detection-bound');
  assert.match(o.diagnosis.sentence, /after the first announcement \(an unsolicited unicast ARP reply to this host\)/);
  assert.ok(o.diagnosis.evidence.some((e) => /1 announcement\(s\) from 02:00:00:00:00:0c.*unicast-reply/.test(e)), o.diagnosis.evidence.join('\n'));
});

test('a unicast reply right after a unicast probe to the old MAC still announces (the new MAC never got that probe)', () => {
  const frames = [...failover(3000.5), ask(F.t0 + 2600, F.oldMac), replyTo(F.t0 + 3000.2, F.newMac)];
  const o = run(frames).a.outages[0]!;
  assert.deepEqual(o.announcements.map((x) => x.form), ['unicast-reply']);
  assert.equal(o.learnedBy, 'announcement');
});

test('a request from the VIP to this host (directed: broadcast, or unicast to its MAC) is an announcement', () => {
  for (const dst of [F.bc, F.clientMac]) {
    const o = run([...failover(3000.5), vipAsks(F.t0 + 3000.2, F.newMac, dst)]).a.outages[0]!;
    assert.deepEqual(o.announcements.map((x) => [x.mac, x.form]), [[F.newMac, 'directed-request']], dst);
    assert.equal(o.learnedBy, 'announcement', dst);
    assert.match(o.diagnosis.sentence, /\(a request from the VIP to this host\)/, dst);
  }
});

test('the reply to this host’s own request after its first probes is resolution: no late-announcement outage', () => {
  // this host starts pinging with no entry for the VIP: it asks, the first 3 probes go unanswered while the
  // VIP's host is slow to reply, then the VIP's host asks back for this host (the ordinary exchange)
  const ping = pingStream({ startMs: F.t0, count: 200, intervalMs: 5, id: 42, answered: (i) => i >= 3 });
  const frames = [ask(F.t0 - 0.1, F.bc), replyTo(F.t0 + 12, F.oldMac), vipAsks(F.t0 + 13, F.oldMac, F.clientMac), ...ping];
  const { a } = run(frames);
  for (const o of a.outages) {
    assert.deepEqual(o.announcements, [], 'the answer to its own request and the VIP asking back announce nothing');
    assert.notEqual(o.diagnosis.cause, 'late-announcement');
    assert.equal(o.diagnosis.problem, false, o.diagnosis.sentence);
    assert.equal(o.diagnosis.cause, 'first-resolution');
    assert.match(o.diagnosis.sentence, /not a failover/);
  }
  assert.equal(a.problem, false);
});

test('Linux cooked capture: this host’s own requests are seen as sent (packet type outgoing), destinations inferred', () => {
  // GARPs ignored (drop_gratuitous_arp=1): 3 unicast probes to the dead MAC, then a broadcast answered by the new MAC
  const frames = [
    ...failover(5000.5),
    garp(F.t0 + 2000, F.newMac),
    garp(F.t0 + 2250, F.newMac),
    ask(F.t0 + 3000, F.oldMac),
    ask(F.t0 + 4000, F.oldMac),
    ask(F.t0 + 4500, F.oldMac),
    ask(F.t0 + 5000, F.bc),
    replyTo(F.t0 + 5000.3, F.newMac),
  ];
  const eth = run(frames, false, { drop_gratuitous_arp: 1 }).a.outages[0]!;
  const { a, wire } = run(frames, true, { drop_gratuitous_arp: 1 });
  assert.ok(wire.some((e) => e.kind === 'arp' && e.pktType === 'outgoing' && e.dstMac === ''), 'the cooked capture hides the destination of what this host sent');
  assert.equal(a.client.mac, F.clientMac);
  const o = a.outages[0]!;
  assert.equal(o.unicastProbesToOld.length, 3);
  assert.equal(o.broadcastRequests.length, 1);
  assert.equal(o.broadcastAnswer?.mac, F.newMac);
  assert.equal(o.learnedBy, 'own-resolution');
  assert.deepEqual(o.announcements.map((x) => x.form), ['garp-request', 'garp-request']);
  assert.equal(o.diagnosis.cause, 'announcements-ignored');
  assert.match(o.diagnosis.sentence, /3 unicast probes to the dead MAC, then broadcast/);
  assert.equal(o.diagnosis.sentence, eth.diagnosis.sentence, 'the same story as the Ethernet capture');
});
