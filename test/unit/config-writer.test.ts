/** The one ha.d writer: the parsers read back exactly what it wrote (examples, the lab's files, properties). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseHaCf, type HaCf } from '../../src/models/config/hacf.js';
import { parseHaresources, type ResourceGroup } from '../../src/models/config/haresources.js';
import { parseAuthkeys, type Authkeys } from '../../src/models/config/authkeys.js';
import {
  writeAuthkeys,
  writeHaCf,
  writeHaConfig,
  writeHaresources,
  type AuthkeysSettings,
  type HaCfSettings,
  type MediumSettings,
  type ResourceGroupSettings,
  type ResourceSettings,
} from '../../src/models/config/writer.js';
import { labHaConfig } from '../../src/effects/lab/managers/ha-d.js';
import { parseTimers } from '../../src/effects/lab/timers.js';
import type { LabHost, LabState } from '../../src/effects/lab/types.js';

/** What ha.cf holds of the settings, as the parser reports it. */
function hacfBack(cf: HaCf, s: HaCfSettings) {
  return {
    keepaliveMs: cf.keepaliveMs,
    deadtimeMs: cf.deadtimeMs,
    ...(s.warntimeMs !== undefined ? { warntimeMs: cf.warntimeMs } : {}),
    ...(s.initdeadMs !== undefined ? { initdeadMs: cf.initdeadMs } : {}),
    ...(s.udpport !== undefined ? { udpport: cf.udpport } : {}),
    ...(cf.logfile !== undefined ? { logfile: cf.logfile } : {}),
    ...(cf.logfacility !== undefined ? { logfacility: cf.logfacility } : {}),
    ...(cf.useLogd !== undefined ? { useLogd: cf.useLogd } : {}),
    media: cf.media.map(({ line: _line, ...m }) => m),
    autoFailback: cf.autoFailback,
    nodes: cf.nodes,
  };
}

function hacfWanted(s: HaCfSettings) {
  const port = s.udpport ?? 694;
  const { comment: _c, crmNo: _crm, media, ...rest } = s;
  return { ...rest, media: media.map((m) => (m.kind === 'mcast' ? m : { ...m, port })) };
}

const groupsBack = (groups: ResourceGroup[]) =>
  groups.map((g) => ({ node: g.node, resources: g.resources.map(({ raw: _raw, ...r }) => r) }));

function groupsWanted(groups: ResourceGroupSettings[]) {
  return groups.map((g) => ({
    node: g.node,
    resources: g.resources.map((r) => {
      if (r.kind === 'script') return r;
      const { mask: _mask, agent, ...ip } = r;
      return { kind: 'ip' as const, agent: agent ?? 'IPaddr', ...Object.fromEntries(Object.entries(ip).filter(([, v]) => v !== undefined)) };
    }),
  }));
}

const keysBack = (a: Authkeys) => ({ active: a.active.index, keys: [...a.keys.values()].map((k) => ({ index: k.index, method: k.method, key: k.key })) });
const keysWanted = (s: AuthkeysSettings) => ({ active: s.active, keys: s.keys.map((k) => ({ index: k.index, method: k.method, key: k.method === 'crc' ? '' : k.key })) });

test('the heartbeat and hadiag lab rows: the field report’s files, auto_failback from the lab state, read back', () => {
  const host = { name: 'server1', ifname: 'hdab-eth0', dir: '/run/hadiag/labs/ab/server1' } as LabHost;
  for (const autoFailback of [undefined, 'on', 'off', 'legacy'] as const) {
    const lab = { id: 'ab', vip: '198.18.0.20', prefixLen: 24, timers: { ...parseTimers('classic'), summary: '', settings: {} }, autoFailback } as LabState;
    const hb = writeHaConfig(labHaConfig(lab, host, { comment: 'heartbeat row', logging: { logfile: '/run/ha-log', logfacility: 'none', useLogd: false }, crmNo: true }));
    assert.equal(
      hb.hacf,
      `# heartbeat row\nlogfile /run/ha-log\nlogfacility none\nuse_logd false\nkeepalive 1\ndeadtime 5\nwarntime 3\ninitdead 10\nudpport 694\nbcast hdab-eth0\nauto_failback ${autoFailback ?? 'on'}\ncrm no\nnode server1\nnode server2\n`,
    );
    assert.equal(hb.haresources, 'server1 IPaddr::198.18.0.20/255.255.255.0/hdab-eth0\n');
    assert.equal(hb.authkeys, 'auth 2\n2 sha1 pass\n');
    const hd = writeHaConfig(labHaConfig(lab, host, { comment: 'hadiag row', logging: { logfile: '/x/ha-log' }, vipNic: 'vmac0' }));
    const cf = parseHaCf(hd.hacf);
    assert.equal(cf.autoFailback, autoFailback ?? 'on', 'the hadiag row no longer hard-codes auto_failback on');
    assert.deepEqual([cf.keepaliveMs, cf.deadtimeMs, cf.warntimeMs, cf.initdeadMs, cf.logfile], [1000, 5000, 3000, 10_000, '/x/ha-log']);
    assert.deepEqual(groupsBack(parseHaresources(hd.haresources)), [{ node: 'server1', resources: [{ kind: 'ip', agent: 'IPaddr', ip: '198.18.0.20', prefixLen: 24, nic: 'vmac0' }] }]);
    assert.equal(parseAuthkeys(hd.authkeys).active.key, 'pass');
  }
  const fast = { id: 'ab', vip: '198.18.0.20', prefixLen: 24, timers: { ...parseTimers('fast'), summary: '', settings: {} } } as LabState;
  assert.match(writeHaConfig(labHaConfig(fast, host, { comment: 'c', logging: {} })).hacf, /^keepalive 200ms\ndeadtime 1\nwarntime 600ms\ninitdead 2\n/m);
});

