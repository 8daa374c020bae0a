/** The lab's Pacemaker row: corosync.conf and CIB writers, the timer mapping and the node's shell. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeCorosyncConf } from '../../src/models/config/corosync-writer.js';
import { writeCib } from '../../src/models/config/cib-writer.js';
import { parseTimers } from '../../src/effects/lab/timers.js';
import { labCib, labCorosyncConf, nodeScript, pacemakerTimers } from '../../src/effects/lab/managers/pacemaker.js';
import { getManager } from '../../src/effects/lab/managers/index.js';
import { HadiagError } from '../../src/core/errors.js';
import type { LabHost, LabState } from '../../src/effects/lab/types.js';

const usage = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof HadiagError && e.kind === 'usage' && re.test(e.render()));

function server(n: number): LabHost {
  return { name: `server${n}`, role: 'server', netns: `hadiag-t1-server${n}`, ifname: 'hdt1-eth0', bridgePort: `hdt1-p${n}`, mac: `02:48:44:00:00:0${n === 1 ? 'b' : 'c'}`, address: `198.18.0.1${n}`, dir: `/run/hadiag/labs/t1/server${n}` };
}

function lab(timers: string): LabState {
  const spec = parseTimers(timers);
  return {
    version: 1, id: 't1', dir: '/run/hadiag/labs/t1', createdAtMs: 0, ready: false, subnet: '198.18.0.0/24', prefixLen: 24, broadcast: '198.18.0.255',
    vip: '198.18.0.20', manager: 'pacemaker', timers: { ...spec, summary: '', settings: {} }, bridgeNetns: 'hadiag-t1-br', bridge: 'hdt1-br',
    hosts: [server(1), server(2)], net: { partition: false, loss: {} }, faults: [],
  };
}

test('timers: classic = Corosync defaults, fast = token 1000, KEEPALIVE/DEADTIME = knet ping / token + consensus', () => {
  assert.deepEqual(pacemakerTimers(parseTimers('classic')), { tokenMs: 3000, consensusMs: 3600 });
  assert.deepEqual(pacemakerTimers(parseTimers('fast')), { tokenMs: 1000, consensusMs: 1200 });
  const t = pacemakerTimers(parseTimers('500ms/5s'));
  assert.equal(t.tokenMs + t.consensusMs, 5000);
  assert.ok(t.consensusMs >= 1.2 * t.tokenMs, 'Corosync refuses consensus below 1.2 × token');
  assert.deepEqual(t, { tokenMs: 2272, consensusMs: 2728, knetPingIntervalMs: 500, knetPingTimeoutMs: 1000 });
  usage(() => pacemakerTimers(parseTimers('1s/3s')), /cannot express keepalive 1 s with deadtime 3 s.*keepalive ≤ 0\.681 s/);
  usage(() => pacemakerTimers(parseTimers('100.5ms/3s')), /whole milliseconds/);
  const d = getManager('pacemaker').describeTimers(parseTimers('classic'));
  assert.match(d.summary, /token 3 s, consensus 3\.6 s.*6\.6 s/);
  assert.equal(d.settings['dc-deadtime'], '2s');
});

test('corosync.conf: knet, no crypto, the nodes, two_node, the timers written', () => {
  const text = labCorosyncConf(lab('fast'));
  for (const line of ['transport: knet', 'crypto_cipher: none', 'crypto_hash: none', 'token: 1000', 'consensus: 1200', 'two_node: 1', 'provider: corosync_votequorum', 'logfile: /var/log/corosync/corosync.log']) {
    assert.ok(text.includes(line), `${line} in\n${text}`);
  }
  assert.match(text, /node \{\n {4}ring0_addr: 198\.18\.0\.11\n {4}name: server1\n {4}nodeid: 1\n/);
  assert.match(text, /name: server2\n {4}nodeid: 2/);
  assert.doesNotMatch(text, /knet_ping/);
  assert.match(labCorosyncConf(lab('500ms/5s')), /interface \{\n {4}linknumber: 0\n {4}knet_ping_interval: 500\n {4}knet_ping_timeout: 1000\n/);
  const ok = { clusterName: 'c', nodes: [], timers: {}, twoNode: false, logfile: '/l' };
  assert.throws(() => writeCorosyncConf({ ...ok, clusterName: 'a b' }), /cannot hold cluster name/);
  assert.throws(() => writeCorosyncConf({ ...ok, timers: { tokenMs: 1.5 } }), /whole positive/);
  assert.throws(() => writeCorosyncConf({ ...ok, timers: { knetPingIntervalMs: 100 } }), /go together/);
  assert.doesNotMatch(writeCorosyncConf(ok), /two_node|token:/);
});

test('CIB: no fencing, quorum ignored, dc-deadtime, IPaddr2 with ip/cidr_netmask/nic only, server1 preferred', () => {
  const xml = labCib(lab('fast'));
  assert.match(xml, /<nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"\/>/);
  assert.match(xml, /name="no-quorum-policy" value="ignore"/);
  assert.match(xml, /name="dc-deadtime" value="2s"/);
  assert.match(xml, /<node id="1" uname="server1"\/>\n\s+<node id="2" uname="server2"\/>/);
  assert.match(xml, /<primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">/);
  const params = [...xml.matchAll(/id="vip-instance_attributes-[^"]+" name="([^"]+)" value="([^"]+)"/g)].map((m) => `${m[1]}=${m[2]}`);
  assert.deepEqual(params, ['ip=198.18.0.20', 'cidr_netmask=24', 'nic=hdt1-eth0'], 'no arp_* parameter: the agent announces at its defaults');
  assert.match(xml, /<op id="vip-monitor" name="monitor" interval="10000ms"\/>/);
  assert.match(xml, /<rsc_location id="vip-prefers-server1" rsc="vip" node="server1" score="100"\/>/);
  assert.match(xml, /^<cib validate-with="pacemaker-3\.9" admin_epoch="0" epoch="1" num_updates="0">/);
  const odd = writeCib({ properties: { note: 'a<b & "c"' }, nodes: [], vip: { id: 'v', ip: '1.2.3.4', cidrNetmask: 8, nic: 'e' } });
  assert.match(odd, /value="a&lt;b &amp; &quot;c&quot;"/);
  assert.match(odd, /<constraints\/>/);
  assert.doesNotMatch(odd, /<operations>/);
  assert.throws(() => writeCib({ properties: {}, nodes: [], vip: { id: '1 bad', ip: '1.2.3.4', cidrNetmask: 8, nic: 'e' } }), /not a valid CIB id/);
});

test("node shell: private mounts before /run is rebound, corosync answered before pacemakerd, corosync stopped after it", () => {
  const s = nodeScript(server(2));
  const at = (needle: string) => {
    const i = s.indexOf(needle);
    assert.ok(i >= 0, `${needle} in\n${s}`);
    return i;
  };
  assert.ok(at('hostname server2') < at('mount -t tmpfs -o mode=1777 tmpfs /dev/shm'));
  assert.ok(at('cp /run/hadiag/labs/t1/server2/cib.xml /var/lib/pacemaker/cib/cib.xml') < at('mount --bind /run/hadiag/labs/t1/server2/run /run'));
  assert.ok(at('mount --bind /run/hadiag/labs/t1/server2/log /var/log') < at('mount --bind /run/hadiag/labs/t1/server2/run /run'));
  assert.ok(at('chown -R hacluster:haclient /var/lib/pacemaker') > 0);
  assert.ok(at('corosync -f & c=$!') < at('corosync-cfgtool -s') && at('corosync-cfgtool -s') < at('pacemakerd & p=$!'));
  assert.ok(at('wait $p') < at('kill -TERM $c'));
});
