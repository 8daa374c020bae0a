/**
 * Two hadiag run-nodes holding an IPv6 VIP (haresources IPv6addr::…, heartbeats over IPv4, keepalive 200 ms /
 * deadtime 1 s) and three clients on one bridge, their neighbour timers shrunk: c1 stock, c2
 * drop_unsolicited_na=1 (both pinging the VIP every 20 ms), c3 stock and silent, its entry for the VIP deleted
 * right before the takeover. server1 starts with a dadfailed copy of the VIP (replaced). server1's cable is pulled: server2 adds the VIP with nodad (never tentative or
 * dadfailed) and announces it with run-node's default IPv6 strategy (na+directed+answer-probes); every
 * client's entry points to server2's MAC (`ip -6 neigh`), the frames are checked in a capture of server2's
 * bridge port, and each pinging client's outage is well below what its own neighbour probing would take. The
 * cable back: the VIP goes home, the clients follow. An ifdown/ifup inside server1 shorter than deadtime flushes
 * the VIP (IPv6): the node adds it again. SIGTERM: no address left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Topology, labMac, nsSpawn } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { run, runOk } from '../../src/effects/io/exec.js';
import { readPcap } from '../../src/effects/io/pcap-file.js';
import { decodeFrame } from '../../src/codecs/decode.js';
import { writeConfig, startNode, stopNode, waitFor, setLink, logEvents, nodeStatus, type NodeProc } from './node-helpers.js';

const VIP = '2001:db8::20';
/** as Heartbeat 3.0.6 can read it (its ResourceManager splits arguments at "::") */
const VIP_FULL = '2001:db8:0:0:0:0:0:20';
const SIX: Record<string, string> = { server1: '2001:db8::11', server2: '2001:db8::12', c1: '2001:db8::5', c2: '2001:db8::6', c3: '2001:db8::7' };
/** the clients' own recovery from a dead MAC takes at least delay_first_probe_time + ucast_solicit × retrans_time */
const CLIENT_NEIGH = { base_reachable_time_ms: '10000', delay_first_probe_time: '2', retrans_time_ms: '1000' };
const OWN_RECOVERY_MIN_MS = 2000 + 3 * 1000;

async function vipFlags(topo: Topology, name: string): Promise<string[] | undefined> {
  const h = topo.host(name);
  const links = JSON.parse(await runOk(['ip', '-n', h.netns, '-6', '-json', 'addr', 'show', 'dev', h.ifname])) as { addr_info?: Record<string, unknown>[] }[];
  const a = links[0]?.addr_info?.find((x) => x.local === VIP);
  return a ? Object.keys(a).filter((k) => a[k] === true) : undefined;
}

async function holders(topo: Topology): Promise<string[]> {
  const out: string[] = [];
  for (const n of ['server1', 'server2']) if (await vipFlags(topo, n)) out.push(n);
  return out;
}

async function clientEntry(topo: Topology, c: string): Promise<{ lladdr?: string; state?: string[] } | undefined> {
  const h = topo.host(c);
  const list = JSON.parse(await runOk(['ip', '-n', h.netns, '-6', '-json', 'neigh', 'show', 'dev', h.ifname, 'to', VIP])) as { dst: string; lladdr?: string; state?: string[] }[];
  return list.find((e) => e.dst === VIP);
}

/** `ping -6 -D` every 20 ms: the kernel timestamps of its replies. */
function pinger(topo: Topology, c: string): { child: ChildProcess; replies: number[] } {
  const child = nsSpawn(topo.host(c).netns, ['ping', '-6', '-n', '-D', '-i', '0.02', VIP], { stdio: ['ignore', 'pipe', 'ignore'] });
  const replies: number[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    for (const m of d.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)) replies.push(Number(m[1]) * 1000);
  });
  return { child, replies };
}

