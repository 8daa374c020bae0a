import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSubnet, planHosts, hostAddress, broadcastAddress } from '../../src/effects/lab/addressing.js';
import { parseTimers } from '../../src/effects/lab/timers.js';
import { longestOutage } from '../../src/models/measure/reply-gaps.js';
import { parseFault, bridgeRuleset } from '../../src/effects/lab/faults.js';
import { getProfile, profileSysctls, profileNftScript, parseNeighOverride, PROFILES } from '../../src/models/lab/profiles.js';
import { getManager } from '../../src/effects/lab/managers/index.js';
import { heartbeatSettings } from '../../src/effects/lab/managers/heartbeat.js';
import { keepalivedSettings } from '../../src/effects/lab/managers/keepalived.js';
import { ucarpSettings } from '../../src/effects/lab/managers/ucarp.js';
import { profilesFor } from '../../src/effects/lab/lab.js';
import { HadiagError } from '../../src/core/errors.js';
import type { LabState } from '../../src/effects/lab/types.js';

const usage = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof HadiagError && e.kind === 'usage' && re.test(e.render()));

test('lab addressing mirrors the field report inside 198.18.0.0/15', () => {
  const s = parseSubnet('198.18.0.0/24');
  const hosts = planHosts(s, 3);
  assert.deepEqual(hosts.map((h) => [h.name, h.address]), [
    ['server1', '198.18.0.11'], ['server2', '198.18.0.12'], ['client', '198.18.0.5'], ['client2', '198.18.0.6'], ['client3', '198.18.0.7'],
  ]);
  assert.equal(hostAddress(s, 20), '198.18.0.20');
  assert.equal(broadcastAddress(parseSubnet('198.19.4.0/23')), '198.19.5.255');
  usage(() => parseSubnet('10.0.0.0/24'), /outside the lab range/);
  usage(() => parseSubnet('198.18.0.1/24'), /host bits.*198\.18\.0\.0\/24/);
  usage(() => parseSubnet('198.18.0.0/28'), /not usable/);
  usage(() => planHosts(s, 7), /--clients 7/);
});

test('timer presets and custom KEEPALIVE/DEADTIME', () => {
  assert.deepEqual(parseTimers('classic'), { text: 'classic', preset: 'classic', keepaliveMs: 1000, deadtimeMs: 5000 });
  assert.equal(parseTimers('fast').keepaliveMs, 200);
  assert.deepEqual(parseTimers('500ms/3s'), { text: '500ms/3s', keepaliveMs: 500, deadtimeMs: 3000 });
  usage(() => parseTimers('1/5'), /no unit/);
  usage(() => parseTimers('5s/1s'), /not longer/);
  usage(() => parseTimers('quick'), /not understood/);
});

test('each manager maps timers to its own settings or refuses', () => {
  assert.deepEqual(heartbeatSettings(parseTimers('classic')), { keepalive: '1', deadtime: '5', warntime: '3', initdead: '10' });
  assert.deepEqual(heartbeatSettings(parseTimers('fast')), { keepalive: '200ms', deadtime: '1', warntime: '600ms', initdead: '2' });
  assert.equal(keepalivedSettings(parseTimers('classic')).advert_int, 1);
  assert.equal(keepalivedSettings(parseTimers('classic')).vrrp_version, 2);
  assert.equal(keepalivedSettings(parseTimers('fast')).vrrp_version, 3);
  assert.equal(keepalivedSettings(parseTimers('1s/3s')).advert_int, 1);
  usage(() => keepalivedSettings(parseTimers('1s/10s')), /3 × advert_int/);
  assert.deepEqual(ucarpSettings(parseTimers('classic')), { advbase: 1, deadratio: 3, masterDownMs: 3000 + (100 / 256) * 1000 });
  assert.equal(ucarpSettings(parseTimers('2s/6s')).deadratio, 3);
  usage(() => ucarpSettings(parseTimers('fast')), /advbase is whole seconds/);
  usage(() => getManager('nope'), /unknown manager "nope".*heartbeat, keepalived, ucarp/);
});

test('profiles: sysctls, nft rules, overrides, names', () => {
  assert.equal(PROFILES.length >= 6, true);
  assert.deepEqual(profileSysctls(getProfile('drop-gratuitous'), 'e0'), { 'net.ipv4.conf.e0.drop_gratuitous_arp': 1 });
  assert.deepEqual(profileSysctls(getProfile('linux-default'), 'e0', { base_reachable_time_ms: 2000 }), { 'net.ipv4.neigh.e0.base_reachable_time_ms': 2000 });
  assert.equal(profileSysctls(getProfile('tuned'), 'e0')['net.ipv4.neigh.e0.ucast_solicit'], 0);
  assert.match(profileNftScript(getProfile('garp-filtered'), '198.18.0.20')!, /arp saddr ip 198\.18\.0\.20 arp daddr ip 198\.18\.0\.20 counter drop/);
  assert.match(profileNftScript(getProfile('requests-filtered'), '198.18.0.20')!, /arp operation request/);
  assert.equal(profileNftScript(getProfile('accept-new'), '198.18.0.20'), undefined);
  usage(() => getProfile('paranoid'), /unknown client profile/);
  usage(() => parseNeighOverride('gc_thresh1=5'), /not understood/);
  assert.deepEqual(parseNeighOverride('delay_first_probe_time=1'), { delay_first_probe_time: 1 });
  assert.deepEqual(profilesFor(3, ['garp-filtered', 'tuned']), ['garp-filtered', 'tuned', 'tuned']);
  assert.deepEqual(profilesFor(2), ['linux-default', 'linux-default']);
});

test('faults parse, and the bridge ruleset follows partition/loss state', () => {
  assert.deepEqual(parseFault('primary-link-down'), { kind: 'link-down', primary: true });
  assert.deepEqual(parseFault('loss=30'), { kind: 'loss', value: 30 });
  assert.deepEqual(parseFault('stp-delay=0'), { kind: 'stp-delay', value: 0 });
  usage(() => parseFault('stp-delay=1'), /stp-delay=2 … stp-delay=30/);
  usage(() => parseFault('loss=120'), /more than 100/);
  usage(() => parseFault('unplug'), /unknown fault/);
  const lab = {
    hosts: [
      { name: 'server1', role: 'server', bridgePort: 'hdx-p1' },
      { name: 'server2', role: 'server', bridgePort: 'hdx-p2' },
      { name: 'client', role: 'client', bridgePort: 'hdx-p3' },
    ],
    net: { partition: true, loss: { client: 25 } },
  } as unknown as LabState;
  const rs = bridgeRuleset(lab);
  assert.match(rs, /iifname "hdx-p1" oifname "hdx-p2" counter drop/);
  assert.match(rs, /iifname "hdx-p2" oifname "hdx-p1" counter drop/);
  assert.match(rs, /oifname "hdx-p3" numgen random mod 100 < 25 counter drop/);
  lab.net = { partition: false, loss: {} };
  assert.doesNotMatch(bridgeRuleset(lab), /drop/);
});

test('the longest outage after a fault', () => {
  const r = [0, 10, 20, 30, 5030, 5040];
  assert.deepEqual(longestOutage(r, 25, 6000), { lastReplyMs: 30, firstReplyMs: 5030, ms: 5000, ongoing: false });
  assert.deepEqual(longestOutage([0, 10], 5, 4010), { lastReplyMs: 10, ms: 4000, ongoing: true });
  assert.equal(longestOutage([], 0, 100), undefined);
});
