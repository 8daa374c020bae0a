/** The lab's ping-node and separate-heartbeat-link pieces without namespaces: addressing, fault parsing, rules, ha.cf. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heartbeatSubnet, parseSubnet } from '../../src/effects/lab/addressing.js';
import { parseFault } from '../../src/effects/lab/faults.js';
import { pingBlockRuleset } from '../../src/effects/lab/ping-faults.js';
import { labHaConfig } from '../../src/effects/lab/managers/ha-d.js';
import { writeHaConfig } from '../../src/models/config/writer.js';
import { analyzeHaCf } from '../../src/models/config/hacf.js';
import { parseTimers } from '../../src/effects/lab/timers.js';
import type { LabHost, LabState } from '../../src/effects/lab/types.js';

const host = (name: string, n: number): LabHost => ({
  name, role: 'server', netns: `hadiag-t1-${name}`, ifname: 'hdt1-eth0', bridgePort: `hdt1-p${n}`, mac: '02:48:44:00:00:0b', address: `198.18.0.1${n}`, dir: `/tmp/${name}`,
  hb: { ifname: 'hdt1-hb0', address: `198.19.0.1${n}`, bridgePort: `hdt1-h${n}` },
});

const lab = (): LabState => ({
  version: 1, id: 't1', dir: '/tmp/t1', createdAtMs: 0, ready: true, subnet: '198.18.0.0/24', prefixLen: 24, broadcast: '198.18.0.255', vip: '198.18.0.20',
  manager: 'hadiag', timers: { ...parseTimers('fast'), summary: '', settings: {} }, bridgeNetns: 'hadiag-t1-br', bridge: 'hdt1-br',
  hosts: [host('server1', 1), host('server2', 2)], net: { partition: false, loss: {}, pingBlocked: ['server1'] }, faults: [], pingNode: '198.18.0.1',
});

test('the heartbeat subnet is the other half of 198.18.0.0/15; a /15 lab has no room for one', () => {
  assert.deepEqual(heartbeatSubnet(parseSubnet('198.18.0.0/24')), { network: '198.19.0.0', prefixLen: 24 });
  assert.deepEqual(heartbeatSubnet(parseSubnet('198.19.4.0/24')), { network: '198.18.4.0', prefixLen: 24 });
  assert.throws(() => heartbeatSubnet(parseSubnet('198.18.0.0/15')), /no room/);
});

test('the ping faults parse; the rule drops only the blocked host\'s frames to the ping node', () => {
  for (const k of ['client-link-down', 'ping-node-unreachable', 'ping-node-reachable']) assert.equal(parseFault(k).kind, k);
  const rules = pingBlockRuleset(lab());
  assert.match(rules, /type filter hook input priority 0/);
  assert.match(rules, /iifname "hdt1-p1" ip daddr 198\.18\.0\.1 counter drop/);
  assert.doesNotMatch(rules, /hdt1-p2/);
});

test('ha.cf of a --heartbeat-link separate --ping-node lab: bcast on the heartbeat link, ping .1, ipfail; it reads back clean', () => {
  const texts = writeHaConfig(labHaConfig(lab(), host('server1', 1), { comment: 'test', logging: { logfile: '/tmp/ha-log' } }));
  assert.match(texts.hacf, /^bcast hdt1-hb0$/m);
  assert.match(texts.hacf, /^ping 198\.18\.0\.1$/m);
  assert.match(texts.hacf, /^respawn hacluster \/usr\/libexec\/heartbeat\/ipfail$/m);
  const { hacf, diagnostics } = analyzeHaCf(texts.hacf);
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(hacf.ipfail, true);
  assert.deepEqual(hacf.pingNodes.map((p) => p.name), ['198.18.0.1']);
  assert.match(texts.haresources, /\/hdt1-eth0$/m, 'the VIP stays on the client-facing link');
});
