/**
 * measure-failover on a small cluster built here (two servers, one client on a bridge, shrunk client
 * neighbour timers: base_reachable_time_ms 2000, delay_first_probe_time 1), the VIP moved by hand — four
 * outages in ONE measure-failover run (its --trigger is the whole script), each compared with an independent
 * truth: a tcpdump this test runs on the client's bridge port (first echo request without a reply → first
 * reply after the gap), agreeing within one probe interval + MARGIN_MS.
 *   1. move with `arping -U`, client accepts it            → detection-bound, exit 0
 *   2. move back, client nft drops sender IP = target IP   → announcements ignored, unicast probes, exit 1
 *   3. link blip of the holder (same MAC after)            → same-mac, exit 0
 *   4. move with `arping -A`, client drop_gratuitous_arp=1 → announcements ignored, the sysctl named
 *   5. both servers hold the VIP, --check-duplicates          → split brain, exit 1 (1. checks the healthy case)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, labMac, killPid } from '../../src/effects/io/netns.js';
import { hadiag, outagesFromPortCapture, startPortCapture } from './measure-helpers.js';

const VIP = '198.18.0.20';
const INTERVAL_MS = 5;
/** ping's print latency and scheduling; the capture's kernel stamps make the real error ~0.01–0.1 ms */
const MARGIN_MS = 10;

