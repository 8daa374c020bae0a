import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RepointTracker } from '../../src/models/scale/repoint.js';
import { planFleet, fleetBatches, fleetMac } from '../../src/effects/lab/fleet.js';
import { HadiagError } from '../../src/core/errors.js';
import type { Frame } from '../../src/codecs/decode.js';

const NEW = '02:48:44:00:00:0c';
const OLD = '02:48:44:00:00:0b';
const VIP = '198.18.0.20';
const echo = (src: string, dstMac: string): Frame => ({ linktype: 1, len: 98, eth: { src: 'x', dst: dstMac, ethertype: 0x800 }, ipv4: { src, dst: VIP, proto: 1, ttl: 64, tos: 0, id: 1, totalLength: 84, fragOffset: 0, moreFragments: false } });
const arp = (op: number, senderIp: string, srcMac: string, dstMac: string, targetIp: string): Frame => ({ linktype: 1, len: 42, eth: { src: srcMac, dst: dstMac, ethertype: 0x806 }, arp: { htype: 1, ptype: 0x800, hlen: 6, plen: 4, op, senderMac: srcMac, senderIp, targetMac: dstMac, targetIp } });

test('repoint truth: first frame to the new MAC after the fault, per client; ARP answers to a directed request count; the new holder’s ARP frames are counted', () => {
  const t = new RepointTracker({ newMac: NEW, vips: [VIP], clients: ['198.18.1.0', '198.18.1.1', '198.18.1.2'] });
  t.feed(echo('198.18.1.0', NEW), 900); // before the fault: not counted
  t.fault(1000);
  t.feed(echo('198.18.1.0', OLD), 1100);
  t.feed(arp(1, VIP, NEW, 'ff:ff:ff:ff:ff:ff', '198.18.1.1'), 5000); // the new holder's directed request
  t.feed(arp(2, '198.18.1.1', '02:48:46:00:00:01', NEW, VIP), 5002); // the client's answer: re-pointed
  t.feed(echo('198.18.1.0', NEW), 5010);
  t.feed(echo('198.18.1.0', NEW), 5020); // the first one counts
  t.feed(echo('198.18.9.9', NEW), 5030); // not a measured client
  assert.ok(!t.done);
  const s = t.summary();
  assert.deepEqual([...s.repointMs.entries()], [['198.18.1.0', 4010], ['198.18.1.1', 4002]]);
  assert.equal(s.repointed, 2);
  assert.equal(s.framesSent, 1);
  t.feed(echo('198.18.1.2', NEW), 9000);
  assert.ok(t.done);
});

test('fleet plan: addresses above the lab’s first 256, every second client drops gratuitous ARP, round-robin VIPs; too many clients for the subnet is a usage error', () => {
  const lab = { id: 'ab12c', subnet: '198.18.0.0/22', prefixLen: 22, bridge: 'hdab12cbr', bridgeNetns: 'hadiag-ab12c-br' };
  const c = planFleet(lab, { count: 4, vips: ['198.18.0.20', '198.18.0.21'] });
  assert.deepEqual(c.map((x) => [x.address, x.vip, x.dropsGratuitous, x.netns]), [
    ['198.18.1.0', '198.18.0.20', false, 'hadiag-ab12c-f0'],
    ['198.18.1.1', '198.18.0.21', true, 'hadiag-ab12c-f1'],
    ['198.18.1.2', '198.18.0.20', false, 'hadiag-ab12c-f2'],
    ['198.18.1.3', '198.18.0.21', true, 'hadiag-ab12c-f3'],
  ]);
  assert.equal(fleetMac(300), '02:48:46:00:01:2c');
  const b = fleetBatches(lab, c.slice(0, 1));
  assert.equal(b.root, 'netns add hadiag-ab12c-f0\nlink add eth0 netns hadiag-ab12c-f0 address 02:48:46:00:00:00 type veth peer name hdab12cf0 netns hadiag-ab12c-br\n');
  assert.equal(b.bridge, 'link set hdab12cf0 master hdab12cbr up\nlink set hdab12cf0 type bridge_slave flood off\n');
  assert.throws(() => planFleet({ ...lab, subnet: '198.18.0.0/24', prefixLen: 24 }, { count: 10, vips: ['198.18.0.20'] }), (e: unknown) => e instanceof HadiagError && /do not fit/.test(e.message));
});
