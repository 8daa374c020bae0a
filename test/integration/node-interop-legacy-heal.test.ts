/**
 * auto_failback legacy, partition heal, against the real Heartbeat 3.0.6: hadiag run-node is server1 (home of
 * the VIP), the real daemon server2, both `auto_failback legacy`. server1's link goes down until the real
 * daemon declares it dead (its deadtime timer) and takes the VIP; then the link comes back. hadiag kept its
 * group all along (it saw server2 die too). What the real 3.0.6 does on the heal: it logs "returning after
 * partition", gives up everything it holds (the VIP it took) and re-executes itself; its new incarnation has
 * no group of its own, and in legacy mode it asks for nothing, so the VIP stays on server1. Sampled every
 * 75 ms from link-up: how long both / nobody held the VIP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { sleep } from '../../src/io/netns.js';
import { assertNoComplaints, makeLab, writeConfig, startNode, stopNode, vipHolders, waitFor, logEvents, setLink, clientVipMac, realSeesDead, startReal, stopRealGently, VIP, type NodeProc, type RealNode } from './node-helpers.js';

const STEP_MS = 75;

test('interop: auto_failback legacy, partition heal between hadiag home node (server1) and real Heartbeat 3.0.6 (server2)', { timeout: 90_000 }, async () => {
  const started = Date.now();
  const { topo, dir } = await makeLab();
  const ifname = topo.host('server1').ifname;
  let s1: NodeProc | undefined;
  let real: RealNode | undefined;
  try {
    // the real node's haresources line (lab heartbeat manager): Heartbeat names a group by its first resource
    writeConfig(join(dir, 'server1', 'ha.d'), ifname, { autoFailback: 'legacy', haresources: `server1 IPaddr::${VIP}/255.255.255.0/${ifname}\n` });
    s1 = startNode(topo, dir, 'server1');
    const s = s1;
    await waitFor('hadiag server1 to take the VIP', async () => (await vipHolders(topo)).includes('server1'), 30_000);
    real = await startReal(topo, dir, 'server2', { autoFailback: 'legacy' });
    const r = real;

    // (1) steady state: the VIP on server1 only
    await waitFor('the real daemon to see server1 active', () => /Status update for node server1: status active/.test(r.log()), 20_000);
    await waitFor('hadiag to see server2', () => logEvents(s, 'peer-up').length > 0, 20_000);
    await sleep(2_000);
    assert.deepEqual(await vipHolders(topo), ['server1'], 'steady state: VIP on the hadiag home node only');
    const starts = logEvents(s, 'start').length;

    // (2) server1's link down until the real daemon declares it dead (deadtime, not a late heartbeat) and takes the VIP
    const cut = r.log().length;
    const tCut = Date.now();
    await setLink(topo, 'server1', false);
    await waitFor('the real daemon to declare server1 dead', () => realSeesDead(r.log(), 'server1', cut), 20_000, 100);
    await waitFor('the real daemon to take the VIP', async () => (await vipHolders(topo)).includes('server2'), 20_000, 100);
    await waitFor('hadiag to declare server2 dead', () => logEvents(s, 'peer-dead').length > 0, 10_000, 100);
    await sleep(500);
    assert.deepEqual(await vipHolders(topo), ['server1', 'server2'], 'during the cut both sides hold the VIP (split brain, as Heartbeat)');
    const releasedBefore = logEvents(s, 'released').length;

    // (3) link up: sample the holders until the VIP is on server1 only and the real daemon's new incarnation has joined
    const heal = r.log().length;
    const samples: { t: number; h: string[] }[] = [];
    let sampling = true;
    const tUp = Date.now();
    await setLink(topo, 'server1', true);
    process.stderr.write(`node-interop-legacy-heal: link down ${tUp - tCut} ms\n`);
    const sampler = (async () => {
      while (sampling) {
        samples.push({ t: Date.now() - tUp, h: await vipHolders(topo) });
        await sleep(STEP_MS);
      }
    })();
    try {
      await waitFor('the real daemon to restart after the partition and rejoin', () => {
        const tail = r.log().slice(heal);
        const after = tail.split('Performing heartbeat restart exec').at(-1)!;
        return /Performing heartbeat restart exec/.test(tail) && /Status update for node server1: status active/.test(after);
      }, 40_000, 100);
      await waitFor('the VIP on server1 only', async () => {
        const h = await vipHolders(topo);
        return h.length === 1 && h[0] === 'server1';
      }, 20_000, 100);
      await sleep(3_000); // and it stays there
    } finally {
      sampling = false;
      await sampler;
    }

    // the sampled timeline after link-up
    const dur = (pred: (h: string[]) => boolean) => samples.reduce((acc, x, i) => acc + (pred(x.h) ? (samples[i + 1]?.t ?? x.t) - x.t : 0), 0);
    const bothMs = dur((h) => h.length === 2);
    const noneMs = dur((h) => h.length === 0);
    const lastBoth = samples.filter((x) => x.h.length === 2).at(-1)?.t;
    process.stderr.write(`node-interop-legacy-heal: ${samples.length} samples; both held the VIP ${bothMs} ms (last ${lastBoth ?? '-'} ms after link-up), nobody ${noneMs} ms\n`);

    const mac = await clientVipMac(topo);
    process.stderr.write(`node-interop-legacy-heal: client's MAC for the VIP at the end: ${mac} (server1 ${topo.host('server1').mac}, server2 ${topo.host('server2').mac})\n`);
    // the client reaches the VIP on server1 (its neighbour entry re-resolves at once with the lab's short timers)
    const ping = await topo.exec('client', ['ping', '-c', '2', '-i', '0.2', '-W', '1', VIP]);
    assert.equal(ping.code, 0, `the client pings the VIP: ${ping.stdout}`);
    assert.equal(await clientVipMac(topo), topo.host('server1').mac, 'the client reaches the VIP at server1');
    writeFileSync(join(dir, 'server1.jsonl'), s.logs.map((l) => JSON.stringify(l)).join('\n'));
    const tail = r.log().slice(heal);
    assert.match(tail, /Cluster node server1 returning after partition/);
    assert.match(tail, /Performing heartbeat restart exec/);
    // the end: exactly one holder, server1, for the last 3 s
    assert.deepEqual(await vipHolders(topo), ['server1'], 'end state: VIP on server1 only');
    const end = samples.filter((x) => x.t >= samples.at(-1)!.t - 2_500);
    assert.ok(end.length >= 10 && end.every((x) => x.h.length === 1 && x.h[0] === 'server1'), 'the VIP stayed on server1 only at the end');
    assert.ok(noneMs < 1_000, `the VIP was never left on nobody for long (${noneMs} ms)`);
    // hadiag (home node, legacy) kept its group: never released it, never restarted
    assert.equal(logEvents(s, 'released').length, releasedBefore, 'hadiag did not release its own group');
    assert.equal(s.child.exitCode, null, 'hadiag kept running');
    assert.equal(logEvents(s, 'start').length, starts, 'hadiag did not restart');
    assert.ok(logEvents(s, 'peer-up').some((e) => e.healed === true || /partition healed/.test(String(e.text))) || logEvents(s, 'generation-change').length > 0, 'hadiag saw server2 come back');
    assertNoComplaints(r, dir);
    process.stderr.write(`node-interop-legacy-heal: ${Date.now() - started} ms\n`);
  } finally {
    if (s1) await stopNode(s1);
    await stopRealGently(real);
    await topo.teardown();
  }
});
