import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStrategy, planAnnouncements, resolveStrategy, DEFAULT_STRATEGY } from '../../src/models/strategy/language.js';
import { answersProbes, isPerClient, needsClients, withoutClientForms } from '../../src/models/strategy/forms.js';
import { checkNodeStrategy } from '../../src/models/strategy/node-check.js';
import { DEFAULT_GARP, DEFAULT_GARP6 } from '../../src/effects/node/options.js';
import { DEFAULT_GARP6 as NAMED } from '../../src/models/strategy/default6.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { HadiagError } from '../../src/core/errors.js';

const VIP6 = '2001:db8::20';
const MAC = '02:00:00:00:00:12';
const CLIENTS = [
  { ip: '2001:db8::5', mac: '02:00:00:00:00:05' },
  { ip: '2001:db8::6' },
  { ip: '198.18.0.5', mac: '02:00:00:00:00:05' },
];

test('the default per family: directed for IPv4, na+directed+answer-probes for IPv6, written once', () => {
  assert.equal(DEFAULT_GARP, 'directed');
  assert.equal(DEFAULT_GARP6, 'na+directed+answer-probes');
  assert.equal(NAMED, DEFAULT_GARP6);
  const d = parseStrategy('default', '--garp');
  assert.equal(resolveStrategy(d, 4).spec, DEFAULT_STRATEGY[4]);
  assert.equal(resolveStrategy(d, 6).spec, DEFAULT_STRATEGY[6]);
  // an IPv4 plan of `default` is the plan of `directed`, frame for frame
  const ctx4 = { vip: '198.18.0.20', mac: MAC, clients: CLIENTS };
  assert.deepEqual(planAnnouncements(d, ctx4), planAnnouncements(parseStrategy('directed'), ctx4));
  assert.throws(() => parseStrategy('default:count=3', '--garp'), (e: unknown) => e instanceof HadiagError && /default takes no argument or option/.test(e.render()));
});

test('na+directed+answer-probes for an IPv6 VIP: 3 unsolicited NAs (once each, not twice), an NS from the VIP per IPv6 client', () => {
  const s = parseStrategy(DEFAULT_GARP6, '--garp');
  assert.deepEqual(s.parts?.map((p) => p.form), ['na', 'directed', 'answer-probes']);
  assert.ok(isPerClient(s) && needsClients(s) && answersProbes(s));
  const plan = planAnnouncements(s, { vip: VIP6, mac: MAC, clients: CLIENTS });
  const nas = plan.filter((p) => decodeFrame(p.frame).nd?.kind === 'na');
  const nss = plan.filter((p) => decodeFrame(p.frame).nd?.kind === 'ns');
  assert.deepEqual(nas.map((p) => p.offsetMs), [0, 1000, 2000], 'na and answer-probes plan the same NA: sent once per instant');
  for (const p of nas) {
    const f = decodeFrame(p.frame);
    assert.equal(f.eth?.dst, '33:33:00:00:00:01');
    assert.equal(f.ipv6?.dst, 'ff02::1');
    assert.deepEqual([f.nd?.override, f.nd?.solicited, f.nd?.router], [true, false, false]);
    assert.equal(f.nd?.targetLinkAddr, MAC);
  }
  assert.equal(nss.length, 6, 'two IPv6 clients × 3 rounds (the IPv4 client is not addressed)');
  const first = decodeFrame(nss[0]!.frame);
  assert.equal(first.ipv6?.src, VIP6);
  assert.equal(first.eth?.dst, '02:00:00:00:00:05');
  assert.equal(decodeFrame(nss[1]!.frame).ipv6?.dst, 'ff02::1:ff00:6', 'no MAC known: its solicited-node group');
  // a host that forwards: the NA carries R
  const routed = planAnnouncements(s, { vip: VIP6, mac: MAC, clients: CLIENTS, router: true }).filter((p) => decodeFrame(p.frame).nd?.kind === 'na');
  assert.ok(routed.every((p) => decodeFrame(p.frame).nd?.router === true));
});

test('with no client known, a node sends what needs none; a spec of per-client forms only has none', () => {
  const s = parseStrategy(DEFAULT_GARP6);
  assert.equal(withoutClientForms(s)?.spec, 'na+answer-probes');
  assert.equal(withoutClientForms(parseStrategy('directed')), undefined);
  const named = parseStrategy('directed:2001:db8::5');
  assert.equal(withoutClientForms(named), named, 'a client named in the spec needs none learned');
  const na = parseStrategy('na:router=on');
  assert.equal(withoutClientForms(na), na);
  const frames = planAnnouncements(na, { vip: VIP6, mac: MAC });
  assert.equal(decodeFrame(frames[0]!.frame).nd?.router, true);
});

test('checkNodeStrategy(s, flag, 6) refuses ARP-only forms for an IPv6 VIP, naming the forms that do it', () => {
  for (const spec of ['both', 'request:count=5', 'arping', 'send_arp', 'both+na']) {
    assert.throws(
      () => checkNodeStrategy(parseStrategy(spec, '--garp'), '--garp', 6),
      (e: unknown) => e instanceof HadiagError && /not for an IPv6 VIP \(neighbour discovery\)/.test(e.render()) && /use one of: directed, unicast-reply, answer-probes, vmac, na/.test(e.render()),
      spec,
    );
  }
  for (const spec of ['default', DEFAULT_GARP6, 'na', 'directed', 'answer-probes', 'unicast-reply:2001:db8::5@02:00:00:00:00:05']) checkNodeStrategy(parseStrategy(spec, '--garp'), '--garp', 6);
  assert.throws(() => checkNodeStrategy(parseStrategy('na', '--garp'), '--garp', 4), /not for an IPv4 VIP/);
  checkNodeStrategy(parseStrategy('default', '--garp'), '--garp', 4);
});

test('a spec of several forms: each part its own options, no part twice, no alias or external sender inside', () => {
  const s = parseStrategy('na:count=5,interval=200ms+directed:via=na', '--garp');
  assert.deepEqual(s.parts?.map((p) => [p.form, p.bursts[0], p.intervalMs]), [['na', 5, 200], ['directed', 3, 1000]]);
  assert.equal(parseStrategy('request:count=5+5@5s').parts, undefined, 'the + of a multi-burst count is no part separator');
  assert.throws(() => parseStrategy('na+na:count=2', '--garp'), /na is listed twice/);
  assert.throws(() => parseStrategy('na+default', '--garp'), /names a whole strategy/);
  assert.throws(() => parseStrategy('na+bogus', '--garp'), /unknown form "bogus"/);
  assert.throws(() => checkNodeStrategy(parseStrategy('both+arping', '--garp'), '--garp', 4), /arping runs an external program, which a node runs alone/);
});