/** The longest gap between replies in [from, to] (ms). */
function outage(replies: number[], from: number, to: number): number {
  const inside = replies.filter((t) => t >= from - 1000 && t <= to);
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i]! - inside[i - 1]!);
  return gap;
}

test('two hadiag nodes hold an IPv6 VIP: nodad takeover, NA + NS from the VIP move every client (drop_unsolicited_na, missing entry), failback, nothing left', { timeout: 120_000 }, async () => {
  const topo = await Topology.create({
    hosts: [
      { name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) },
      { name: 'server2', addresses: ['198.18.0.12/24'], mac: labMac(12) },
      { name: 'c1', addresses: ['198.18.0.5/24'], mac: labMac(5) },
      { name: 'c2', addresses: ['198.18.0.6/24'], mac: labMac(6) },
      { name: 'c3', addresses: ['198.18.0.7/24'], mac: labMac(7) },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), `hadiag-node6-${topo.runId}-`));
  const procs: NodeProc[] = [];
  const pings: ReturnType<typeof pinger>[] = [];
  let tcpdump: ChildProcess | undefined;
  let left: string[] = [];
  let passed = false;
  try {
    for (const [name, ip] of Object.entries(SIX)) {
      const h = topo.host(name);
      await runOk(['ip', '-n', h.netns, '-6', 'addr', 'add', `${ip}/64`, 'dev', h.ifname, 'nodad']);
    }
    for (const c of ['c1', 'c2', 'c3']) {
      const h = topo.host(c);
      await runOk(['ip', 'netns', 'exec', h.netns, 'sysctl', '-qw', ...Object.entries(CLIENT_NEIGH).map(([k, v]) => `net.ipv6.neigh.${h.ifname}.${k}=${v}`)]);
    }
    await runOk(['ip', 'netns', 'exec', topo.host('c2').netns, 'sysctl', '-qw', `net.ipv6.conf.${topo.host('c2').ifname}.drop_unsolicited_na=1`]);
    for (const n of ['server1', 'server2']) {
      const ifn = topo.host(n).ifname;
      writeConfig(join(dir, n, 'ha.d'), ifn);
      writeFileSync(join(dir, n, 'ha.d', 'haresources'), `server1 IPv6addr::${VIP_FULL}/64/${ifn}\n`);
    }
    // a dadfailed leftover on server1: the VIP added there with DAD while c3 answered for it
    const [h1, h3] = [topo.host('server1'), topo.host('c3')];
    await runOk(['ip', '-n', h3.netns, '-6', 'addr', 'add', `${VIP}/64`, 'dev', h3.ifname, 'nodad']);
    await runOk(['ip', '-n', h1.netns, '-6', 'addr', 'add', `${VIP}/64`, 'dev', h1.ifname]);
    await waitFor('the leftover to fail DAD', async () => (await vipFlags(topo, 'server1'))?.includes('dadfailed'), 10_000, 100);
    await runOk(['ip', '-n', h3.netns, '-6', 'addr', 'del', `${VIP}/64`, 'dev', h3.ifname]);
    const s1 = startNode(topo, dir, 'server1');
    procs.push(s1);
    await waitFor('server1 to take the IPv6 VIP after initdead (its own copy, nodad)', async () => (await vipFlags(topo, 'server1'))?.join() === 'nodad', 40_000, 100);
    const s2 = startNode(topo, dir, 'server2');
    procs.push(s2);
    await waitFor('server2 to see server1 active', () => logEvents(s2, 'peer-up').length > 0, 40_000);
    assert.deepEqual(await vipFlags(topo, 'server1'), ['nodad'], 'added with nodad: never tentative');
    assert.ok(logEvents(s1, 'resource').some((e) => new RegExp(`replaced a dadfailed copy of ${VIP}/64`).test(String(e.text))), 'the dadfailed leftover was replaced');
    assert.ok(!logEvents(s1, 'config').some((e) => /IPv6addr/.test(String(e.text))), 'the full form of the address gives no warning');

    // every client talks to the VIP once (server1 learns them, tells server2); c3 then falls silent
    for (const c of ['c1', 'c2', 'c3']) await runOk(['ip', 'netns', 'exec', topo.host(c).netns, 'ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', VIP]);
    await waitFor('server2 to know the three IPv6 clients', async () => {
      const known = ((await nodeStatus(topo, s2)).clients ?? []) as { ip: string }[];
      return ['c1', 'c2', 'c3'].every((c) => known.some((k) => k.ip === SIX[c]));
    }, 20_000, 250);
    for (const c of ['c1', 'c2']) pings.push(pinger(topo, c));
    const capFile = join(dir, 'server2-port.pcap');
    tcpdump = nsSpawn(topo.bridgeNetns, ['tcpdump', '-i', topo.host('server2').bridgePort, '-U', '-n', '-w', capFile, 'icmp6'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((res, rej) => {
      let err = '';
      tcpdump!.stderr!.on('data', (d) => (err += d) && /listening on/.test(err) && res());
      tcpdump!.once('close', () => rej(new Error(`tcpdump: ${err}`)));
    });
    await sleep(1_000);
    for (const c of ['c1', 'c2', 'c3']) assert.equal((await clientEntry(topo, c))?.lladdr, topo.host('server1').mac, `${c} starts on server1's MAC`);
    await runOk(['ip', '-n', topo.host('c3').netns, '-6', 'neigh', 'del', VIP, 'dev', topo.host('c3').ifname]);

    // takeover: server1's cable pulled
    const tDown = Date.now();
    await setLink(topo, 'server1', false, 'bridge');
    await waitFor('server2 to hold the VIP', async () => (await holders(topo)).includes('server2'), 10_000, 50);
    const takeoverMs = Date.now() - tDown;
    const mac2 = topo.host('server2').mac;
    for (const c of ['c1', 'c2', 'c3']) await waitFor(`${c} on server2's MAC`, async () => (await clientEntry(topo, c))?.lladdr === mac2, 8_000, 50);
    const movedMs = Date.now() - tDown;
    await sleep(3_000);
    assert.deepEqual(await vipFlags(topo, 'server2'), ['nodad'], 'server2 holds it: not tentative, not dadfailed');
    for (const c of ['c1', 'c2', 'c3']) assert.equal((await clientEntry(topo, c))?.lladdr, mac2, `${c} stays on server2's MAC`);
    const outages = Object.fromEntries(pings.map((p, i) => [`c${i + 1}`, Math.round(outage(p.replies, tDown, Date.now()))]));
    for (const [c, ms] of Object.entries(outages)) assert.ok(ms > 500 && ms < OWN_RECOVERY_MIN_MS - 1000, `${c}: outage ${ms} ms (deadtime 1 s; its own recovery would take ≥ ${OWN_RECOVERY_MIN_MS} ms)`);
    const clientsLog = logEvents(s2, 'clients').map((e) => String(e.text)).join('\n');
    assert.match(clientsLog, new RegExp(`announcing ${VIP} to \\d+ known client\\(s\\)`), clientsLog);

    // the frames server2 sent for the VIP, from its bridge port
    process.kill(tcpdump.pid!, 'SIGINT');
    await new Promise((r) => tcpdump!.once('close', r));
    tcpdump = undefined;
    const frames = (await readPcap(capFile)).records.map((r) => decodeFrame(r.data)).filter((f) => f.eth?.src === mac2 && f.nd);
    const nas = frames.filter((f) => f.nd!.kind === 'na' && f.ipv6!.dst === 'ff02::1' && f.nd!.target === VIP);
    assert.ok(nas.length >= 3, `3 unsolicited NAs: ${nas.length}`);
    for (const f of nas) {
      assert.equal(f.eth!.dst, '33:33:00:00:00:01');
      assert.equal(f.ipv6!.hopLimit, 255);
      assert.deepEqual([f.nd!.override, f.nd!.solicited, f.nd!.router], [true, false, false], 'O set, S clear, R clear (server2 does not forward)');
      assert.equal(f.nd!.targetLinkAddr, mac2);
    }
    for (const c of ['c1', 'c2', 'c3']) {
      const ns = frames.filter((f) => f.nd!.kind === 'ns' && f.ipv6!.src === VIP && f.nd!.target === SIX[c]);
      assert.ok(ns.length >= 1, `an NS from the VIP to ${c}`);
      assert.equal(ns[0]!.eth!.dst, topo.host(c).mac, `unicast to ${c}'s MAC`);
      assert.equal(ns[0]!.nd!.sourceLinkAddr, mac2);
    }
    assert.equal(frames.filter((f) => f.nd!.kind === 'ns' && f.ipv6!.src === '::' && f.nd!.target === VIP).length, 0, 'no DAD probe for the VIP (nodad)');

    // failback: the cable back, the VIP goes home, the clients follow
    const tUp = Date.now();
    await setLink(topo, 'server1', true, 'bridge');
    await waitFor('server1 alone holding the VIP', async () => {
      const h = await holders(topo);
      return h.length === 1 && h[0] === 'server1';
    }, 15_000, 100);
    const mac1 = topo.host('server1').mac;
    for (const c of ['c1', 'c2']) await waitFor(`${c} back on server1's MAC`, async () => (await clientEntry(topo, c))?.lladdr === mac1, 10_000, 50);
    await sleep(1_500);
    const back = Object.fromEntries(pings.map((p, i) => [`c${i + 1}`, Math.round(outage(p.replies, tUp, Date.now()))]));
    assert.deepEqual(await vipFlags(topo, 'server1'), ['nodad']);
    process.stderr.write(`node-ipv6: takeover ${takeoverMs} ms, all three clients on server2's MAC ${movedMs} ms after the cable was pulled; outage c1 (stock) ${outages.c1} ms, c2 (drop_unsolicited_na) ${outages.c2} ms; failback outage c1 ${back.c1} ms, c2 ${back.c2} ms\n`);

    // an ifdown/ifup shorter than deadtime inside server1: the kernel flushes the IPv6 VIP, the node adds it again
    await setLink(topo, 'server1', false, 'host');
    await sleep(300);
    await setLink(topo, 'server1', true, 'host');
    await waitFor('server1 to add the flushed VIP again', async () => (await vipFlags(topo, 'server1'))?.join() === 'nodad', 5_000, 50);
    assert.ok(logEvents(s1, 'resource').some((e) => /was no longer on .* added again/.test(String(e.text))), 'logged as a warning');
    assert.equal(logEvents(s2, 'peer-dead').length, 1, 'only the cable pull was a failover');
    const after = await run(['ip', 'netns', 'exec', topo.host('c1').netns, 'ping', '-6', '-c', '1', '-W', '2', VIP]);
    assert.equal(after.code, 0, after.stdout);

    for (const p of pings) p.child.kill('SIGINT');
    pings.length = 0;
    for (const p of procs) await stopNode(p);
    assert.deepEqual(procs.map((p) => p.child.exitCode), [0, 0]);
    assert.deepEqual(await holders(topo), [], 'SIGTERM: no IPv6 VIP left on either server');
    passed = true;
  } finally {
    for (const p of pings) p.child.kill('SIGINT');
    if (tcpdump?.pid) tcpdump.kill('SIGINT');
    for (const p of procs) await stopNode(p);
    left = await holders(topo).catch(() => []);
    if (left.length || !passed) for (const p of procs) process.stderr.write(`--- ${p.name} exit ${p.child.exitCode}\n${p.logs.map((l) => `${l.tsMs} ${l.event} ${l.text}`).join('\n')}\n${p.stderr.join('')}\n`);
    await topo.teardown();
  }
  assert.deepEqual(left, [], 'no VIP left behind');
});
