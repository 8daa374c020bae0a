import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateArpFilter, parseNftJson, describeRuleset } from '../../src/models/resolution/nft-arp-filter.js';
import { buildGarp } from '../../src/codecs/arp.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { deadMacBound, msSinceUpdateEstimate } from '../../src/models/resolution/host-state.js';

// `nft -j list ruleset arp` output (nft 1.0.6) for:
//   table arp filter { chain input { type filter hook input priority 0; policy accept;
//     arp operation request arp saddr ip 198.18.0.20 arp daddr ip 198.18.0.20 drop
//     meta iifname "eth0" arp saddr ip 198.18.1.0/24 accept
//     arp daddr ether ff:ff:ff:ff:ff:ff numgen random mod 100 < 50 drop } }
const m = (field: string, right: unknown, op = '==', protocol = 'arp') => ({ match: { op, left: { payload: { protocol, field } }, right } });
const doc = {
  nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'arp', name: 'filter', handle: 1 } },
    { chain: { family: 'arp', table: 'filter', name: 'input', handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'accept' } },
    { chain: { family: 'ip', table: 'x', name: 'input', handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'drop' } },
    { rule: { family: 'arp', table: 'filter', chain: 'input', handle: 3, expr: [m('operation', 'request'), m('saddr ip', '198.18.0.20'), m('daddr ip', '198.18.0.20'), { drop: null }] } },
    { rule: { family: 'arp', table: 'filter', chain: 'input', handle: 4, expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'eth0' } }, m('saddr ip', { prefix: { addr: '198.18.1.0', len: 24 } }), { accept: null }] } },
    { rule: { family: 'arp', table: 'filter', chain: 'input', handle: 5, expr: [m('daddr ether', 'ff:ff:ff:ff:ff:ff'), { match: { op: '<', left: { numgen: { mode: 'random', mod: 100, offset: 0 } }, right: 50 } }, { drop: null }] } },
  ],
};

const eth = (f: Buffer) => decodeFrame(f);

test('nft ARP rules: drop, accept, maybe (random), and other families ignored', () => {
  const rs = parseNftJson(doc);
  assert.equal(rs.chains.length, 1);
  assert.equal(rs.rules.length, 3);
  const req = eth(buildGarp('request', { vip: '198.18.0.20', mac: '02:00:00:00:00:12' }));
  const v1 = evaluateArpFilter(rs, req.arp!, req.eth!, 'eth0');
  assert.equal(v1.verdict, 'drop');
  assert.match(v1.rule!, /#3: arp operation request arp saddr ip 198\.18\.0\.20 arp daddr ip 198\.18\.0\.20 drop/);
  const rep = eth(buildGarp('reply', { vip: '198.18.0.20', mac: '02:00:00:00:00:12' }));
  assert.equal(evaluateArpFilter(rs, rep.arp!, rep.eth!, 'eth0').verdict, 'accept');
  const bcastTarget = eth(buildGarp('reply', { vip: '198.18.0.21', mac: '02:00:00:00:00:12', arpTarget: 'bcast' }));
  const v3 = evaluateArpFilter(rs, bcastTarget.arp!, bcastTarget.eth!, 'eth0');
  assert.equal(v3.verdict, 'maybe');
  assert.match(v3.rule!, /#5/);
  const other = eth(buildGarp('reply', { vip: '198.18.1.7', mac: '02:00:00:00:00:12', arpTarget: 'bcast' }));
  assert.equal(evaluateArpFilter(rs, other.arp!, other.eth!, 'eth0').verdict, 'accept');
  assert.equal(evaluateArpFilter(rs, other.arp!, other.eth!, 'eth1').verdict, 'maybe');
  assert.equal(describeRuleset(rs).length, 4);
  const policyDrop = parseNftJson({ nftables: [{ chain: { family: 'arp', table: 't', name: 'in', hook: 'input', policy: 'drop' } }] });
  assert.equal(evaluateArpFilter(policyDrop, rep.arp!, rep.eth!, 'eth0').verdict, 'drop');
  assert.equal(evaluateArpFilter(parseNftJson({}), rep.arp!, rep.eth!, 'eth0').verdict, 'accept');
});

test('worst-case dead-MAC time: stock timers give up to 53 s', () => {
  const b = deadMacBound({ baseReachableTimeMs: 30_000, delayFirstProbeTimeMs: 5000, ucastSolicit: 3, retransTimeMs: 1000 });
  assert.equal(b.maxMs, 53_000);
  assert.equal(b.reachableMinMs, 15_000);
  assert.match(b.explain, /45 s .* \+ delay_first_probe 5 s \+ ucast_solicit 3 × retrans 1 s/);
  assert.equal(msSinceUpdateEstimate({ ip: 'x', state: 'STALE', updatedS: 0 }), 500);
  assert.equal(msSinceUpdateEstimate({ ip: 'x', state: 'STALE', updatedS: 1 }), undefined);
  assert.equal(msSinceUpdateEstimate({ ip: 'x', state: 'STALE', updatedS: 7 }), 7500);
});
