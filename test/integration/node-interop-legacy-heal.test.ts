/**
 * auto_failback legacy, partition heal, against the real Heartbeat 3.0.6 (both nodes `auto_failback legacy`,
 * the VIP's home is server1). server1's link goes down until the real daemon declares its peer dead (its
 * deadtime timer, not a late heartbeat) and the side without the VIP takes it; then the link comes back.
 *
 * What the real 3.0.6 does on that heal (its log): "Cluster node X returning after partition", then "Heartbeat
 * shutdown in progress", "Giving up all HA resources" (IPaddr stop), a `shutdone` to its peer, "Performing
 * heartbeat restart exec". Its new incarnation, in legacy mode, sends `ip-request` for its own groups only.
 *
 * 1. hadiag home (server1), real server2: hadiag keeps its group all along; the real node drops the VIP it took
 *    when it restarts and asks for nothing (no group of its own): both hold it ~3 s after link-up, nobody never.
 * 2. real home (server1), hadiag server2: hadiag frees the group at once on the heal; the real node gives up
 *    everything when it restarts and says shutdone, so hadiag takes the VIP as after any graceful stop; the new
 *    incarnation asks for it (ip-request), hadiag frees it and answers, the real node takes it (its IPaddr start
 *    is the short moment nobody holds it, as between two real nodes).
 * The holders are sampled every 75 ms from link-up; the timeline is printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { type Topology } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { assertNoComplaints, makeLab, stopNode, vipHolders, waitFor, logEvents, setLink, clientVipMac, realSeesDead, stopRealGently, VIP, legacyRealHome, type InteropPair, legacyHadiagHome } from './node-helpers.js';

const STEP_MS = 75;
const KEY_RE = `IPaddr::${VIP.replace(/\./g, '\\.')}/255\\.255\\.255\\.0/`;

interface Sample { t: number; h: string[] }

/** Sample the VIP holders every STEP_MS (t = ms since `t0`) while `fn` runs. */
async function sampleHolders(topo: Topology, t0: number, fn: (samples: Sample[]) => Promise<void>): Promise<Sample[]> {
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ t: Date.now() - t0, h: await vipHolders(topo) });
      await sleep(STEP_MS);
    }
  })();
  try {
    await fn(samples);
  } finally {
    sampling = false;
    await sampler;
  }
  return samples;
}

/** How long (ms) the samples satisfy `pred`, the longest such run, and the changes as `t:holders`. */
function summarize(samples: Sample[]) {
  const runs = (pred: (h: string[]) => boolean) => {
    let total = 0;
    let longest = 0;
    let cur = 0;
    samples.forEach((x, i) => {
      const span = (samples[i + 1]?.t ?? x.t) - x.t;
      if (pred(x.h)) {
        total += span;
        cur += span;
        longest = Math.max(longest, cur);
      } else cur = 0;
    });
    return { total, longest };
  };
  const label = (h: string[]) => h.join('+') || 'nobody';
  const changes = samples.filter((x, i) => i === 0 || label(x.h) !== label(samples[i - 1]!.h)).map((x) => `${x.t}:${label(x.h)}`);
  return { both: runs((h) => h.length === 2), none: runs((h) => h.length === 0), changes: changes.join(' ') };
}

/** Enough samples in the last `ms` to say what the VIP did then (sampling slows down on a loaded machine). */
const endSamples = (ms: number): number => Math.ceil(ms / STEP_MS / 3);

/** The last `ms` of samples all show the VIP on `who` only. */
function endsOn(samples: Sample[], who: string, ms: number): boolean {
  const end = samples.filter((x) => x.t >= samples.at(-1)!.t - ms);
  return end.length >= endSamples(ms) && end.every((x) => x.h.length === 1 && x.h[0] === who);
}

/** Wait `ms`, and on until the sampler has taken enough samples in the last END_MS for endsOn to judge (≤ 30 s). */
async function holdAndSample(samples: Sample[], ms: number): Promise<void> {
  await sleep(ms);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && samples.filter((x) => x.t >= samples.at(-1)!.t - END_MS).length < endSamples(END_MS)) await sleep(STEP_MS);
}
const END_MS = 2_000;

