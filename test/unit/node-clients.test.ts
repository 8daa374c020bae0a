import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, baseConfig } from './node-sim.js';
import { buildMessage, getField } from '../../src/codecs/heartbeat/message.js';
import { encodeMessage } from '../../src/codecs/heartbeat/codec.js';
import { CLIENTS_TYPE } from '../../src/models/node/machine.js';
import { ClientBook, parseClientList } from '../../src/models/strategy/client-book.js';

function pair(): Sim {
  const sim = new Sim(baseConfig());
  sim.add('server1');
  sim.runFor(12_000);
  sim.add('server2');
  sim.runFor(5_000);
  return sim;
}

const clientMsgs = (sim: Sim, from: string) => sim.wire.filter((w) => w.from === from && getField(w.msg, 't') === CLIENTS_TYPE);

test('hadiag-clients: the machine sends its learned clients at once and every 5 s; the peer hands them to its announcer', () => {
  const sim = pair();
  sim.feed(sim.node('server1'), { type: 'clients', clients: [{ ip: '198.18.0.5', mac: '02:00:00:00:00:05' }, { ip: '198.18.0.6' }] });
  sim.runFor(11_000);
  const sent = clientMsgs(sim, 'server1');
  assert.ok(sent.length >= 3 && sent.length <= 4, `${sent.length} messages in 11 s`);
  assert.equal(getField(sent[0]!.msg, 'clients'), '198.18.0.5@02:00:00:00:00:05 198.18.0.6');
  assert.ok(getField(sent[0]!.msg, 'seq'), 'sequenced like every cluster message');
  const got = sim.node('server2').peerClients;
  assert.equal(got.length, sent.length);
  assert.deepEqual(got[0]!.clients, [{ ip: '198.18.0.5', mac: '02:00:00:00:00:05' }, { ip: '198.18.0.6' }]);
  assert.equal(got[0]!.node, 'server1');
  // the same list again is not re-sent at once
  const n = clientMsgs(sim, 'server1').length;
  sim.feed(sim.node('server1'), { type: 'clients', clients: [{ ip: '198.18.0.5', mac: '02:00:00:00:00:05' }, { ip: '198.18.0.6' }] });
  assert.equal(clientMsgs(sim, 'server1').length, n);
  assert.deepEqual(sim.holders(), ['server1']);
});

test('hadiag-clients: a book of any size goes in parts packed by bytes, each one datagram; the peer learns every client', () => {
  const sim = pair();
  const many = Array.from({ length: 500 }, (_, i) => ({ ip: `198.18.${1 + (i >> 8)}.${i & 0xff}`, mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}` }));
  sim.feed(sim.node('server1'), { type: 'clients', clients: many });
  sim.runFor(100);
  const msgs = clientMsgs(sim, 'server1');
  assert.ok(msgs.length >= 10 && msgs.length <= 20, `500 clients: ${msgs.length} messages`);
  assert.ok(msgs.every((m) => getField(m.msg, 'clients')!.split(' ').length <= 64));
  assert.ok(msgs.every((m) => encodeMessage(m.msg, { index: 1, method: 'sha1', key: 'k' }).length <= 1400), 'each fits one datagram');
  const got = new Set(sim.node('server2').peerClients.flatMap((p) => p.clients.map((c) => c.ip)));
  assert.equal(got.size, 500, 'server2 learned every client');
});

test('hadiag-clients: malformed lists are skipped and counted, never crash or disturb the cluster', () => {
  const sim = pair();
  const s1 = sim.node('server1');
  const seq0 = s1.m.getStatus().seq;
  const bad = ['junk 1.2.3.4@zz 300.1.1.1 198.18.0.9', '', '@@@ ;; 1.2.3', '\u00ff#'.repeat(50)];
  bad.forEach((text, i) => {
    sim.inject('server2', buildMessage([['t', CLIENTS_TYPE], ['clients', text], ['src', 'server1'], ['seq', (seq0 + 100 + i).toString(16)], ['hg', '100'], ['ts', '1']]));
  });
  // a message without the field at all, and an unknown type
  sim.inject('server2', buildMessage([['t', CLIENTS_TYPE], ['src', 'server1'], ['seq', (seq0 + 110).toString(16)], ['hg', '100'], ['ts', '1']]));
  sim.inject('server2', buildMessage([['t', 'hadiag-future'], ['x', 'y'], ['src', 'server1'], ['seq', (seq0 + 111).toString(16)], ['hg', '100'], ['ts', '1']]));
  sim.runFor(3_000);
  const s2 = sim.node('server2');
  const c = s2.m.getStatus().counters;
  assert.ok(c.badClientEntries >= 5, JSON.stringify(c));
  assert.ok(c.peerClientLists >= 1, JSON.stringify(c));
  assert.deepEqual(s2.peerClients.flatMap((p) => p.clients), [{ ip: '1.2.3.4' }, { ip: '198.18.0.9' }]);
  assert.equal(sim.events('server2', 'peer-dead').length, 0);
  assert.deepEqual(sim.holders(), ['server1']);
  assert.equal(s2.m.getStatus().peers[0]!.status, 'active');
});

test('a received list reaches the announcer book as peer clients', () => {
  const book = new ClientBook({ vips: ['198.18.0.20'], ownMacs: ['02:00:00:00:00:12'] });
  const { clients, bad } = parseClientList('198.18.0.5@02:00:00:00:00:05 198.18.0.20@02:00:00:00:00:aa 198.18.0.12@02:00:00:00:00:12 x');
  assert.equal(bad, 1);
  for (const cl of clients) book.add(cl.ip, cl.mac, 'peer', 1);
  assert.deepEqual(book.list, [{ ip: '198.18.0.5', mac: '02:00:00:00:00:05' }], 'the VIP and our own MAC are never clients');
  assert.equal(book.clients()[0]!.source, 'peer');
});
