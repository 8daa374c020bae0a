/**
 * The field report's failure reproduced on real kernels (shrunk client timers), captured with `tcpdump -w` on
 * the client, then analysed with `garp-check --read`: the client filters the GARPs (nft), keeps the dead MAC,
 * probes it by unicast, then broadcasts — and garp-check says so in one sentence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, killPid, labMac, nsRun, nsSpawn } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { run } from '../../src/effects/io/exec.js';
import { garpCheckCommand } from '../../src/commands/garp-check.js';

const VIP = '198.18.0.20';

test('garp-check --read concludes that a client ignored the announcements and recovered by its own probes', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-garp-read-'));
  const pcap = join(dir, 'client.pcap');
  const topo = await Topology.create({
    hosts: [
      { name: 'c', addresses: ['198.18.0.5/24'], mac: labMac(5) },
      { name: 's1', addresses: ['198.18.0.11/24', `${VIP}/24`], mac: labMac(0x11) },
      { name: 's2', addresses: ['198.18.0.12/24'], mac: labMac(0x12) },
    ],
  });
  const pids: number[] = [];
  try {
    const c = topo.host('c');
    const s1 = topo.host('s1');
    const s2 = topo.host('s2');
    const neighSet = (k: string, v: string) => nsRun(c.netns, ['sysctl', '-q', '-w', `net.ipv4.neigh.${c.ifname}.${k}=${v}`]);
    await neighSet('base_reachable_time_ms', '2000');
    await neighSet('delay_first_probe_time', '1');
    // the client filters announcements (sender IP = target IP = VIP), as in the measured 28–51 s outages
    const nft = await nsRun(c.netns, ['nft', '-f', '-'], { input: `table arp hadiag_t {\n chain input {\n  type filter hook input priority 0;\n  arp saddr ip ${VIP} arp daddr ip ${VIP} drop\n }\n}\n` });
    assert.equal(nft.code, 0, nft.stderr);

    const td = nsSpawn(c.netns, ['tcpdump', '-i', c.ifname, '-n', '-U', '-w', pcap, `arp or host ${VIP}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    pids.push(td.pid!);
    let tdErr = '';
    td.stderr!.setEncoding('utf8').on('data', (d: string) => (tdErr += d));
    for (let i = 0; i < 100 && !tdErr.includes('listening'); i++) await sleep(50);
    const ping = nsSpawn(c.netns, ['ping', '-n', '-i', '0.1', VIP], { stdio: 'ignore' });
    pids.push(ping.pid!);
    await sleep(1500);

    // failover: the VIP moves from s1 to s2; s2 announces it (3 GARP requests, 300 ms apart)
    await run(['ip', '-n', s1.netns, 'addr', 'del', `${VIP}/24`, 'dev', s1.ifname]);
    await run(['ip', '-n', s2.netns, 'addr', 'add', `${VIP}/24`, 'dev', s2.ifname]);
    for (let i = 0; i < 3; i++) {
      await nsRun(s2.netns, ['arping', '-U', '-c', '1', '-I', s2.ifname, VIP]);
      await sleep(300);
    }
    // reachable (≤ 3 s) + delay (1 s) + 3 unicast probes (3 s) + broadcast: recovered within ~8 s
    await sleep(9000);
    await killPid(ping.pid!, 1000);
    await sleep(300);
    await killPid(td.pid!, 2000);

    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: unknown, ...rest: unknown[]) => (typeof c === 'string' ? (chunks.push(c), true) : (write as (...a: unknown[]) => boolean)(c, ...rest))) as typeof process.stdout.write;
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      await (garpCheckCommand.handler as any)({ read: pcap, vip: VIP, json: true, _: [], $0: 'hadiag' });
    } finally {
      process.stdout.write = write;
    }
    const doc = JSON.parse(chunks.join(''));
    assert.equal(process.exitCode, 1);
    process.exitCode = 0;
    assert.equal(doc.healthy, false);
    const t = doc.summary.takeovers.find((x: { mac: string }) => x.mac === s2.mac);
    assert.ok(t, JSON.stringify(doc.summary.takeovers));
    assert.equal(t.announcements, 3);
    const cl = doc.summary.clients.find((x: { ip: string; newMac: string }) => x.ip === '198.18.0.5' && x.newMac === s2.mac);
    assert.ok(cl, JSON.stringify(doc.summary.clients));
    assert.equal(cl.oldMac, s1.mac);
    assert.equal(cl.verdict, 'ignored');
    assert.equal(cl.probesToOld.length, 3, JSON.stringify(cl));
    assert.ok(cl.sentToOldMac > 5);
    assert.ok(cl.broadcastRequests.some((b: number) => b > cl.probesToOld[2]));
    assert.ok(cl.firstToNewRelMs > cl.probesToOld[2]);
    assert.match(cl.conclusion, /the announcements at \+\d+\.\d\d s reached this interface but the host kept the old MAC 02:48:44:00:00:11, sent 3 unicast ARP probe\(s\) to it from \+\d+\.\d\d s until its own probes failed at \+\d+\.\d\d s: it ignored or filtered them/);
  } finally {
    for (const pid of pids) await killPid(pid, 1000);
    await topo.teardown();
  }
});