test('writer: Heartbeat syntax for every kind of line', () => {
  const text = writeHaCf({
    keepaliveMs: 1500,
    deadtimeMs: 10_000,
    udpport: 1001,
    media: [
      { kind: 'bcast', iface: 'eth0' },
      { kind: 'mcast', iface: 'eth1', group: '239.0.0.94', port: 694, ttl: 1, loop: true },
      { kind: 'ucast', iface: 'eth0', peer: '10.0.0.12' },
    ],
    autoFailback: 'off',
    nodes: ['a', 'b'],
  });
  assert.equal(text, 'keepalive 1500ms\ndeadtime 10\nudpport 1001\nbcast eth0\nmcast eth1 239.0.0.94 694 1 1\nucast eth0 10.0.0.12\nauto_failback off\nnode a\nnode b\n');
  const res: ResourceGroupSettings[] = [
    { node: 'a', resources: [{ kind: 'ip', agent: 'IPaddr2', ip: '10.0.0.20', prefixLen: 24, nic: 'eth0', label: '0', broadcast: '10.0.0.255' }, { kind: 'script', name: 'Filesystem', args: ['/dev/sdb1', '/data', 'ext4'] }] },
    { node: 'b', resources: [{ kind: 'ip', ip: '10.0.0.21' }, { kind: 'ip', ip: '10.0.0.22', broadcast: '10.0.0.255' }] },
  ];
  assert.equal(writeHaresources(res), 'a IPaddr2::10.0.0.20/24/eth0:0/10.0.0.255 Filesystem::/dev/sdb1::/data::ext4\nb IPaddr::10.0.0.21 IPaddr::10.0.0.22///10.0.0.255\n');
  assert.deepEqual(groupsBack(parseHaresources(writeHaresources(res))), groupsWanted(res));
  assert.equal(writeAuthkeys({ active: 1, keys: [{ index: 1, method: 'md5', key: 'k' }, { index: 3, method: 'crc' }] }), 'auth 1\n1 md5 k\n3 crc\n');
});

test('writer: values ha.d files cannot hold are refused, not written wrong', () => {
  const base: HaCfSettings = { keepaliveMs: 1000, deadtimeMs: 5000, media: [{ kind: 'bcast', iface: 'eth0' }], autoFailback: 'on', nodes: ['a', 'b'] };
  assert.throws(() => writeHaCf({ ...base, nodes: ['a b'] }), /node name "a b"/);
  assert.throws(() => writeHaCf({ ...base, nodes: ['a,b'] }), /node name "a,b"/);
  assert.throws(() => writeHaCf({ ...base, logfile: '/var/log/ha#1' }), /logfile/);
  assert.throws(() => writeHaCf({ ...base, keepaliveMs: 0.5 }), /whole milliseconds/);
  assert.throws(() => writeHaCf({ ...base, comment: ['two\nlines'] }), /spans lines/);
  assert.throws(() => writeAuthkeys({ active: 2, keys: [{ index: 2, method: 'sha1', key: 'with space' }] }), /key 2/);
  assert.throws(() => writeAuthkeys({ active: 2, keys: [{ index: 2, method: 'sha1' }] }), /key 2/);
  assert.throws(() => writeHaresources([{ node: 'a', resources: [{ kind: 'ip', ip: '10.0.0.20', label: '0' }] }]), /needs an interface/);
});

// ---- properties: whatever valid settings go in, the parsers read the same back

/** Plain data (fast-check's records have no prototype; undefined fields are not written). */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const iface = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/);
const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), octet, octet, octet).map((p) => p.join('.'));
const group = fc.tuple(fc.integer({ min: 224, max: 239 }), octet, octet, octet).map((p) => p.join('.'));
const port = fc.integer({ min: 1, max: 65535 });

const medium: fc.Arbitrary<MediumSettings> = fc.oneof(
  fc.record({ kind: fc.constant('bcast' as const), iface }),
  fc.record({ kind: fc.constant('mcast' as const), iface, group, port, ttl: fc.integer({ min: 1, max: 255 }), loop: fc.boolean() }),
  fc.record({ kind: fc.constant('ucast' as const), iface, peer: ipv4 }),
);