test('interop: auto_failback legacy, partition heal, hadiag home node (server1) + real Heartbeat 3.0.6 (server2)', { timeout: 90_000 }, async () => {
  const started = Date.now();
  const { topo, dir } = await makeLab();
  const pair: InteropPair = {};
  try {
    // (1) steady state: the VIP on server1 only
    const { real: r, hadiag: s } = await legacyHadiagHome(topo, dir, pair);
    const starts = logEvents(s, 'start').length;

    // (2) server1's link down until the real daemon declares it dead and takes the VIP (hadiag keeps its own)
    const cut = r.log().length;
    const tCut = Date.now();
    await setLink(topo, 'server1', false);
    await waitFor('the real daemon to declare server1 dead', () => realSeesDead(r.log(), 'server1', cut), 20_000, 100);
    await waitFor('the real daemon to take the VIP', async () => (await vipHolders(topo)).includes('server2'), 20_000, 100);
    await waitFor('hadiag to declare server2 dead', () => logEvents(s, 'peer-dead').length > 0, 10_000, 100);
    assert.deepEqual(await vipHolders(topo), ['server1', 'server2'], 'during the cut both sides hold the VIP (split brain, as Heartbeat)');
    const releasedBefore = logEvents(s, 'released').length;

    // (3) link up: sample until the real daemon's new incarnation has joined and the VIP is on server1 only
    const heal = r.log().length;
    const tUp = Date.now();
    await setLink(topo, 'server1', true);
    const samples = await sampleHolders(topo, tUp, async (live) => {
      await waitFor('the real daemon to restart after the partition and rejoin', () => {
        const tail = r.log().slice(heal);
        return /Performing heartbeat restart exec/.test(tail) && /Status update for node server1: status active/.test(tail.split('Performing heartbeat restart exec').at(-1)!);
      }, 40_000, 100);
      await waitFor('the VIP on server1 only', async () => {
        const h = await vipHolders(topo);
        return h.length === 1 && h[0] === 'server1';
      }, 20_000, 100);
      await holdAndSample(live, 2_500); // and it stays there
    });
    const sum = summarize(samples);
    const mac = await clientVipMac(topo);
    process.stderr.write(`node-interop-legacy-heal: link down ${tUp - tCut} ms; after link-up (${samples.length} samples) both held the VIP ${sum.both.total} ms, nobody ${sum.none.total} ms; ${sum.changes}; client's neighbour entry for the VIP ${mac === topo.host('server1').mac ? 'server1' : mac}\n`);
    writeFileSync(join(dir, 'server1.jsonl'), s.logs.map((l) => JSON.stringify(l)).join('\n'));

    // the real daemon's heal: partition, give up everything (the VIP it took), shutdone, restart exec
    const tail = r.log().slice(heal);
    assert.match(tail, /Cluster node server1 returning after partition/);
    assert.match(tail, new RegExp(`Giving up all HA resources[\\s\\S]*Releasing resource group: server1 ${KEY_RE}[\\s\\S]*Performing heartbeat restart exec`));
    assert.doesNotMatch(tail, /ip-request/, 'the restarted real daemon (no group of its own) asks for nothing');
    assert.equal(logEvents(s, 'peer-shutdown').length, 1, 'hadiag got the restarting real daemon\'s shutdone');
    assert.ok(logEvents(s, 'generation-change').length > 0, 'hadiag followed the real daemon\'s new incarnation');
    // the end: exactly one holder, server1; nobody never held it for long
    assert.deepEqual(await vipHolders(topo), ['server1'], 'end state: VIP on server1 only');
    assert.ok(endsOn(samples, 'server1', 2_000), 'the VIP stayed on server1 only at the end');
    assert.ok(sum.none.longest < 1_000, `the VIP was never left on nobody for long (${sum.none.longest} ms)`);
    // the client reaches the VIP on server1 (its neighbour entry re-resolves at once with the lab's short timers)
    const ping = await topo.exec('client', ['ping', '-c', '2', '-i', '0.2', '-W', '1', VIP]);
    assert.equal(ping.code, 0, `the client pings the VIP: ${ping.stdout}`);
    assert.equal(await clientVipMac(topo), topo.host('server1').mac, 'the client reaches the VIP at server1');
    // hadiag (home node, legacy) kept its group: never released it, never restarted
    assert.equal(logEvents(s, 'released').length, releasedBefore, 'hadiag did not release its own group');
    assert.ok(logEvents(s, 'peer-up').some((e) => e.healed === true), 'hadiag saw the partition heal');
    assert.equal(s.child.exitCode, null, 'hadiag kept running');
    assert.equal(logEvents(s, 'start').length, starts, 'hadiag did not restart');
    assertNoComplaints(r, dir);
    process.stderr.write(`node-interop-legacy-heal: ${Date.now() - started} ms\n`);
  } finally {
    if (pair.hadiag) await stopNode(pair.hadiag);
    await stopRealGently(pair.real);
    await topo.teardown();
  }
});

