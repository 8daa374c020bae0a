/** The acceptance model against every row of docs/facts/arp-facts.md ("What a default Linux client does with it"). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGarp } from '../../src/codecs/arp.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { predictArp, type HostArpState, type NeighState } from '../../src/models/resolution/accept-model.js';

const VIP = '198.18.0.20';
const NEW = '02:00:00:00:00:12';
const OLD = '02:00:00:00:00:11';
const CLIENT = { ip: '198.18.0.5', mac: '02:00:00:00:00:05' };

const FRAMES: Record<string, Buffer> = {
  'GARP request (00:00)': buildGarp('request', { vip: VIP, mac: NEW }),
  'GARP request (ff:ff)': buildGarp('request', { vip: VIP, mac: NEW, arpTarget: 'bcast' }),
  'GARP reply (ff:ff)': buildGarp('reply', { vip: VIP, mac: NEW, arpTarget: 'bcast' }),
  'GARP reply (00:00)': buildGarp('reply', { vip: VIP, mac: NEW, arpTarget: 'zero' }),
  'GARP reply (own)': buildGarp('reply', { vip: VIP, mac: NEW, arpTarget: 'own' }),
  'unicast reply': buildGarp('unicast-reply', { vip: VIP, mac: NEW, targetIp: CLIENT.ip, targetMac: CLIENT.mac }),
  directed: buildGarp('directed', { vip: VIP, mac: NEW, targetIp: CLIENT.ip }),
};

function host(state: NeighState, over: Partial<HostArpState> = {}): HostArpState {
  return {
    hostMac: CLIENT.mac,
    hostIps: [CLIENT.ip],
    arpAccept: 0,
    dropGratuitousArp: false,
    entry: state === 'NONE' ? { state } : { state, mac: OLD },
    msSinceUpdate: 5000,
    ...over,
  };
}

function predict(name: string, h: HostArpState) {
  const f = decodeFrame(FRAMES[name]!);
  return predictArp(f.arp!, f.eth!.dst, h);
}

const GARPS = ['GARP request (00:00)', 'GARP request (ff:ff)', 'GARP reply (ff:ff)', 'GARP reply (00:00)', 'GARP reply (own)'];

test('REACHABLE / STALE entry: GARP requests and replies update → STALE; unicast reply → REACHABLE; directed → STALE', () => {
  for (const st of ['REACHABLE', 'STALE'] as const) {
    for (const name of GARPS) {
      const p = predict(name, host(st));
      assert.deepEqual([p.outcome, p.stateAfter, p.macAfter], ['update', 'STALE', NEW], `${name} on ${st}: ${p.reason}`);
    }
    const u = predict('unicast reply', host(st));
    assert.deepEqual([u.outcome, u.stateAfter, u.macAfter], ['update', 'REACHABLE', NEW], u.reason);
    const d = predict('directed', host(st));
    assert.deepEqual([d.outcome, d.stateAfter, d.macAfter], ['update', 'STALE', NEW], d.reason);
  }
});

test('no entry: arp_accept 0 creates nothing (except directed), arp_accept 1 and 2 create', () => {
  for (const name of [...GARPS, 'unicast reply']) {
    const p0 = predict(name, host('NONE'));
    assert.equal(p0.outcome, 'ignore', `${name}, arp_accept=0`);
    assert.equal(p0.accepted, false);
    for (const acc of [1, 2]) {
      const p1 = predict(name, host('NONE', { arpAccept: acc }));
      assert.equal(p1.outcome, 'create', `${name}, arp_accept=${acc}: ${p1.reason}`);
      assert.equal(p1.stateAfter, name === 'unicast reply' ? 'REACHABLE' : 'STALE');
    }
  }
  const d = predict('directed', host('NONE'));
  assert.deepEqual([d.outcome, d.stateAfter, d.macAfter], ['create', 'STALE', NEW]);
  assert.equal(predict('GARP request (00:00)', host('NONE', { arpAccept: 2, senderOnLink: false })).outcome, 'ignore');
});

test('drop_gratuitous_arp=1: every sender IP = target IP frame is ignored; unicast replies and directed requests still work', () => {
  for (const name of GARPS) {
    for (const st of ['REACHABLE', 'STALE', 'NONE'] as const) {
      const p = predict(name, host(st, { dropGratuitousArp: true, arpAccept: 1 }));
      assert.equal(p.outcome, 'ignore', `${name} ${st}`);
      assert.match(p.reason, /drop_gratuitous_arp/);
    }
  }
  assert.equal(predict('unicast reply', host('REACHABLE', { dropGratuitousArp: true })).outcome, 'update');
  assert.equal(predict('directed', host('REACHABLE', { dropGratuitousArp: true })).outcome, 'update');
});

test('inside locktime (1 s): only a request, a reply with target MAC = sender MAC, or a directed request replace the entry', () => {
  const inside = { msSinceUpdate: 400 };
  for (const name of ['GARP request (00:00)', 'GARP request (ff:ff)', 'GARP reply (own)', 'directed']) {
    assert.equal(predict(name, host('REACHABLE', inside)).outcome, 'update', name);
  }
  for (const name of ['GARP reply (ff:ff)', 'GARP reply (00:00)', 'unicast reply']) {
    const p = predict(name, host('REACHABLE', inside));
    assert.equal(p.outcome, 'ignore', name);
    assert.equal(p.macAfter, OLD);
    assert.match(p.reason, /inside locktime/);
  }
  // unknown time since the update: predicted as outside, flagged uncertain
  const u = predict('GARP reply (00:00)', host('STALE', { msSinceUpdate: undefined }));
  assert.equal(u.outcome, 'update');
  assert.match(u.uncertain!, /locktime/);
});

test('firewall, static entries, other hosts, own address, probes, same MAC', () => {
  const fw = predict('GARP request (00:00)', host('REACHABLE', { firewall: { verdict: 'drop', rule: 'arp filter input rule 1' } }));
  assert.equal(fw.outcome, 'ignore');
  assert.match(fw.reason, /firewall.*rule 1/);
  assert.equal(predict('directed', host('REACHABLE', { firewall: { verdict: 'drop' } })).outcome, 'ignore');
  assert.equal(predict('GARP request (00:00)', host('PERMANENT')).outcome, 'ignore');
  const other = predict('unicast reply', host('REACHABLE', { hostMac: '02:00:00:00:00:99' }));
  assert.match(other.reason, /another host's MAC/);
  const same = predict('GARP request (00:00)', { ...host('REACHABLE'), entry: { state: 'REACHABLE', mac: NEW } });
  assert.deepEqual([same.outcome, same.stateAfter, same.accepted], ['refresh', 'REACHABLE', true]);
  const conf = predict('unicast reply', { ...host('STALE'), entry: { state: 'STALE', mac: NEW } });
  assert.deepEqual([conf.outcome, conf.stateAfter], ['refresh', 'REACHABLE']);
  const probe = decodeFrame(FRAMES['GARP request (00:00)']!);
  assert.equal(predictArp({ ...probe.arp!, senderIp: '0.0.0.0' }, 'ff:ff:ff:ff:ff:ff', host('NONE', { arpAccept: 1 })).outcome, 'ignore');
  // INCOMPLETE / FAILED entries exist: any frame from the sender fills them, even with arp_accept=0
  assert.equal(predict('GARP reply (00:00)', { ...host('FAILED'), entry: { state: 'FAILED' } }).outcome, 'update');
});
