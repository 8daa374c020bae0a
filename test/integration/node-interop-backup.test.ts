import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { sleep } from '../../src/core/clock.js';
import { makeLab, writeConfig, startNode, stopNode, vipHolders, waitFor, setLink, logEvents, startReal, stopReal, stopRealGently, realComplaints, realSeesDead, type NodeProc, type RealNode } from './node-helpers.js';

test('interop: real Heartbeat 3.0.6 primary (server1) + hadiag backup (server2)', { timeout: 180_000 }, async () => {
  const { topo, dir } = await makeLab();
  let s2: NodeProc | undefined;
  let real: RealNode | undefined;
  let passed = false;
  try {
    real = await startReal(topo, dir, 'server1');
    const r = real;
    await waitFor('the real primary to take the VIP', async () => (await vipHolders(topo)).includes('server1'), 40_000, 200);
    writeConfig(join(dir, 'server2', 'ha.d'), topo.host('server2').ifname);
    s2 = startNode(topo, dir, 'server2');
    const n = s2;
    await waitFor('hadiag to see the real primary', () => logEvents(n, 'peer-up').length > 0, 30_000);
    await waitFor('the real daemon to see server2 active', () => /Status update for node server2: status active/.test(r.log()), 20_000);
    await waitFor('hadiag to learn what the primary holds', () => logEvents(n, 'remote-stable').length > 0, 20_000);
    await sleep(1_500);
    assert.deepEqual(await vipHolders(topo), ['server1'], 'steady state: VIP on the real primary');
    assert.equal(logEvents(n, 'peer-dead').length, 0);

    // primary link down: hadiag takes over at deadtime
    const cut = r.log().length;
    await setLink(topo, 'server1', false);
    const t0 = Date.now();
    await waitFor('hadiag to take the VIP', async () => (await vipHolders(topo)).includes('server2'), 10_000);
    const takeoverMs = Date.now() - t0;
    assert.ok(takeoverMs < 6_000, `takeover after ${takeoverMs} ms (deadtime 1 s)`);

    // the real primary must have declared server2 dead too (its deadtime timer, after the cut), or there is no
    // partition to heal: its timer can lag behind hadiag's takeover, and a link back before it fired is only a
    // late heartbeat to it (`Late heartbeat ... (> deadtime)`, `is dead`, then at once `status active`: no
    // restart). The `is dead` it logged at initdead (it starts alone) must not count either.
    await waitFor('the real primary to declare server2 dead', () => realSeesDead(r.log(), 'server2', cut), 20_000, 200);

    // link up: the real primary restarts after the partition; auto_failback on brings the VIP home
    await setLink(topo, 'server1', true);
    await waitFor('the restarted real primary to rejoin', () => {
      const after = r.log().split('Performing heartbeat restart exec').at(-1)!;
      return /restart exec/.test(r.log()) && /Link server2:\S+ up/.test(after);
    }, 45_000, 200);
    assert.match(r.log().slice(cut), /Cluster node server2 returning after partition/, 'the real primary saw a partition');
    assert.ok(logEvents(n, 'peer-up').some((e) => e.healed === true), 'hadiag saw the partition heal');
    await waitFor('the VIP back on the real primary only', async () => {
      const h = await vipHolders(topo);
      return h.length === 1 && h[0] === 'server1';
    }, 45_000, 200);
    await sleep(2_000);
    assert.deepEqual(await vipHolders(topo), ['server1'], 'exactly one holder after failback');
    assert.equal(n.child.exitCode, null, 'hadiag kept running');

    // graceful stop of the real primary: hadiag takes over at once (shutdone), not after deadtime
    const t1 = Date.now();
    await stopReal(r, 'term');
    await waitFor('hadiag to take over after shutdone', async () => (await vipHolders(topo)).includes('server2'), 30_000, 100);
    assert.equal(logEvents(n, 'peer-shutdown').length >= 1, true, 'took over on shutdone');
    const handoverMs = Date.now() - t1;
    process.stderr.write(`node-interop-backup: hadiag takeover ${takeoverMs} ms after link down (deadtime 1 s); took over ${handoverMs} ms after SIGTERM to the real primary (its release included)\n`);
    assert.deepEqual(realComplaints(r.log()), [], 'the real daemon did not complain about our messages');
    passed = true;
  } finally {
    if (s2) await stopNode(s2);
    // both nodes' logs stay for a failed run: the real one's ha-log under server1-hb/run, hadiag's JSON lines here
    if (s2) writeFileSync(join(dir, 'server2', 'node-log.jsonl'), s2.logs.map((l) => JSON.stringify(l)).join('\n') + '\n' + s2.stderr.join(''));
    if (!passed) process.stderr.write(`node-interop-backup: logs in ${dir} (server1-hb/run/ha-log, server2/node-log.jsonl)\n`);
    await stopRealGently(real);
    await topo.teardown();
  }
});
