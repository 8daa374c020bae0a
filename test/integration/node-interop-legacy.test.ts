/**
 * auto_failback legacy (Heartbeat's nice_failback off) against the real Heartbeat 3.0.6: hadiag run-node is
 * server1 (home of the VIP), the real daemon is server2, both with `auto_failback legacy`. A graceful stop of
 * hadiag hands the VIP to the real node; hadiag started again asks for its group back (t=ip-request, answered
 * by the real node's rc.d/ip-request with t=ip-request-resp) and ends as the only holder. The reverse: the real
 * daemon as the home node asks hadiag; its rc.d/ip-request-resp takes the group only on hadiag's answer (the
 * real req_resource never takes a group without one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alive } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { assertNoComplaints, makeLab, startNode, stopNode, vipHolders, waitFor, logEvents, startReal, stopReal, stopRealGently, VIP, legacyRealHome, type InteropPair, legacyHadiagHome } from './node-helpers.js';

/** Count the samples that find the VIP on both hosts while `fn` runs. */
async function countBoth(topo: Parameters<typeof vipHolders>[0], fn: () => Promise<void>): Promise<number> {
  let both = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      if ((await vipHolders(topo)).length === 2) both++;
      await sleep(50);
    }
  })();
  try {
    await fn();
  } finally {
    sampling = false;
    await sampler;
  }
  return both;
}

const onlyHolder = (topo: Parameters<typeof vipHolders>[0], who: string) => async () => {
  const h = await vipHolders(topo);
  return h.length === 1 && h[0] === who;
};

test('interop: auto_failback legacy, hadiag home node (server1) + real Heartbeat 3.0.6 (server2)', { timeout: 120_000 }, async () => {
  const started = Date.now();
  const { topo, dir } = await makeLab();
  const ifname = topo.host('server1').ifname;
  const pair: InteropPair = {};
  try {
    // (1) steady state: the VIP on server1 only, the real daemon sees server1 active
    const { real: r, hadiag: first } = await legacyHadiagHome(topo, dir, pair, 2_000);
    let s1 = first;

    // (2) graceful stop of hadiag (shutdone): the real node takes the VIP
    await stopNode(s1);
    assert.equal(s1.child.exitCode, 0);
    await waitFor('the real node to take the VIP after shutdone', onlyHolder(topo, 'server2'), 30_000, 100);
    assert.match(r.log(), /Received shutdown notice from 'server1'/);
    const before = r.log().length;
    await sleep(1_000);

    // (3) hadiag server1 again: it asks for its group back (ip-request), the real node gives it up and answers
    // (ip-request-resp) and only then does hadiag take the VIP: sampled all along, never on both hosts
    const t0 = Date.now();
    s1 = pair.hadiag = startNode(topo, dir, 'server1');
    const s1b = s1;
    const both = await countBoth(topo, async () => {
      await waitFor('the VIP back on server1 only', onlyHolder(topo, 'server1'), 30_000, 100);
      process.stderr.write(`node-interop-legacy: VIP back on server1 ${Date.now() - t0} ms after its restart\n`);
      await sleep(2_000);
    });
    assert.deepEqual(await vipHolders(topo), ['server1'], 'end state: VIP on server1 only');
    assert.equal(both, 0, 'the VIP was never on both hosts during the failback');
    const tail = r.log().slice(before);
    // what the real 3.0.6 logs for our ip-request: heartbeat runs rc.d/ip-request, which gives the group up
    assert.match(tail, /harc\(default\)\[\d+\]:\s+info: Running \/etc\/ha\.d\/\/rc\.d\/ip-request ip-request/);
    assert.match(tail, new RegExp(`ResourceManager\\(default\\)\\[\\d+\\]:\\s+info: Releasing resource group: server1 IPaddr::${VIP.replace(/\./g, '\\.')}/255\\.255\\.255\\.0/${ifname}`));
    // its answer reached hadiag: ip-request-resp for our group key, weown=yes (it held the group)
    const resp = logEvents(s1b, 'ip-request-resp');
    assert.equal(resp.length, 1, 'hadiag got one ip-request-resp');
    assert.match(String(resp[0]!.text), new RegExp(`server2 answered ip-request IPaddr::${VIP.replace(/\./g, '\\.')}/255\\.255\\.255\\.0/${ifname}: ok=OK weown=yes`));
    assert.equal(logEvents(s1b, 'ip-request-timeout').length, 0);
    assertNoComplaints(r, dir);
    process.stderr.write(`node-interop-legacy: ${Date.now() - started} ms\n`);
  } finally {
    if (pair.hadiag) await stopNode(pair.hadiag);
    await stopRealGently(pair.real);
    await topo.teardown();
  }
});

test('interop: auto_failback legacy, real Heartbeat 3.0.6 home node (server1) asks hadiag (server2) for its group back', { timeout: 120_000 }, async () => {
  const started = Date.now();
  const { topo, dir } = await makeLab();
  const ifname = topo.host('server1').ifname;
  const pair: InteropPair = {};
  try {
    const { hadiag: s2 } = await legacyRealHome(topo, dir, pair, 2_000);
    let real = pair.real!;

    // graceful stop of the real node: it gives the group up and sends shutdone; hadiag takes the VIP
    await stopReal(real, 'term');
    await waitFor('hadiag to take the VIP after the real shutdone', onlyHolder(topo, 'server2'), 30_000, 100);
    assert.equal(logEvents(s2, 'peer-shutdown').length, 1);
    // its master process exits a moment after 'shutdown complete'; a start before that finds it still running
    const oldPid = real.host.manager!.pid;
    await waitFor('the real daemon to finish its shutdown', () => /Heartbeat shutdown complete/.test(real!.log()) && !alive(oldPid), 15_000);
    const before = real.log().length;

    // the real node again: its req_resource sends t=ip-request ipaddr=<group key>; hadiag releases and answers
    const r = await startReal(topo, dir, 'server1', { autoFailback: 'legacy' });
    real = pair.real = r;
    const both = await countBoth(topo, async () => {
      await waitFor('the VIP back on the real server1 only', onlyHolder(topo, 'server1'), 40_000, 100);
      await sleep(2_000);
    });
    assert.deepEqual(await vipHolders(topo), ['server1'], 'end state: VIP on server1 only');
    assert.equal(both, 0, 'the VIP was never on both hosts during the failback');
    assert.equal(logEvents(s2, 'failback').length, 1, 'hadiag handled the ip-request');
    const tail = r.log().slice(before);
    assert.match(tail, new RegExp(`ip-request-resp\\(default\\)\\[\\d+\\]:\\s+received ip-request-resp IPaddr::${VIP.replace(/\./g, '\\.')}/255\\.255\\.255\\.0/${ifname} OK yes`));
    assert.match(tail, /Initial resource acquisition complete \(ip-request-resp\)/);
    assertNoComplaints(r, dir);
    process.stderr.write(`node-interop-legacy (reverse): ${Date.now() - started} ms\n`);
  } finally {
    if (pair.hadiag) await stopNode(pair.hadiag);
    await stopRealGently(pair.real);
    await topo.teardown();
  }
});
