/**
 * A resource group of several VIPs on hadiag nodes: consecutive IPaddr resources are added with one ip -batch
 * (a script resource between them is a barrier: it starts after the addresses before it and before the ones
 * after it; release goes the other way), every address present, and every one removed at stop. The standby
 * learns the (client, VIP) pair from the client's traffic, takes the group over on link-down and announces it
 * with rate=PPS: the directed requests of all VIPs share one rate on the wire (± 10 %), and the client re-points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { nsSpawn } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { PcapReader } from '../../src/codecs/pcap.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { makeLab, writeConfig, startNode, stopNode, waitFor, setLink, logEvents, type NodeProc } from './node-helpers.js';

const V4 = ['198.18.0.20', '198.18.0.21', '198.18.0.22'];
const V6 = '2001:db8::20';
const RATE = 50;

test('a group of several VIPs: one ip -batch per run of IPaddr resources around a script barrier, all present and all removed; takeover paced at rate=PPS across VIPs', { timeout: 120_000 }, async () => {
  const { topo, dir } = await makeLab();
  const procs: NodeProc[] = [];
  let capture: ChildProcess | undefined;
  let pinger: ChildProcess | undefined;
  const addrs = async (host: string) => (await topo.exec(host, ['ip', '-o', 'addr', 'show', 'dev', topo.host(host).ifname])).stdout;
  try {
    for (const n of ['server1', 'server2']) {
      const ha = join(dir, n, 'ha.d');
      const ifn = topo.host(n).ifname;
      writeConfig(ha, ifn, { deadtime: '1', keepalive: '200ms' });
      writeFileSync(join(ha, 'haresources'), `server1 IPaddr::${V4[0]}/24/${ifn} IPaddr::${V4[1]}/24/${ifn} marker IPaddr::${V4[2]}/24/${ifn} IPv6addr::${V6}/64/${ifn}\n`);
      mkdirSync(join(ha, 'resource.d'), { recursive: true });
      // the barrier: what is on the interface when it starts and stops
      const script = join(ha, 'resource.d', 'marker');
      writeFileSync(script, `#!/bin/sh\nip -o addr show dev ${ifn} | awk '{print $4}' | cut -d/ -f1 | grep -x '198.18.0.2[0-9]\\|2001:db8::20' | sort | tr '\\n' ' ' > ${join(dir, n, 'marker-')}$1\n`);
      chmodSync(script, 0o755);
    }
    const s1 = startNode(topo, dir, 'server1');
    procs.push(s1);
    const holds = async (host: string) => {
      const a = await addrs(host);
      return [...V4, V6].every((v) => a.includes(`${v}/`));
    };
    await waitFor('server1 to hold the group', () => holds('server1'), 30_000);
    const held = await addrs('server1');
    for (const v of [...V4, V6]) assert.ok(held.includes(v), `${v} on server1: ${held}`);
    assert.equal(readFileSync(join(dir, 'server1', 'marker-start'), 'utf8').trim(), '198.18.0.20 198.18.0.21', 'the script starts after the addresses before it, before the ones after it');
    const starts = logEvents(s1, 'resource').filter((e) => e.op === 'start' && /IPaddr|IPv6addr/.test(String(e.resource)));
    assert.equal(starts.length, 4, JSON.stringify(starts));
    assert.equal(starts.filter((e) => /ip -batch of 2/.test(String(e.text))).length, 4, 'two runs of two addresses, each one ip -batch');

    // the client talks to one VIP: both servers learn the pair from its ARP request
    pinger = nsSpawn(topo.host('client').netns, ['ping', '-q', '-i', '0.05', V4[1]!], { stdio: 'ignore' });
    const s2 = startNode(topo, dir, 'server2', ['--garp', `directed:count=10,interval=1ms,rate=${RATE}`]);
    procs.push(s2);
    await waitFor('server2 to see server1', () => logEvents(s2, 'peer-up').length > 0, 30_000);
    await waitFor('server1 to tell server2 its pairs', () => logEvents(s1, 'clients-learned').some((e) => Number(e.pairs) >= 1), 20_000);
    await sleep(1_500);

    // the capture on the client: every directed request from server2's MAC
    const s2mac = topo.host('server2').mac.toLowerCase();
    const seen: { ts: number; vip: string }[] = [];
    capture = nsSpawn(topo.host('client').netns, ['tcpdump', '-i', topo.host('client').ifname, '-w', '-', '-U', '-n', `arp and ether src ${s2mac}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    const reader = new PcapReader('client');
    capture.stdout!.on('data', (chunk: Buffer) => {
      for (const r of reader.read(chunk)) {
        const f = decodeFrame(r.data, reader.linktype);
        if (f.arp && f.arp.op === 1 && f.arp.senderIp !== f.arp.targetIp) seen.push({ ts: r.tsMs, vip: f.arp.senderIp });
      }
    });
    await sleep(1_000);
    await setLink(topo, 'server1', false);
    // .21 to its client; .20 and .22 (nobody seen using them) to every known client: the client; 10 rounds each
    await waitFor('30 directed requests on the wire', () => seen.length >= 30, 20_000);
    await sleep(500);
    // one client × 3 VIPs × 10 rounds (server2's kernel may resolve the client from .21 once too: same frame)
    for (const v of V4) assert.ok(seen.filter((x) => x.vip === v).length >= 10, `${v}: ${seen.filter((x) => x.vip === v).length}`);
    assert.ok(seen.length <= 32, `${seen.length} requests`);
    const span = seen[seen.length - 1]!.ts - seen[0]!.ts;
    const rate = ((seen.length - 1) * 1000) / span;
    assert.ok(Math.abs(rate - RATE) <= RATE * 0.1, `rate on the wire ${rate.toFixed(1)}/s (spec ${RATE}/s, span ${span.toFixed(0)} ms)`);
    // one plan per batch: [.20 .21] and [.22 2001:db8::20] — each IPv4 VIP to the one client, no IPv6 client known
    const plans = logEvents(s2, 'clients').filter((e) => e.vips !== undefined);
    assert.deepEqual(plans.map((e) => [e.vips, e.pairs]), [[2, 2], [2, 1]], JSON.stringify(plans));
    const ipv4Held = await addrs('server2');
    for (const v of [...V4, V6]) assert.ok(ipv4Held.includes(v), `${v} on server2`);

    // stop: every address removed (one batch per run, reverse order), the script stopped between them
    await stopNode(s2);
    const left = await addrs('server2');
    for (const v of [...V4, V6]) assert.ok(!left.includes(v), `${v} removed from server2: ${left}`);
    assert.ok(existsSync(join(dir, 'server2', 'marker-stop')));
    assert.equal(readFileSync(join(dir, 'server2', 'marker-stop'), 'utf8').trim(), '198.18.0.20 198.18.0.21', 'release: the addresses after the script first, then the script, then the ones before');
  } finally {
    if (capture?.pid) capture.kill('SIGTERM');
    if (pinger?.pid) pinger.kill('SIGKILL');
    for (const p of procs) await stopNode(p);
    await topo.teardown();
  }
});
