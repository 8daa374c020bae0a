import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStrategy, planAnnouncements } from '../../src/models/strategy/language.js';
import { ClientBook } from '../../src/models/strategy/client-book.js';
import { HadiagError } from '../../src/core/errors.js';

const ctx = { vip: '198.18.0.20', mac: '02:00:00:00:00:01' };
const clients = Array.from({ length: 5 }, (_, i) => ({ ip: `198.18.1.${i}` }));

test('rate=PPS paces a plan: no frame sooner than 1/PPS after the previous one, order kept', () => {
  const plan = planAnnouncements(parseStrategy('directed:rate=100'), { ...ctx, clients });
  assert.deepEqual(plan.map((p) => p.offsetMs), [0, 10, 20, 30, 40, 1000, 1010, 1020, 1030, 1040, 2000, 2010, 2020, 2030, 2040]);
  assert.deepEqual(plan.slice(0, 5).map((p) => p.frame.subarray(38, 42).join('.')), clients.map((c) => c.ip));
  // a rate slower than the plan pushes later rounds back
  const slow = planAnnouncements(parseStrategy('directed:count=2,rate=2'), { ...ctx, clients: clients.slice(0, 3) });
  assert.deepEqual(slow.map((p) => p.offsetMs), [0, 500, 1000, 1500, 2000, 2500]);
  // without rate: as fast as the wire takes it (every client of a round at once)
  assert.deepEqual(planAnnouncements(parseStrategy('directed:count=1'), { ...ctx, clients }).map((p) => p.offsetMs), [0, 0, 0, 0, 0]);
  assert.throws(() => parseStrategy('directed:rate=0'), (e: unknown) => e instanceof HadiagError && /rate "0"/.test(e.message));
  assert.throws(() => parseStrategy('both:rate=fast'), (e: unknown) => e instanceof HadiagError && /rate "fast"/.test(e.message));
});

test('client book: takeover order is most recently seen first; a sighting does not rebuild the list, a new MAC does', () => {
  const book = new ClientBook({ vips: [ctx.vip] });
  book.add('198.18.1.1', '02:00:00:00:01:01', 'neigh', 100);
  book.add('198.18.1.2', '02:00:00:00:01:02', 'neigh', 200);
  book.add('198.18.1.3', '02:00:00:00:01:03', 'neigh', 300);
  const list = book.list;
  const before = list.map((c) => c.ip);
  book.add('198.18.1.1', '02:00:00:00:01:01', 'arp', 400); // seen again: no rebuild
  assert.deepEqual(list.map((c) => c.ip), before);
  book.orderByRecency();
  assert.equal(book.list, list, 'the live list is reordered in place (the announcer holds it)');
  assert.deepEqual(list.map((c) => c.ip), ['198.18.1.1', '198.18.1.3', '198.18.1.2']);
  book.add('198.18.1.2', '02:00:00:00:09:02', 'arp', 500); // a new MAC: the list is rebuilt (address order)
  assert.deepEqual(list.map((c) => [c.ip, c.mac]), [['198.18.1.1', '02:00:00:00:01:01'], ['198.18.1.2', '02:00:00:00:09:02'], ['198.18.1.3', '02:00:00:00:01:03']]);
});

test('directed:eth=unicast: one request per client to its MAC when known (target MAC the known one), broadcast when only the IP is', () => {
  const known = [{ ip: '198.18.1.1', mac: '02:00:00:00:01:01' }, { ip: '198.18.1.2' }];
  const [a, b] = planAnnouncements(parseStrategy('directed:count=1,eth=unicast'), { ...ctx, clients: known });
  assert.equal(a!.frame.subarray(0, 6).toString('hex'), '020000000101', 'Ethernet destination: the client');
  assert.equal(a!.frame.subarray(20, 22).readUInt16BE(0), 1, 'a request');
  assert.equal(a!.frame.subarray(28, 32).join('.'), '198.18.0.20', 'from the VIP');
  assert.equal(a!.frame.subarray(32, 38).toString('hex'), '020000000101', 'target MAC: the known one');
  assert.equal(a!.frame.subarray(38, 42).join('.'), '198.18.1.1');
  assert.equal(b!.frame.subarray(0, 6).toString('hex'), 'ffffffffffff', 'no MAC known: broadcast');
  const [c] = planAnnouncements(parseStrategy('directed:count=1'), { ...ctx, clients: known });
  assert.equal(c!.frame.subarray(0, 6).toString('hex'), 'ffffffffffff', 'the default stays broadcast');
  assert.throws(() => parseStrategy('directed:eth=multicast'), (e: unknown) => e instanceof HadiagError && /eth "multicast"/.test(e.message));
});
