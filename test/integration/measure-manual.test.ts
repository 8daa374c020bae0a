/**
 * measure-failover against a VIP moved by hand between two servers in network namespaces: accepted GARP
 * (detection-bound) and GARP dropped by an nft rule on the client (recovery only by its own ARP timeout),
 * with shrunk client neighbour timers. The truth is a tcpdump on the client's bridge port started by the
 * test itself (not by hadiag): first echo request without a reply → first echo reply after the gap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, labMac, nsRun, killPid } from '../../src/io/netns.js';
import { run } from '../../src/io/exec.js';
import { hadiag, outagesFromPortCapture, startPortCapture } from './measure-helpers.js';

const VIP = '198.18.0.20';
const INTERVAL_MS = 5;
/** agreement with the truth: one probe interval plus this margin (ping's print latency, scheduling) */
const MARGIN_MS = 10;

async function scenario(name: string, filterGarp: boolean) {
  const topo = await Topology.create({
    hosts: [
      { name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) },
      { name: 'server2', addresses: ['198.18.0.12/24'], mac: labMac(12) },
      { name: 'client', addresses: ['198.18.0.5/24'], mac: labMac(5) },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-measure-'));
  let truthPid: number | undefined;
  try {
    const s1 = topo.host('server1');
    const s2 = topo.host('server2');
    const c = topo.host('client');
    await topo.exec('server1', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', s1.ifname]);
    for (const [k, v] of [['base_reachable_time_ms', 2000], ['delay_first_probe_time', 1]] as const) {
      await topo.exec('client', ['sysctl', '-q', '-w', `net.ipv4.neigh.${c.ifname}.${k}=${v}`]);
    }
    if (filterGarp) {
      const nft = `table arp hdmeasure {\n chain input {\n  type filter hook input priority 0; policy accept;\n  arp saddr ip ${VIP} arp daddr ip ${VIP} drop\n }\n}\n`;
      const r = await topo.exec('client', ['nft', '-f', '-'], { input: nft });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await topo.exec('client', ['ping', '-c', '1', '-W', '2', VIP])).code, 0, 'VIP reachable before the move');

    // the independent truth: tcpdump on the client's bridge port, in the bridge namespace
    const portPcap = join(dir, 'port.pcap');
    truthPid = (await startPortCapture(topo.bridgeNetns, c.bridgePort, portPcap)).pid;

    const move = [
      `ip netns exec ${s1.netns} ip addr del ${VIP}/24 dev ${s1.ifname}`,
      'sleep 0.5',
      `ip netns exec ${s2.netns} ip addr add ${VIP}/24 dev ${s2.ifname}`,
      `ip netns exec ${s2.netns} arping -q -U -c 3 -I ${s2.ifname} ${VIP}`,
    ].join(' && ');
    const svg = join(dir, 'timeline.svg');
    const res = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--interval', `${INTERVAL_MS}ms`, '--trigger', move, '--timeout', '40s', '--json', '--write', join(dir, 'm.pcap'), '--svg', svg]);
    await killPid(truthPid!);
    truthPid = undefined;
    assert.ok(res.stdout.trim().startsWith('{'), `no JSON from hadiag (exit ${res.code}): ${res.stderr}`);
    const doc = JSON.parse(res.stdout);
    const [truth] = await outagesFromPortCapture(portPcap, '198.18.0.5', VIP);
    assert.equal(doc.outages.length, 1, `${name}: one outage expected: ${doc.summary}`);
    const o = doc.outages[0];
    const err = o.durationMs - truth!.durationMs;
    process.stderr.write(`# ${name}: hadiag ${o.durationMs.toFixed(2)} ms, truth ${truth!.durationMs.toFixed(2)} ms, error ${err.toFixed(2)} ms (start ${(o.startTsMs - truth!.startTsMs).toFixed(2)}, end ${(o.endTsMs - truth!.endTsMs).toFixed(2)}; seqs ${o.firstLostSeq}-${o.firstOkSeq} vs ${truth!.firstLostSeq}-${truth!.firstOkSeq}); ${o.diagnosis.sentence}\n`);
    assert.ok(Math.abs(err) <= INTERVAL_MS + MARGIN_MS, `${name}: measured ${o.durationMs} ms vs truth ${truth!.durationMs} ms`);
    assert.equal(o.macBefore, labMac(11));
    assert.equal(o.macAfter, labMac(12));
    assert.ok(readFileSync(svg, 'utf8').includes('<svg'), 'svg written');
    assert.equal(doc.timestampSources.capture.includes('kernel'), true);

    // the capture hadiag wrote, analyzed offline, tells the same story (times from the capture only)
    if (process.env.HADIAG_KEEP) await run(['cp', join(dir, 'm.pcap'), `/tmp/keep-${name}.pcap`]);
    const offline = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--read', join(dir, 'm.pcap'), '--json']);
    const od = JSON.parse(offline.stdout);
    assert.equal(od.outages.length, 1, od.summary);
    assert.ok(Math.abs(od.outages[0].durationMs - truth!.durationMs) <= INTERVAL_MS + MARGIN_MS, `--read: ${od.outages[0].durationMs} vs truth ${truth!.durationMs}`);
    assert.equal(od.outages[0].diagnosis.cause, o.diagnosis.cause);
    if (filterGarp) {
      const text = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--read', join(dir, 'm.pcap')]);
      assert.match(text.stdout, /Outage #1: .* UTC, \d+\.\d{3} s/);
      assert.match(text.stdout, /diagnosis: Announcements arrived/);
      assert.match(text.stdout, /net\.ipv4\.neigh\.\S+\.base_reachable_time_ms = 5000/);
      assert.equal(text.code, res.code, `same verdict offline: ${text.stderr}`);
    }
    return { doc, o, code: res.code, truth };
  } finally {
    if (truthPid) await killPid(truthPid);
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('hand-moved VIP, client accepts the GARP: detection-bound, matches the bridge-port truth', async () => {
  const { o, code } = await scenario('accepted', false);
  assert.equal(o.diagnosis.cause, 'detection-bound', o.diagnosis.sentence);
  assert.equal(o.learnedBy, 'announcement');
  assert.ok(o.durationMs > 400 && o.durationMs < 2000, `outage ${o.durationMs} ms should be ~0.5 s (the sleep between del and add)`);
  // (a unicast probe to the old MAC may still show up: the shrunk reachable time re-validates the entry every 1–3 s)
  assert.ok(o.acceptLatencyMs < 100, `switched ${o.acceptLatencyMs} ms after the first announcement`);
  assert.equal(code, 0);
});

test('hand-moved VIP, client drops GARP (nft): own-timeout recovery with unicast probes to the dead MAC', async () => {
  const { o, code } = await scenario('garp-filtered', true);
  assert.equal(o.diagnosis.cause, 'announcements-ignored', o.diagnosis.sentence);
  assert.equal(o.learnedBy, 'own-resolution');
  assert.ok(o.unicastProbesToOld.length >= 1, 'unicast probes to the old MAC seen');
  assert.ok(o.broadcastRequests.length >= 1);
  assert.equal(o.broadcastAnswer.mac, labMac(12));
  assert.match(o.diagnosis.sentence, /ignored them/);
  assert.equal(code, 1);
});
