/**
 * Two more causes on one small cluster (two servers, one client, shrunk client timers), each against the
 * client's bridge-port truth: a link blip of the VIP holder (same MAC before and after: not an ARP problem),
 * then a move to the other server while the client runs drop_gratuitous_arp=1 (the sysctl named as the cause).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, labMac, killPid } from '../../src/io/netns.js';
import { hadiag, outagesFromPortCapture, startPortCapture } from './measure-helpers.js';

const VIP = '198.18.0.20';
const INTERVAL_MS = 5;
const MARGIN_MS = 10;

test('link blip (same MAC) and drop_gratuitous_arp=1 (announcements ignored, sysctl named)', async () => {
  const topo = await Topology.create({
    hosts: [
      { name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) },
      { name: 'server2', addresses: ['198.18.0.12/24'], mac: labMac(12) },
      { name: 'client', addresses: ['198.18.0.5/24'], mac: labMac(5) },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-measure-more-'));
  let truthPid: number | undefined;
  try {
    const [s1, s2, c] = [topo.host('server1'), topo.host('server2'), topo.host('client')];
    await topo.exec('server1', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', s1.ifname]);
    for (const [k, v] of [['base_reachable_time_ms', 2000], ['delay_first_probe_time', 1]] as const) {
      await topo.exec('client', ['sysctl', '-q', '-w', `net.ipv4.neigh.${c.ifname}.${k}=${v}`]);
    }
    const measure = async (label: string, trigger: string) => {
      const pcap = join(dir, `${label}-port.pcap`);
      truthPid = (await startPortCapture(topo.bridgeNetns, c.bridgePort, pcap)).pid;
      const res = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--interval', `${INTERVAL_MS}ms`, '--trigger', trigger, '--timeout', '30s', '--json', '--write', join(dir, `${label}.pcap`)]);
      await killPid(truthPid);
      truthPid = undefined;
      assert.ok(res.stdout.trim().startsWith('{'), `no JSON (exit ${res.code}): ${res.stderr}`);
      const doc = JSON.parse(res.stdout);
      const truth = await outagesFromPortCapture(pcap, '198.18.0.5', VIP);
      assert.equal(doc.outages.length, truth.length, `${label}: ${doc.summary}`);
      const o = doc.outages[0];
      const err = o.durationMs - truth[0]!.durationMs;
      process.stderr.write(`# ${label}: hadiag ${o.durationMs.toFixed(2)} ms, truth ${truth[0]!.durationMs.toFixed(2)} ms, error ${err.toFixed(2)} ms; ${o.diagnosis.sentence}\n`);
      assert.ok(Math.abs(err) <= INTERVAL_MS + MARGIN_MS, `${label}: ${o.durationMs} vs ${truth[0]!.durationMs}`);
      return { o, code: res.code };
    };

    const blip = await measure('blip', `ip -n ${s1.netns} link set ${s1.ifname} down && sleep 0.8 && ip -n ${s1.netns} link set ${s1.ifname} up`);
    assert.equal(blip.o.diagnosis.cause, 'same-mac', blip.o.diagnosis.sentence);
    assert.equal(blip.o.macBefore, labMac(11));
    assert.equal(blip.o.macAfter, labMac(11));
    assert.ok(blip.o.durationMs >= 700, `blip outage ${blip.o.durationMs} ms covers the 0.8 s the link was down`);
    assert.equal(blip.code, 0);

    await topo.exec('client', ['sysctl', '-q', '-w', `net.ipv4.conf.${c.ifname}.drop_gratuitous_arp=1`]);
    const move = [
      `ip -n ${s1.netns} addr del ${VIP}/24 dev ${s1.ifname}`,
      `ip -n ${s2.netns} addr add ${VIP}/24 dev ${s2.ifname}`,
      `ip netns exec ${s2.netns} arping -q -A -c 2 -I ${s2.ifname} ${VIP}`,
    ].join(' && ');
    const dropped = await measure('drop-gratuitous', move);
    assert.equal(dropped.o.diagnosis.cause, 'announcements-ignored', dropped.o.diagnosis.sentence);
    assert.match(dropped.o.diagnosis.sentence, /\(drop_gratuitous_arp=1\)/);
    assert.ok(dropped.o.announcements.some((a: { form: string }) => a.form === 'garp-reply'), 'arping -A sends gratuitous replies');
    assert.match(dropped.o.diagnosis.fixes[0].detail, /drop_gratuitous_arp=0/);
    assert.equal(dropped.code, 1);
  } finally {
    if (truthPid) await killPid(truthPid);
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
