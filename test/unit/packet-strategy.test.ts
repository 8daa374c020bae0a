import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { announcementLanguage, parseStrategy, planAnnouncements, planSpanMs, StrategyLanguage } from '../../src/models/strategy/language.js';
import { announcementForms } from '../../src/models/strategy/forms.js';
import { HadiagError } from '../../src/core/errors.js';
import { parsePcap } from '../../src/codecs/pcap.js';

const ctx = { vip: '198.18.0.20', mac: '02:00:c6:12:00:0c' };

test('both:count=10,interval=250ms reproduces the real Heartbeat IPaddr takeover byte for byte and in timing', () => {
  const plan = planAnnouncements(parseStrategy('both:count=10,interval=250ms'), ctx);
  const rec = parsePcap(readFileSync(new URL('../fixtures/garp-emitters/heartbeat-IPaddr-takeover.pcap', import.meta.url))).records.slice(0, 20);
  assert.equal(plan.length, 20);
  plan.forEach((p, i) => {
    assert.deepEqual(p.frame, rec[i]!.data, `frame ${i}`);
    const real = rec[i]!.tsMs - rec[0]!.tsMs;
    assert.ok(Math.abs(real - p.offsetMs) < 30, `frame ${i}: planned +${p.offsetMs} ms, real +${real.toFixed(1)} ms`);
  });
  assert.equal(planSpanMs(plan), 4750);
});

test('bursts: request:count=5+5@5s is keepalived (two bursts of back-to-back requests 5 s apart)', () => {
  const s = parseStrategy('request:count=5+5@5s,target=bcast');
  assert.deepEqual(s.bursts, [5, 5]);
  assert.equal(s.gapMs, 5000);
  assert.equal(s.intervalMs, 0);
  const plan = planAnnouncements(s, ctx);
  assert.deepEqual(plan.map((p) => p.offsetMs), [0, 0, 0, 0, 0, 5000, 5000, 5000, 5000, 5000]);
  assert.match(plan[7]!.label, /8\/10 \(burst 2\)/);
  assert.equal(plan[0]!.frame.subarray(32, 38).toString('hex'), 'ffffffffffff');
});

test('defaults, targets, directed and unicast-reply', () => {
  const r = parseStrategy('reply');
  assert.deepEqual([r.bursts, r.intervalMs, r.target], [[3], 1000, undefined]);
  assert.equal(planAnnouncements(parseStrategy('reply:target=zero,count=1'), ctx)[0]!.frame.subarray(32, 38).toString('hex'), '000000000000');
  const d = planAnnouncements(parseStrategy('directed:198.18.0.5,count=2,interval=100ms'), ctx);
  assert.deepEqual(d.map((p) => p.offsetMs), [0, 100]);
  assert.equal(d[0]!.frame.subarray(38, 42).join('.'), '198.18.0.5');
  const all = planAnnouncements(parseStrategy('directed:count=1'), { ...ctx, clients: [{ ip: '198.18.0.5' }, { ip: '198.18.0.6' }] });
  assert.equal(all.length, 2);
  const u = planAnnouncements(parseStrategy('unicast-reply:198.18.0.5@02:00:c6:12:00:05,count=1'), ctx);
  assert.equal(u[0]!.frame.subarray(0, 6).toString('hex'), '0200c6120005');
  const u2 = planAnnouncements(parseStrategy('unicast-reply:198.18.0.5,count=1'), { ...ctx, clients: [{ ip: '198.18.0.5', mac: '02:00:c6:12:00:05' }] });
  assert.deepEqual(u2[0]!.frame, u[0]!.frame);
  assert.throws(() => planAnnouncements(parseStrategy('unicast-reply:198.18.0.9'), ctx), /MAC of client 198\.18\.0\.9 is not known/);
  const v = planAnnouncements(parseStrategy('request:count=1,vlan=7'), ctx);
  assert.equal(v[0]!.frame.readUInt16BE(12), 0x8100);
});

test('refresh repeats the plan up to the horizon', () => {
  const plan = planAnnouncements(parseStrategy('request:count=2,interval=100ms,refresh=1s'), { ...ctx, untilMs: 2500 });
  assert.deepEqual(plan.map((p) => p.offsetMs), [0, 100, 1000, 1100, 2000, 2100]);
});

test('errors name the bad part', () => {
  const cases: [string, RegExp][] = [
    ['', /is empty/],
    ['requst', /unknown form "requst".*did you mean request/],
    ['request:count=x', /count "x" is not N or N\+M@GAP/],
    ['request:count=5+5', /several bursts but no @GAP/],
    ['request:interval=250', /interval "250" has no unit.*250ms/],
    ['request:interval=fast', /interval "fast" is not a duration/],
    ['reply:target=everyone', /target "everyone" is not bcast, zero or own/],
    ['request:colour=red', /unknown option "colour"/],
    ['request:198.18.0.5', /"198\.18\.0\.5" is not OPTION=VALUE/],
    ['directed:10.0.0.300', /"10\.0\.0\.300" is not an IPv4 or IPv6 address/],
    ['unicast-reply:198.18.0.5@zz', /"zz" is not a MAC address/],
    ['request:count=3,count=4', /given twice/],
    ['request:count=10+1@1s,interval=200ms', /lasts longer than the gap/],
    ['both:', /nothing after "both:"/],
    ['request:count=0', /1–1000/],
  ];
  for (const [spec, re] of cases) {
    assert.throws(
      () => parseStrategy(spec),
      (e: unknown) => e instanceof HadiagError && e.kind === 'usage' && re.test(e.render()) && e.render().includes('--send'),
      `${spec} should fail with ${re}`,
    );
  }
});

test('new forms plug in through the form list a StrategyLanguage is given; the announcement language is unchanged', () => {
  const withNoop = new StrategyLanguage([...announcementForms(), { name: 'test-noop', summary: 'nothing', arg: 'none', options: ['x'], round: () => [] }]);
  const s = withNoop.parse('test-noop:x=1,count=2');
  assert.equal(s.options.x, '1');
  assert.deepEqual(withNoop.plan(s, ctx), []);
  assert.throws(() => parseStrategy('test-noop'), /unknown form "test-noop"/);
  assert.throws(() => new StrategyLanguage([...announcementForms(), announcementForms()[0]!]), /"request" is listed twice/);
});

test('the announcement language has every form, listed in errors', () => {
  const all = ['request', 'reply', 'both', 'directed', 'unicast-reply', 'answer-probes', 'vmac', 'arping', 'send_arp', 'na'];
  assert.deepEqual(announcementLanguage.formNames(), all);
  assert.throws(
    () => parseStrategy('bogus', '--garp'),
    (e: unknown) => e instanceof HadiagError && e.kind === 'usage' && e.render().includes('unknown form "bogus"') && e.render().includes(`use one of: ${all.join(', ')}`),
  );
});