test('interop: auto_failback legacy, partition heal, real Heartbeat 3.0.6 home node (server1) + hadiag (server2)', { timeout: 90_000 }, async () => {
  const started = Date.now();
  const { topo, dir } = await makeLab();
  const pair: InteropPair = {};
  try {
    const { real: r, hadiag: s } = await legacyRealHome(topo, dir, pair);
    const starts = logEvents(s, 'start').length;

    // (2) server1's link down until the real daemon declares hadiag dead and hadiag takes the VIP
    const cut = r.log().length;
    const tCut = Date.now();
    await setLink(topo, 'server1', false);
    await waitFor('the real daemon to declare server2 dead', () => realSeesDead(r.log(), 'server2', cut), 20_000, 100);
    await waitFor('hadiag to take the VIP', async () => (await vipHolders(topo)).includes('server2'), 20_000, 100);

    // (3) link up: sample until the real home node has restarted and holds its group alone again
    const heal = r.log().length;
    const tUp = Date.now();
    await setLink(topo, 'server1', true);
    const samples = await sampleHolders(topo, tUp, async (live) => {
      await waitFor('the restarted real node to take its group back', async () => {
        const h = await vipHolders(topo);
        return /Performing heartbeat restart exec/.test(r.log().slice(heal)) && h.length === 1 && h[0] === 'server1';
      }, 40_000, 100);
      await holdAndSample(live, 2_500);
    });
    const sum = summarize(samples);
    process.stderr.write(`node-interop-legacy-heal (real home): link down ${tUp - tCut} ms; after link-up (${samples.length} samples) both held the VIP ${sum.both.total} ms, nobody ${sum.none.total} ms (longest ${sum.none.longest} ms); ${sum.changes}\n`);
    writeFileSync(join(dir, 'server2.jsonl'), s.logs.map((l) => JSON.stringify(l)).join('\n'));

    const tail = r.log().slice(heal);
    assert.match(tail, /Cluster node server2 returning after partition/);
    assert.match(tail, /Giving up all HA resources[\s\S]*Performing heartbeat restart exec/);
    // the new incarnation's ip-request, answered by hadiag after it freed the group; the real rc.d takes it then
    assert.match(tail.split('Performing heartbeat restart exec').at(-1)!, new RegExp(`received ip-request-resp ${KEY_RE}\\S+ OK (yes|no)`));
    // hadiag: freed the group on the heal, took it on the restarting daemon's shutdone, freed it on its ip-request
    assert.ok(logEvents(s, 'failback').some((e) => /asks for its groups back/.test(String(e.text))), 'hadiag answered the restarted node\'s ip-request');
    assert.equal(logEvents(s, 'peer-shutdown').length, 1, 'hadiag got the restarting real daemon\'s shutdone');
    assert.deepEqual(await vipHolders(topo), ['server1'], 'end state: VIP on the real server1 only');
    assert.ok(endsOn(samples, 'server1', 2_000), 'the VIP stayed on server1 only at the end');
    // the only moment nobody holds it: between hadiag's answer and the real IPaddr start (~1-2.5 s measured)
    assert.ok(sum.none.longest < 6_000, `the VIP was not left on nobody for long (${sum.none.longest} ms)`);
    assert.equal(s.child.exitCode, null, 'hadiag kept running');
    assert.equal(logEvents(s, 'start').length, starts, 'hadiag did not restart');
    assertNoComplaints(r, dir);
    process.stderr.write(`node-interop-legacy-heal (real home): ${Date.now() - started} ms\n`);
  } finally {
    if (pair.hadiag) await stopNode(pair.hadiag);
    await stopRealGently(pair.real);
    await topo.teardown();
  }
});
