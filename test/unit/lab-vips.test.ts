import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientVipsFor, parseFamilies, parseSubnet, planVips } from '../../src/effects/lab/addressing.js';
import { resolveClientProfiles, profileSysctls, getProfile6 } from '../../src/models/lab/profiles.js';
import { keepalivedConf, keepalivedSettings } from '../../src/effects/lab/managers/keepalived.js';
import { labResources, withoutDoubleColon } from '../../src/effects/lab/managers/ha-d.js';
import { writeHaresources } from '../../src/models/config/writer.js';
import { parseTimers } from '../../src/effects/lab/timers.js';
import { firstFleetOffset, liveFleets, neighLimits, planFleet } from '../../src/effects/lab/fleet.js';
import { labVips, type LabHost, type LabState } from '../../src/effects/lab/types.js';
import { HadiagError } from '../../src/core/errors.js';

const usage = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof HadiagError && e.kind === 'usage' && re.test(e.render()));

const s24 = parseSubnet('198.18.0.0/24');

test('--family: 4 and/or 6 in the order given, [4] by default; anything else refused', () => {
  assert.deepEqual(parseFamilies(undefined), [4]);
  assert.deepEqual(parseFamilies(['6']), [6]);
  assert.deepEqual(parseFamilies(['6', '4', '6']), [6, 4]);
  usage(() => parseFamilies(['5']), /--family 5 is not 4 or 6/);
});

test('--vips: M per family from .20 and 2001:db8::20, bounded by the subnet; clients round-robin', () => {
  const v = planVips(s24, [4, 6], 3);
  assert.deepEqual(v.map((x) => `${x.address}/${x.prefixLen}`), ['198.18.0.20/24', '198.18.0.21/24', '198.18.0.22/24', '2001:db8::20/64', '2001:db8::21/64', '2001:db8::22/64']);
  assert.equal(planVips(s24, [6], 12)[11]!.address, '2001:db8::2b');
  assert.equal(planVips(s24, [4], 235).length, 235);
  usage(() => planVips(s24, [4], 236), /236 VIPs do not fit.*--subnet 198\.18\.0\.0\/23/);
  assert.equal(planVips(s24, [6], 500).length, 500); // IPv6 only: the /24 does not bound it
  usage(() => planVips(s24, [4], 0), /--vips 0/);
  assert.deepEqual([0, 1, 2, 3].map((i) => clientVipsFor(v, i)), [
    ['198.18.0.20', '2001:db8::20'], ['198.18.0.21', '2001:db8::21'], ['198.18.0.22', '2001:db8::22'], ['198.18.0.20', '2001:db8::20'],
  ]);
});

test('older state files read as one IPv4 VIP; the fleet starts after the VIPs', () => {
  assert.deepEqual(labVips({ vip: '198.18.0.20', prefixLen: 24 }), [{ family: 4, address: '198.18.0.20', prefixLen: 24 }]);
  assert.equal(firstFleetOffset({}), 256);
  const s22 = parseSubnet('198.18.0.0/22');
  const vips = planVips(s22, [4], 300);
  assert.equal(firstFleetOffset({ vips }), 512);
  assert.equal(planFleet({ id: 'x', subnet: '198.18.0.0/22', prefixLen: 22, vips }, { count: 2, vips: ['198.18.0.20'] })[0]!.address, '198.18.2.0');
});

test('client profiles per family: NAME+NAME, linux-default for a family nobody chose, refusals', () => {
  assert.deepEqual(Object.fromEntries(Object.entries(resolveClientProfiles('garp-filtered+drop-unsolicited-na', [4, 6])).map(([k, p]) => [k, p!.name])), { v4: 'garp-filtered', v6: 'drop-unsolicited-na' });
  assert.deepEqual(Object.fromEntries(Object.entries(resolveClientProfiles('forwarding-untracked', [4, 6])).map(([k, p]) => [k, p!.name])), { v4: 'linux-default', v6: 'forwarding-untracked' });
  assert.equal(resolveClientProfiles('linux-default', [6]).v4, undefined);
  usage(() => resolveClientProfiles('drop-unsolicited-na', [4]), /IPv6 behaviour and this lab has no IPv6 VIP/);
  usage(() => resolveClientProfiles('tuned', [6]), /IPv4 behaviour and this lab has no IPv4 VIP/);
  usage(() => resolveClientProfiles('tuned+drop-gratuitous', [4, 6]), /two IPv4 profiles/);
  usage(() => resolveClientProfiles('paranoid', [4]), /unknown client profile "paranoid"/);
  assert.deepEqual(profileSysctls(getProfile6('forwarding-untracked'), 'e0', { retrans_time_ms: 250 }), {
    'net.ipv6.conf.e0.forwarding': 1, 'net.ipv6.conf.e0.accept_untracked_na': 1, 'net.ipv6.neigh.e0.retrans_time_ms': 250,
  });
});

