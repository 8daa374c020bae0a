import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostModel, stockClientVerdicts } from '../../src/models/resolution/host-model.js';
import { SendTracker } from '../../src/effects/announce/sender.js';
import { buildAudit } from '../../src/models/resolution/audit.js';
import { formatAudit } from '../../src/commands/render/garp.js';
import { buildGarp } from '../../src/codecs/arp.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { parseStrategy, planAnnouncements } from '../../src/models/strategy/language.js';
import { parseNftJson } from '../../src/models/resolution/nft-arp-filter.js';
import type { NeighSysctls } from '../../src/models/resolution/host-state.js';

const VIP = '198.18.0.20';
const NEW = '02:00:00:00:00:12';
const OLD = '02:00:00:00:00:11';
const facts = { iface: 'eth0', mac: '02:00:00:00:00:05', ipv4: [{ ip: '198.18.0.5', prefixLen: 24 }], arpAccept: 0, arpIgnore: 0, dropGratuitousArp: false, locktimeMs: 1000 };

test('HostModel: tracks the entry through predictions, locktime from its own change times, observe() resyncs', () => {
  const m = new HostModel(facts);
  m.observe(VIP, { state: 'REACHABLE', mac: OLD }, 10_000, 5000);
  const reply0 = decodeFrame(buildGarp('reply', { vip: VIP, mac: NEW, arpTarget: 'zero' }));
  const p1 = m.predict(reply0, 10_000)!;
  assert.deepEqual([p1.outcome, p1.stateAfter], ['update', 'STALE']);
  m.apply(VIP, p1, 10_000);
  // the same frame form from a third MAC 300 ms later is inside locktime
  const other = decodeFrame(buildGarp('reply', { vip: VIP, mac: '02:00:00:00:00:13', arpTarget: 'zero' }));
  const p2 = m.predict(other, 10_300)!;
  assert.equal(p2.outcome, 'ignore');
  assert.match(p2.reason, /300 ms ago/);
  // frames this host sent itself are not predicted
  assert.equal(m.predict(decodeFrame(buildGarp('request', { vip: VIP, mac: facts.mac })), 10_400), undefined);
  // the kernel says otherwise: observe wins
  m.observe(VIP, { state: 'DELAY', mac: NEW }, 11_000, 0);
  assert.deepEqual(m.entry(VIP), { state: 'DELAY', mac: NEW, changedMs: 11_000, readMs: 11_000 });
  // with an ARP firewall rule that drops GARP requests for the VIP
  const rs = parseNftJson({ nftables: [
    { chain: { family: 'arp', table: 'f', name: 'in', hook: 'input', prio: 0, policy: 'accept' } },
    { rule: { family: 'arp', table: 'f', chain: 'in', handle: 2, expr: [{ match: { op: '==', left: { payload: { protocol: 'arp', field: 'daddr ip' } }, right: VIP } }, { drop: null }] } },
  ] });
  const fw = new HostModel({ ...facts, ruleset: rs });
  fw.observe(VIP, { state: 'STALE', mac: OLD }, 0, 5000);
  assert.match(fw.predict(decodeFrame(buildGarp('request', { vip: VIP, mac: NEW })), 100)!.reason, /firewall .*#2/);
});

test('stock client verdicts per form (what --send reports)', () => {
  const v = (f: Buffer) => { const x = stockClientVerdicts(decodeFrame(f))!; return [x.withEntry.outcome, x.noEntry.outcome]; };
  assert.deepEqual(v(buildGarp('request', { vip: VIP, mac: NEW })), ['update', 'ignore']);
  assert.deepEqual(v(buildGarp('reply', { vip: VIP, mac: NEW, arpTarget: 'bcast' })), ['update', 'ignore']);
  assert.deepEqual(v(buildGarp('directed', { vip: VIP, mac: NEW, targetIp: '198.18.0.5' })), ['update', 'create']);
  assert.deepEqual(v(buildGarp('unicast-reply', { vip: VIP, mac: NEW, targetIp: '198.18.0.5', targetMac: '02:00:00:00:00:05' })), ['update', 'ignore']);
});

test('SendTracker: sends on schedule, matches what a second handle saw, counts per form', async () => {
  const t = new SendTracker();
  t.add('both:count=2,interval=20ms', planAnnouncements(parseStrategy('both:count=2,interval=20ms'), { vip: VIP, mac: NEW }));
  const sent: [number, Buffer][] = [];
  const start = Date.now();
  await t.run((f) => sent.push([Date.now() - start, f]), () => Date.now());
  assert.equal(sent.length, 4);
  assert.ok(sent[3]![0] >= 55, `last frame at ${sent[3]![0]} ms`);
  // the watching handle saw three of the four
  for (const [, f] of sent.slice(0, 3)) assert.ok(t.seen(Buffer.from(f), Date.now() + 1));
  assert.equal(t.seen(Buffer.from('nope'), 0), undefined);
  const rows = t.summary();
  assert.deepEqual(rows.map((r) => [r.form, r.sent, r.seen]), [['request (target MAC zero)', 2, 2], ['reply (target MAC own)', 2, 1]]);
  assert.equal(rows[0]!.stockWithEntry, 'updates → STALE');
});

test('audit: stock timers are a 53 s risk; drop_gratuitous_arp and a dropping firewall are named', () => {
  const sys: NeighSysctls = { iface: 'eth0', arpAccept: 0, arpIgnore: 0, arpAnnounce: 0, dropGratuitousArp: true, baseReachableTimeMs: 30000, delayFirstProbeTimeMs: 5000, retransTimeMs: 1000, ucastSolicit: 3, mcastSolicit: 3, mcastResolicit: 0, locktimeMs: 1000, gcStaleTimeMs: 60000 };
  const rs = parseNftJson({ nftables: [
    { chain: { family: 'arp', table: 'f', name: 'in', hook: 'input', prio: 0, policy: 'accept' } },
    { rule: { family: 'arp', table: 'f', chain: 'in', handle: 2, expr: [{ match: { op: '==', left: { payload: { protocol: 'arp', field: 'operation' } }, right: 'request' } }, { drop: null }] } },
  ] });
  const a = buildAudit({ sysctls: sys, iface: { iface: 'eth0', mac: facts.mac, up: true, ipv4: facts.ipv4 }, firewall: { available: true, ruleset: rs }, vip: VIP, entry: { ip: VIP, state: 'REACHABLE', mac: OLD, updatedS: 3 } });
  assert.equal(a.deadMac.maxMs, 53_000);
  assert.equal(a.firewall.garpRequest!.verdict, 'drop');
  assert.equal(a.firewall.garpReply!.verdict, 'accept');
  assert.ok(a.risks.some((r) => /drop_gratuitous_arp=1/.test(r)));
  assert.ok(a.risks.some((r) => /firewall drops a GARP request/.test(r)));
  const text = formatAudit(a);
  assert.match(text, /worst case +up to 53 s on a dead MAC/);
  assert.match(text, /entry for 198\.18\.0\.20 REACHABLE 02:00:00:00:00:11 \(changed 3 s ago\)/);
});
