import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sleep } from '../../src/core/clock.js';
import { assertNoComplaints, makeLab, writeConfig, startNode, stopNode, vipHolders, waitFor, setLink, logEvents, startReal, stopRealGently, nodeStatus, VIP, type NodeProc, type RealNode } from './node-helpers.js';

const onlyHolder = (topo: Parameters<typeof vipHolders>[0], who: string) => async () => {
  const h = await vipHolders(topo);
  return h.length === 1 && h[0] === who;
};

test('interop: hadiag primary (server1) + real Heartbeat 3.0.6 backup (server2)', { timeout: 240_000 }, async () => {
  const { topo, dir } = await makeLab();
  let s1: NodeProc | undefined;
  let real: RealNode | undefined;
  try {
    writeConfig(join(dir, 'server1', 'ha.d'), topo.host('server1').ifname);
    s1 = startNode(topo, dir, 'server1');
    await waitFor('hadiag server1 to start', () => logEvents(s1!, 'start').length > 0, 30_000);
    await waitFor('hadiag server1 to take the VIP', async () => (await vipHolders(topo)).includes('server1'), 30_000);
    real = await startReal(topo, dir, 'server2');
    const r = real;
    await waitFor('the real daemon to see server1 active', () => /Status update for node server1: status active/.test(r.log()), 20_000);
    await waitFor('hadiag to see server2 active', () => logEvents(s1!, 'peer-active').length > 0 || logEvents(s1!, 'peer-up').some((e) => /active/.test(String(e.text))), 20_000);
    await waitFor('the real daemon to settle', () => /remote resource transition completed/.test(r.log()), 20_000);
    await sleep(1_500);
    assert.deepEqual(await vipHolders(topo), ['server1'], 'steady state: VIP on the hadiag primary');
    // hadiag learns clients (the client's traffic to the VIP; 70 more from server1's neighbour table) and tells
    // its peer in t=hadiag-clients, a book of 71 in three messages of ≤ 32: the real daemon must ignore them all
    // without a word
    const s1ns = topo.host('server1');
    const neigh = Array.from({ length: 70 }, (_, i) => `neigh add 198.18.0.${100 + i} lladdr 02:00:00:00:01:${(100 + i).toString(16)} dev ${s1ns.ifname} nud permanent`);
    await topo.exec('server1', ['sh', '-c', `printf '%s\n' ${neigh.map((l) => `'${l}'`).join(' ')} | ip -batch -`]);
    await topo.exec('client', ['ping', '-c', '2', '-W', '1', VIP]);
    await waitFor('hadiag to tell its peer 71 learned clients', () => logEvents(s1!, 'clients-learned').some((e) => Number((e as { count?: number }).count) >= 71), 20_000);
    await sleep(6_000); // the periodic repeat (every 5 s) reaches the real daemon too
    const lines = r.log().split('\n').filter((l) => /hadiag-clients|unknown|bad|invalid|malformed/i.test(l));
    assert.deepEqual(lines, [], 'the real daemon ignores hadiag-clients');

    // primary link down: the real backup takes the VIP
    await setLink(topo, 'server1', false);
    await waitFor('the real backup to take the VIP', async () => (await vipHolders(topo)).includes('server2'), 30_000);
    assert.match(r.log(), /node server1: is dead/);

    // link up: the real daemon sees a partition and restarts; it must end with the VIP on server1 only
    await setLink(topo, 'server1', true);
    await waitFor('the VIP back on server1 only', onlyHolder(topo, 'server1'), 90_000, 200);
    // the real daemon restarts itself after a partition; wait until its new incarnation has joined us
    await waitFor('the restarted real daemon to rejoin', () => {
      const after = r.log().split('Performing heartbeat restart exec').at(-1)!;
      return /restart exec/.test(r.log()) && /Link server1:\S+ up/.test(after) && /remote resource transition completed/.test(after);
    }, 90_000, 200);
    await sleep(2_000);
    assert.deepEqual(await vipHolders(topo), ['server1'], 'exactly one holder after the heal');
    assert.equal(s1.child.exitCode, null, 'hadiag kept running');

    // `hadiag node standby`: the three-phase standby protocol with the real node, which takes the VIP
    await nodeStatus(topo, s1, 'standby');
    await waitFor('the real node to hold the VIP after our standby', onlyHolder(topo, 'server2'), 30_000, 200);
    assert.match(r.log(), /server1 wants to go standby/);
    // `hadiag node takeover`: t=hb_takeover; the real node's rc.d/hb_takeover runs hb_standby
    await waitFor('the real node to settle', () => /remote resource transition completed[\s\S]*remote resource transition completed/.test(r.log().split('wants to go standby').at(-1)!) || logEvents(s1!, 'remote-stable').length > 2, 10_000).catch(() => undefined);
    await sleep(1_000);
    await nodeStatus(topo, s1, 'takeover');
    await waitFor('the VIP back on hadiag after takeover', onlyHolder(topo, 'server1'), 30_000, 200);
    assert.match(r.log(), /server2 wants to go standby/);
    await sleep(1_000);

    // graceful stop of hadiag: shutdone, the real node takes over without waiting for deadtime
    const t0 = Date.now();
    await stopNode(s1);
    assert.equal(s1.child.exitCode, 0);
    await waitFor('the real node to take over after shutdone', async () => (await vipHolders(topo)).includes('server2'), 30_000);
    assert.match(r.log(), /Received shutdown notice from 'server1'/);
    process.stderr.write(`node-interop-primary: real node took over ${Date.now() - t0} ms after SIGTERM to hadiag (its IPaddr script included)\n`);

    assertNoComplaints(r, dir);
  } finally {
    if (s1) await stopNode(s1);
    await stopRealGently(real);
    await topo.teardown();
  }
});