test('VIP moved by hand, four outages in one run (accepted, nft-filtered, link blip, drop_gratuitous_arp) vs the bridge-port truth; split brain', async () => {
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
    const [s1, s2, c] = [topo.host('server1'), topo.host('server2'), topo.host('client')];
    await topo.exec('server1', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', s1.ifname]);
    for (const [k, v] of [['base_reachable_time_ms', 2000], ['delay_first_probe_time', 1]] as const) {
      await topo.exec('client', ['sysctl', '-q', '-w', `net.ipv4.neigh.${c.ifname}.${k}=${v}`]);
    }
    assert.equal((await topo.exec('client', ['ping', '-c', '1', '-W', '2', VIP])).code, 0, 'VIP reachable at the start');
    const nftFile = join(dir, 'garp-filter.nft');
    writeFileSync(nftFile, `table arp hdmeasure {\n chain input {\n  type filter hook input priority 0; policy accept;\n  arp saddr ip ${VIP} arp daddr ip ${VIP} drop\n }\n}\n`);
    const move = (from: typeof s1, to: typeof s1, arping: string) =>
      [`ip -n ${from.netns} addr del ${VIP}/24 dev ${from.ifname}`, 'sleep 0.5', `ip -n ${to.netns} addr add ${VIP}/24 dev ${to.ifname}`, `ip netns exec ${to.netns} arping -q ${arping} -c 2 -I ${to.ifname} ${VIP}`];
    // the client's own recovery takes ≤ 3 s reachable + 1 s delay + 3 s probes: 8 s between moves is enough
    const script = [
      ...move(s1, s2, '-U'), // 1. accepted
      'sleep 2',
      `ip netns exec ${c.netns} nft -f ${nftFile}`,
      ...move(s2, s1, '-U'), // 2. filtered by nft
      'sleep 8',
      `ip netns exec ${c.netns} nft delete table arp hdmeasure`,
      `ip -n ${s1.netns} link set ${s1.ifname} down`, 'sleep 0.8', `ip -n ${s1.netns} link set ${s1.ifname} up`, // 3. blip
      'sleep 3',
      `ip netns exec ${c.netns} sysctl -q -w net.ipv4.conf.${c.ifname}.drop_gratuitous_arp=1`,
      ...move(s1, s2, '-A'), // 4. drop_gratuitous_arp=1, gratuitous replies
    ].join(' && ');

    const portPcap = join(dir, 'port.pcap');
    truthPid = (await startPortCapture(topo.bridgeNetns, c.bridgePort, portPcap)).pid;
    const svg = join(dir, 'run.svg');
    const res = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--interval', `${INTERVAL_MS}ms`, '--trigger', script, '--timeout', '60s', '--json', '--write', join(dir, 'run.pcap'), '--svg', svg, '--check-duplicates'], 90_000);
    await killPid(truthPid);
    truthPid = undefined;
    assert.ok(res.stdout.trim().startsWith('{'), `no JSON (exit ${res.code}): ${res.stderr}`);
    const doc = JSON.parse(res.stdout);
    assert.equal(doc.trigger.exitCode, 0, doc.trigger.output);
    const truth = await outagesFromPortCapture(portPcap, '198.18.0.5', VIP);
    assert.equal(truth.length, 4, 'the port capture saw four outages');
    assert.equal(doc.outages.length, 4, doc.summary);
    const labels = ['accepted', 'garp-filtered', 'blip', 'drop-gratuitous'];
    doc.outages.forEach((o: { durationMs: number; startTsMs: number; endTsMs: number; firstLostSeq: number; diagnosis: { sentence: string } }, i: number) => {
      const t = truth[i]!;
      const err = o.durationMs - t.durationMs;
      process.stderr.write(`# ${labels[i]}: hadiag ${o.durationMs.toFixed(2)} ms, truth ${t.durationMs.toFixed(2)} ms, error ${err.toFixed(3)} ms (start ${(o.startTsMs - t.startTsMs).toFixed(3)}, end ${(o.endTsMs - t.endTsMs).toFixed(3)}); ${o.diagnosis.sentence}\n`);
      assert.ok(Math.abs(err) <= INTERVAL_MS + MARGIN_MS, `${labels[i]}: measured ${o.durationMs} ms vs truth ${t.durationMs} ms`);
      assert.equal(o.firstLostSeq & 0xffff, t.firstLostSeq, `${labels[i]}: same first lost probe`);
    });
    const [acc, filt, blip, drop] = doc.outages;

    assert.equal(acc.diagnosis.cause, 'detection-bound', acc.diagnosis.sentence);
    assert.equal(acc.learnedBy, 'announcement');
    assert.ok(acc.acceptLatencyMs < 100, `switched ${acc.acceptLatencyMs} ms after the first announcement`);
    assert.ok(acc.durationMs > 400 && acc.durationMs < 3000, `outage ${acc.durationMs} ms ≈ the 0.5 s between del and add`);
    assert.deepEqual([acc.macBefore, acc.macAfter], [labMac(11), labMac(12)]);

    assert.equal(filt.diagnosis.cause, 'announcements-ignored', filt.diagnosis.sentence);
    assert.equal(filt.learnedBy, 'own-resolution');
    assert.ok(filt.unicastProbesToOld.length >= 1, 'unicast probes to the dead MAC');
    assert.equal(filt.broadcastAnswer.mac, labMac(11));
    assert.match(filt.diagnosis.sentence, /but this host ignored them \(an ARP filter dropping sender IP = target IP/);

    assert.equal(blip.diagnosis.cause, 'same-mac', blip.diagnosis.sentence);
    assert.deepEqual([blip.macBefore, blip.macAfter], [labMac(11), labMac(11)]);

    assert.equal(drop.diagnosis.cause, 'announcements-ignored', drop.diagnosis.sentence);
    assert.match(drop.diagnosis.sentence, /\(drop_gratuitous_arp=1\)/, 'the sysctl in effect when that outage began');
    assert.ok(drop.announcements.some((a: { form: string }) => a.form === 'garp-reply'), 'arping -A sends gratuitous replies');
    assert.match(drop.diagnosis.fixes[0].detail, /drop_gratuitous_arp=0/);

    assert.deepEqual(doc.conflicts, [], 'one owner at the end: no split brain');
    assert.equal(res.code, 1, 'ignored announcements are a problem');
    assert.match(readFileSync(svg, 'utf8'), /^<svg[\s\S]*<title>outage #4<\/title>[\s\S]*<\/svg>\s*$/);
    assert.match(doc.timestampSources.capture, /kernel/);

    // the capture hadiag wrote tells the same story offline
    const off = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--read', join(dir, 'run.pcap'), '--json']);
    const od = JSON.parse(off.stdout);
    assert.deepEqual(od.outages.map((o: { diagnosis: { cause: string } }) => o.diagnosis.cause), ['detection-bound', 'announcements-ignored', 'same-mac', 'announcements-ignored']);
    od.outages.forEach((o: { durationMs: number }, i: number) => assert.ok(Math.abs(o.durationMs - doc.outages[i].durationMs) < 1, `--read #${i + 1}`));

    // split brain: server1 takes the VIP too while server2 holds it; text output this time
    await topo.exec('server1', ['ip', 'addr', 'add', `${VIP}/24`, 'dev', s1.ifname]);
    const dup = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--timeout', '2s', '--check-duplicates', '--write', join(dir, 'dup.pcap')]);
    assert.match(dup.stdout, /SPLIT BRAIN at .* answered by 02:48:44:00:00:0b and 02:48:44:00:00:0c/);
    assert.match(dup.stdout, /result: PROBLEM \(exit 1\)/);
    assert.equal(dup.code, 1, dup.stderr);
  } finally {
    if (truthPid) await killPid(truthPid);
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
