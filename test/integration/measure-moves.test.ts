/**
 * measure-failover on a small cluster built here (two servers, one client on a bridge, shrunk client
 * neighbour timers: base_reachable_time_ms 2000, delay_first_probe_time 1), the VIP moved by hand. Each run is
 * compared with an independent truth: a tcpdump this test runs on the client's bridge port (first echo request
 * without a reply → first reply after the gap), and must agree within one probe interval + MARGIN_MS.
 *   1. move with `arping -U`, client accepts it            → detection-bound, exit 0
 *   2. move back, client nft drops sender IP = target IP   → announcements ignored, unicast probes, exit 1
 *   3. link blip of the holder (same MAC after)            → same-mac, exit 0
 *   4. move with `arping -A`, client drop_gratuitous_arp=1 → announcements ignored, the sysctl named
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, labMac, killPid } from '../../src/io/netns.js';
import { hadiag, outagesFromPortCapture, startPortCapture } from './measure-helpers.js';

const VIP = '198.18.0.20';
const INTERVAL_MS = 5;
/** ping's print latency and scheduling; the capture's kernel stamps make the real error ~0.01–0.1 ms */
const MARGIN_MS = 10;

test('VIP moved by hand: accepted GARP, nft-filtered GARP, link blip, drop_gratuitous_arp — each vs the bridge-port truth', async () => {
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
    const move = (from: typeof s1, to: typeof s1, arping: string) =>
      [`ip -n ${from.netns} addr del ${VIP}/24 dev ${from.ifname}`, 'sleep 0.5', `ip -n ${to.netns} addr add ${VIP}/24 dev ${to.ifname}`, `ip netns exec ${to.netns} arping -q ${arping} -c 2 -I ${to.ifname} ${VIP}`].join(' && ');

    const measure = async (label: string, trigger: string, extra: string[] = []) => {
      const pcap = join(dir, `${label}-port.pcap`);
      truthPid = (await startPortCapture(topo.bridgeNetns, c.bridgePort, pcap)).pid;
      const res = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--interval', `${INTERVAL_MS}ms`, '--trigger', trigger, '--timeout', '30s', '--json', '--write', join(dir, `${label}.pcap`), ...extra]);
      await killPid(truthPid);
      truthPid = undefined;
      assert.ok(res.stdout.trim().startsWith('{'), `${label}: no JSON (exit ${res.code}): ${res.stderr}`);
      const doc = JSON.parse(res.stdout);
      const truth = await outagesFromPortCapture(pcap, '198.18.0.5', VIP);
      assert.equal(doc.outages.length, truth.length, `${label}: ${doc.summary}`);
      const o = doc.outages[0];
      const t = truth[0]!;
      const err = o.durationMs - t.durationMs;
      process.stderr.write(`# ${label}: hadiag ${o.durationMs.toFixed(2)} ms, truth ${t.durationMs.toFixed(2)} ms, error ${err.toFixed(3)} ms (start ${(o.startTsMs - t.startTsMs).toFixed(3)}, end ${(o.endTsMs - t.endTsMs).toFixed(3)}); ${o.diagnosis.sentence}\n`);
      assert.ok(Math.abs(err) <= INTERVAL_MS + MARGIN_MS, `${label}: measured ${o.durationMs} ms vs truth ${t.durationMs} ms`);
      assert.equal(o.firstLostSeq, t.firstLostSeq, `${label}: same first lost probe`);
      return { o, doc, code: res.code };
    };

    // 1. accepted
    const svg = join(dir, 'accepted.svg');
    const acc = await measure('accepted', move(s1, s2, '-U'), ['--svg', svg]);
    assert.equal(acc.o.diagnosis.cause, 'detection-bound', acc.o.diagnosis.sentence);
    assert.equal(acc.o.learnedBy, 'announcement');
    assert.ok(acc.o.acceptLatencyMs < 100, `switched ${acc.o.acceptLatencyMs} ms after the first announcement`);
    assert.ok(acc.o.durationMs > 400 && acc.o.durationMs < 3000, `outage ${acc.o.durationMs} ms ≈ the 0.5 s between del and add`);
    assert.equal(acc.o.macBefore, labMac(11));
    assert.equal(acc.o.macAfter, labMac(12));
    assert.equal(acc.code, 0);
    assert.match(readFileSync(svg, 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
    assert.match(acc.doc.timestampSources.capture, /kernel/);

    // 2. nft drops gratuitous ARP for the VIP on the client
    const nft = `table arp hdmeasure {\n chain input {\n  type filter hook input priority 0; policy accept;\n  arp saddr ip ${VIP} arp daddr ip ${VIP} drop\n }\n}\n`;
    assert.equal((await topo.exec('client', ['nft', '-f', '-'], { input: nft })).code, 0);
    const filt = await measure('garp-filtered', move(s2, s1, '-U'));
    assert.equal(filt.o.diagnosis.cause, 'announcements-ignored', filt.o.diagnosis.sentence);
    assert.equal(filt.o.learnedBy, 'own-resolution');
    assert.ok(filt.o.unicastProbesToOld.length >= 1, 'unicast probes to the dead MAC');
    assert.equal(filt.o.broadcastAnswer.mac, labMac(11));
    assert.match(filt.o.diagnosis.sentence, /but this host ignored them \(an ARP filter dropping sender IP = target IP/);
    assert.equal(filt.code, 1);
    // the capture hadiag wrote tells the same story offline, in JSON and as text
    const off = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--read', join(dir, 'garp-filtered.pcap'), '--json']);
    const od = JSON.parse(off.stdout);
    assert.equal(od.outages[0].diagnosis.cause, 'announcements-ignored');
    assert.ok(Math.abs(od.outages[0].durationMs - filt.o.durationMs) < 1, `--read ${od.outages[0].durationMs} vs live ${filt.o.durationMs}`);
    const text = await hadiag(c.netns, ['measure-failover', '--vip', VIP, '--read', join(dir, 'garp-filtered.pcap')]);
    assert.match(text.stdout, /Outage #1: .* UTC, \d+\.\d{3} s/);
    assert.match(text.stdout, /net\.ipv4\.neigh\.\S+\.base_reachable_time_ms = 5000/);
    assert.equal(text.code, 1);
    await topo.exec('client', ['nft', 'delete', 'table', 'arp', 'hdmeasure']);

    // 3. link blip of the holder (server1): same MAC before and after
    const blip = await measure('blip', `ip -n ${s1.netns} link set ${s1.ifname} down && sleep 0.8 && ip -n ${s1.netns} link set ${s1.ifname} up`);
    assert.equal(blip.o.diagnosis.cause, 'same-mac', blip.o.diagnosis.sentence);
    assert.equal(blip.o.macBefore, labMac(11));
    assert.equal(blip.o.macAfter, labMac(11));
    assert.equal(blip.code, 0);

    // 4. drop_gratuitous_arp=1, gratuitous replies (arping -A)
    await topo.exec('client', ['sysctl', '-q', '-w', `net.ipv4.conf.${c.ifname}.drop_gratuitous_arp=1`]);
    const drop = await measure('drop-gratuitous', move(s1, s2, '-A'));
    assert.equal(drop.o.diagnosis.cause, 'announcements-ignored', drop.o.diagnosis.sentence);
    assert.match(drop.o.diagnosis.sentence, /\(drop_gratuitous_arp=1\)/);
    assert.ok(drop.o.announcements.some((a: { form: string }) => a.form === 'garp-reply'), 'arping -A sends gratuitous replies');
    assert.match(drop.o.diagnosis.fixes[0].detail, /drop_gratuitous_arp=0/);
    assert.equal(drop.code, 1);
  } finally {
    if (truthPid) await killPid(truthPid);
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