const hacfSettings: fc.Arbitrary<HaCfSettings> = fc
  .record({
    keepaliveMs: fc.integer({ min: 1, max: 5000 }),
    deadExtra: fc.integer({ min: 1, max: 60_000 }),
    warnAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    initdeadExtra: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
    udpport: fc.option(port, { nil: undefined }),
    logfile: fc.option(fc.stringMatching(/^\/[a-z0-9/._-]{1,20}$/), { nil: undefined }),
    logfacility: fc.option(fc.constantFrom('daemon', 'local0', 'local7', 'none'), { nil: undefined }),
    useLogd: fc.option(fc.boolean(), { nil: undefined }),
    media: fc.array(medium, { minLength: 1, maxLength: 4 }),
    autoFailback: fc.constantFrom('on' as const, 'off' as const, 'legacy' as const),
    crmNo: fc.boolean(),
    nodes: fc.uniqueArray(name, { minLength: 1, maxLength: 4 }),
    comment: fc.array(fc.stringMatching(/^[^\r\n]{0,30}$/), { maxLength: 2 }),
  })
  .map(({ deadExtra, warnAt, initdeadExtra, ...r }) => {
    const deadtimeMs = 2 * r.keepaliveMs + deadExtra;
    const s: HaCfSettings = { ...r, deadtimeMs };
    if (warnAt !== undefined) s.warntimeMs = 1 + Math.floor(warnAt * (deadtimeMs - 2));
    if (initdeadExtra !== undefined) s.initdeadMs = deadtimeMs + initdeadExtra;
    for (const k of ['udpport', 'logfile', 'logfacility', 'useLogd'] as const) if (s[k] === undefined) delete s[k];
    return s;
  });

const resource: fc.Arbitrary<ResourceSettings> = fc.oneof(
  fc
    .record({
      agent: fc.option(fc.constantFrom('IPaddr' as const, 'IPaddr2' as const), { nil: undefined }),
      prefixLen: fc.option(fc.integer({ min: 1, max: 32 }), { nil: undefined }),
      mask: fc.constantFrom('prefix' as const, 'dotted' as const),
      nic: fc.option(iface, { nil: undefined }),
      label: fc.option(fc.stringMatching(/^[a-z0-9]{1,4}$/), { nil: undefined }),
      broadcast: fc.option(ipv4, { nil: undefined }),
    })
    .map((r) => ({ kind: 'ip' as const, ip: '', ...r, label: r.nic === undefined ? undefined : r.label })),
  fc.record({
    kind: fc.constant('script' as const),
    name: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,10}$/).filter((n) => n !== 'IPaddr' && n !== 'IPaddr2'),
    args: fc.array(fc.stringMatching(/^[A-Za-z0-9_./-]{1,10}$/), { maxLength: 3 }),
  }),
);

/** Groups with a distinct VIP per IP resource (haresources lists each VIP once). */
const groups: fc.Arbitrary<ResourceGroupSettings[]> = fc.array(fc.record({ node: name, resources: fc.array(resource, { maxLength: 3 }) }), { minLength: 1, maxLength: 3 }).map((gs) => {
  let n = 0;
  return gs.map((g) => ({ ...g, resources: g.resources.map((r) => (r.kind === 'ip' ? { ...r, ip: `10.${n >> 8}.${n++ & 0xff}.20` } : r)) }));
});

const authkeys: fc.Arbitrary<AuthkeysSettings> = fc
  .uniqueArray(
    fc.record({ index: fc.integer({ min: 0, max: 15 }), method: fc.constantFrom('sha1' as const, 'md5' as const, 'crc' as const), key: fc.stringMatching(/^[!-"$-+\--~]{1,20}$/) }),
    { minLength: 1, maxLength: 5, selector: (k) => k.index },
  )
  .chain((keys) => fc.constantFrom(...keys.map((k) => k.index)).map((active) => ({ active, keys: keys.map((k) => (k.method === 'crc' ? { index: k.index, method: k.method } : k)) })));

test('property: parseHaCf(writeHaCf(settings)) gives the settings back', () => {
  fc.assert(
    fc.property(hacfSettings, (s) => {
      assert.deepEqual(hacfBack(parseHaCf(writeHaCf(s)), s), plain(hacfWanted(s)));
    }),
    { numRuns: 300 },
  );
});

test('property: parseHaresources(writeHaresources(groups)) gives the groups back', () => {
  fc.assert(
    fc.property(groups, (gs) => {
      assert.deepEqual(groupsBack(parseHaresources(writeHaresources(gs))), plain(groupsWanted(gs)));
    }),
    { numRuns: 300 },
  );
});

test('property: parseAuthkeys(writeAuthkeys(keys)) gives the keys back', () => {
  fc.assert(
    fc.property(authkeys, (s) => {
      assert.deepEqual(keysBack(parseAuthkeys(writeAuthkeys(s))), plain(keysWanted(s)));
    }),
    { numRuns: 300 },
  );
});
