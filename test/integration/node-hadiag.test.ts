import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nsSpawn } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import {
  makeLab, writeConfig, startNode, stopNode, vipHolders, waitFor, setLink, nodeStatus, logEvents, clientVipMac, REPO, VIP, type NodeProc,
} from './node-helpers.js';

const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

test('two hadiag nodes: steady state, link-down takeover with GARP, heal without restart, forged packets, graceful stop, kill -9 + restart', { timeout: 150_000 }, async () => {
  const { topo, dir } = await makeLab();
  const procs: NodeProc[] = [];
  let left: string[] = [];
  try {
    // every medium at once: bcast, mcast (outgoing interface set) and ucast (the line naming ourselves is ignored)
    for (const n of ['server1', 'server2']) {
      const ifn = topo.host(n).ifname;
      writeConfig(join(dir, n, 'ha.d'), ifn, { media: [{ kind: 'mcast', iface: ifn, group: '239.0.0.94', port: 694, ttl: 1, loop: false }, { kind: 'ucast', iface: ifn, peer: '198.18.0.11' }, { kind: 'ucast', iface: ifn, peer: '198.18.0.12' }] });
    }
    const s1 = startNode(topo, dir, 'server1', ['--capture']);
    procs.push(s1);
    await waitFor('server1 to start', () => logEvents(s1, 'start').length > 0, 30_000);
    await waitFor('server1 to take the VIP alone after initdead', async () => (await vipHolders(topo)).includes('server1'), 10_000);
    const s2 = startNode(topo, dir, 'server2');
    procs.push(s2);
    await waitFor('server2 to see server1 active', () => logEvents(s2, 'peer-up').length > 0, 30_000);
    await sleep(1_500);
    // steady state
    assert.deepEqual(await vipHolders(topo), ['server1']);
    let st2 = await nodeStatus(topo, s2);
    assert.equal(st2.peers[0].status, 'active');
    assert.equal(st2.groups[0].holder, 'server1');
    assert.equal(st2.media.length, 3, `bcast + mcast + one ucast: ${st2.media}`);
    assert.ok(st2.counters.duplicates > 10, `copies from the other media are de-duplicated: ${JSON.stringify(st2.counters)}`);
    // the client reaches the VIP at server1's MAC
    const ping = await topo.exec('client', ['ping', '-c', '1', '-W', '1', VIP]);
    assert.equal(ping.code, 0, ping.stdout);
    assert.equal(await clientVipMac(topo), topo.host('server1').mac);
    // --capture confirmed the GARPs on the wire
    const garp = await waitFor('the GARP report', () => logEvents(s1, 'garp')[0], 5_000);
    assert.equal(garp.seen, garp.planned, JSON.stringify(garp));

    // forged traffic from the client: wrong key, unknown node, right key + higher generation, junk
    for (const [kind, n] of [['wrong-key', 20], ['unknown-node', 20], ['higher-gen', 20], ['junk', 50]] as const) {
      const r = await topo.exec('client', [process.execPath, '--import', TSX, join(REPO, 'test/integration/node-forge.ts'), kind, String(n)]);
      assert.equal(r.code, 0, r.stderr);
    }
    await sleep(2_500);
    st2 = await nodeStatus(topo, s2);
    assert.ok(st2.daemon.authFailures >= 20, JSON.stringify(st2.daemon));
    assert.ok(st2.counters.unknownNode >= 20, JSON.stringify(st2.counters));
    assert.ok(st2.counters.generationRejected >= 20, JSON.stringify(st2.counters));
    assert.ok(st2.daemon.malformed >= 50, JSON.stringify(st2.daemon));
    assert.equal(st2.peers[0].status, 'active', 'genuine packets still accepted');
    assert.equal(logEvents(s2, 'peer-dead').length, 0, 'no false failover');
    assert.deepEqual(await vipHolders(topo), ['server1']);

    // a flood of 10 000 junk datagrams per second while server1's link goes down: no false failover before,
    // death still declared (wide margin), the client moves to server2's MAC
    const flood = nsSpawn(topo.host('client').netns, [process.execPath, '--import', TSX, join(REPO, 'test/integration/node-forge.ts'), 'flood', '10000', '198.18.0.255', '6000'], { stdio: 'ignore' });
    await sleep(2_000);
    assert.equal(logEvents(s2, 'peer-dead').length, 0, 'no false failover under the flood');
    await setLink(topo, 'server1', false);
    const t0 = Date.now();
    await waitFor('server2 to take the VIP', async () => (await vipHolders(topo)).includes('server2'), 5_000);
    const takeoverMs = Date.now() - t0;
    if (flood.exitCode === null && flood.signalCode === null) await new Promise((r) => flood.once('exit', r));
    const flooded = (await nodeStatus(topo, s2)).daemon.malformed;
    assert.ok(flooded > 5_000, `flood reached the node (${flooded} malformed)`);
    assert.ok(takeoverMs >= 500 && takeoverMs < 6_000, `takeover after ${takeoverMs} ms (deadtime 1 s)`);
    await waitFor('the client to learn server2’s MAC from the GARPs', async () => (await clientVipMac(topo)) === topo.host('server2').mac, 10_000);

    // link back: the partition heals without a restart, the VIP goes home (auto_failback on)
    await setLink(topo, 'server1', true);
    const t1 = Date.now();
    await waitFor('one holder (server1) after the heal', async () => {
      const h = await vipHolders(topo);
      return h.length === 1 && h[0] === 'server1';
    }, 5_000);
    const healMs = Date.now() - t1;
    assert.ok(s1.child.exitCode === null && s2.child.exitCode === null, 'nobody restarted (the ifdown did not take the node down)');
    assert.ok(logEvents(s2, 'contest').length >= 1);
    await waitFor('the client back on server1', async () => (await clientVipMac(topo)) === topo.host('server1').mac, 15_000);
    // server1's capture handles died with its link and were reopened: the heal's re-announcement left on the wire
    assert.ok(logEvents(s1, 'garp-handle').some((e) => e.up === true), 'the capture handles reopened after the link came back');
    const again = await waitFor('the report of the heal re-announcement', () => logEvents(s1, 'garp').find((e) => /after the heal asked for it again/.test(String(e.text))), 5_000);
    assert.ok(Number(again.seen) >= 1, JSON.stringify(again));

    // graceful stop of server1: server2 takes over without waiting for deadtime
    const t2 = Date.now();
    await stopNode(s1);
    assert.equal(s1.child.exitCode, 0);
    await waitFor('server2 to take over after shutdone', async () => (await vipHolders(topo)).includes('server2'), 3_000);
    const handoverMs = Date.now() - t2;
    assert.equal(logEvents(s2, 'peer-shutdown').length, 1);
    assert.deepEqual(await vipHolders(topo), ['server2']);

    // kill -9 server2 (it keeps the VIP configured), restart it: the leftover is removed, no second VIP
    s2.child.kill('SIGKILL');
    await s2.exited;
    assert.deepEqual(await vipHolders(topo), ['server2'], 'kill -9 leaves the address (as Heartbeat)');
    const s1b = startNode(topo, dir, 'server1');
    procs.push(s1b);
    const s2b = startNode(topo, dir, 'server2');
    procs.push(s2b);
    await waitFor('server2 to remove the stale VIP at start-up', () => logEvents(s2b, 'stale-vip').length > 0, 30_000);
    await waitFor('server1 to hold the VIP', async () => {
      const h = await vipHolders(topo);
      return h.length === 1 && h[0] === 'server1';
    }, 30_000);
    process.stderr.write(`node-hadiag: takeover ${takeoverMs} ms (deadtime 1000 ms), heal ${healMs} ms, graceful handover ${handoverMs} ms\n`);
  } finally {
    for (const p of procs) await stopNode(p);
    left = await vipHolders(topo).catch(() => []);
    if (left.length) for (const p of procs) process.stderr.write(`--- ${p.name} exit ${p.child.exitCode}\n${p.logs.map((l) => `${l.tsMs} ${l.event} ${l.text}`).join('\n')}\n${p.stderr.join('')}\n`);
    await topo.teardown();
  }
  assert.deepEqual(left, [], 'no VIP left behind after SIGTERM');
});