const lab = (families: (4 | 6)[], m: number): LabState => ({
  id: 'u1', prefixLen: 24, broadcast: '198.18.0.255', timers: { ...parseTimers('fast'), summary: '', settings: {} }, families, vips: planVips(s24, families, m), vip: '',
} as unknown as LabState);
const host = { name: 'server1', ifname: 'hdu1-eth0' } as LabHost;

test('keepalived: one vrrp_instance per family in a sync group; past 20 addresses the rest are excluded from adverts', () => {
  const conf = keepalivedConf(lab([4, 6], 2), host, keepalivedSettings(parseTimers('fast')));
  assert.match(conf, /vrrp_sync_group VG_1 \{\n  group \{\n    VI_4\n    VI_6\n/);
  assert.match(conf, /vrrp_instance VI_4 \{[^}]*virtual_router_id 20[^}]*198\.18\.0\.20\/24 brd 198\.18\.0\.255 dev hdu1-eth0\n    198\.18\.0\.21\/24/);
  assert.match(conf, /vrrp_instance VI_6 \{[^}]*virtual_router_id 21[^}]*2001:db8::20\/64 dev hdu1-eth0\n    2001:db8::21\/64 dev hdu1-eth0\n  \}/);
  const one = keepalivedConf(lab([6], 1), host, keepalivedSettings(parseTimers('fast')));
  assert.doesNotMatch(one, /vrrp_sync_group|VI_4/);
  const many = keepalivedConf(lab([4], 25), host, keepalivedSettings(parseTimers('fast')));
  assert.match(many, /198\.18\.0\.39\/24[^\n]*\n  \}\n  virtual_ipaddress_excluded \{\n    198\.18\.0\.40\/24/);
  assert.match(many, /198\.18\.0\.44\/24[^\n]*\n  \}\n\}/);
});

test('haresources: every VIP in one group, IPv6addr written without "::" (Heartbeat splits tokens there)', () => {
  assert.equal(withoutDoubleColon('2001:db8::20'), '2001:db8:0:0:0:0:0:20');
  assert.equal(writeHaresources([{ node: 'server1', resources: labResources(lab([4, 6], 2), 'eth0') }]),
    'server1 IPaddr::198.18.0.20/255.255.255.0/eth0 IPaddr::198.18.0.21/255.255.255.0/eth0 IPv6addr::2001:db8:0:0:0:0:0:20/64/eth0 IPv6addr::2001:db8:0:0:0:0:0:21/64/eth0\n');
});

test('neighbour limits shared by parallel fleets: the sum of their needs over the machine values; dead fleets dropped', () => {
  const original = { gc_thresh1: 128, gc_thresh2: 512, gc_thresh3: 1024 };
  assert.deepEqual(neighLimits({ original, fleets: {} }), original, 'no fleet: the machine values');
  const two = { original, fleets: { '100:aa': 500, '200:bb': 100 } };
  assert.deepEqual(neighLimits(two), { gc_thresh1: 856, gc_thresh2: 1712, gc_thresh3: 3424 }, '1024 + 4 × 600 clients');
  const alive = liveFleets(two, (pid) => pid === 200);
  assert.deepEqual(alive.fleets, { '200:bb': 100 }, 'the fleet of a dead process (kill -9) leaves the ledger');
  assert.deepEqual(neighLimits(alive), { gc_thresh1: 356, gc_thresh2: 712, gc_thresh3: 1424 });
  assert.deepEqual(liveFleets(two, () => false).original, original, 'all gone: the originals are what is put back');
});
