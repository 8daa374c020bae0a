/**
 * A mixed cluster with ping nodes: hadiag run-node (built-in ipfail) on server1, the real Heartbeat 3.0.6 with
 * its real ipfail on server2, heartbeats on a separate link, a ping node on the client side (fast timers).
 * server1's client link goes down: hadiag tells the real ipfail its count (num_ping_nodes 0), the real ipfail
 * answers you_are_dead, hadiag goes standby and the real Heartbeat takes the VIP. The link comes back: the
 * counts are balanced again and the real ipfail gives the foreign group back (auto_failback on). Then the other
 * way round: hadiag goes standby, the real node holds and loses its client link: hadiag's you_are_dead makes
 * the real ipfail give everything up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { applyFault, parseFault } from '../../src/effects/lab/faults.js';
import { waitForVipHolder } from '../../src/effects/lab/vip.js';
import { getManager } from '../../src/effects/lab/managers/index.js';
import { writeState } from '../../src/effects/lab/state.js';
import { labHost } from '../../src/effects/lab/types.js';
import { alive } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { controlRequest } from '../../src/effects/node/daemon.js';

test('interop: hadiag (built-in ipfail) + real Heartbeat 3.0.6 with its ipfail — client-link-down moves the VIP to the real node and back', { timeout: 150_000 }, async () => {
  const lab = await upLab({ manager: 'hadiag', timers: 'fast', heartbeatLink: 'separate', pingNode: true });
  try {
    assert.equal(await waitForVipHolder(lab, 10_000), 'server1');
    // server2 becomes a real Heartbeat node with the same ha.cf (ping .1, respawn … ipfail)
    const s2 = labHost(lab, 'server2');
    await getManager('hadiag').stop(lab, s2, 'term');
    for (let i = 0; i < 100 && s2.manager && alive(s2.manager.pid); i++) await sleep(100);
    s2.manager = await getManager('heartbeat').start(lab, s2);
    await writeState(lab);
    const realLog = () => readFile(join(s2.dir, 'run', 'ha-log'), 'utf8').catch(() => '');
    const hadiagLog = () => readFile(join(labHost(lab, 'server1').dir, 'ha-log'), 'utf8');
    for (let i = 0; i < 300 && !/Starting "\/usr\/libexec\/heartbeat\/ipfail"/.test(await realLog()); i++) await sleep(100);
    assert.match(await realLog(), /Starting "\/usr\/libexec\/heartbeat\/ipfail"/, 'the real ipfail runs on server2');
    await sleep(3000); // the real node joins (initdead) and its ping node comes up
    assert.equal(await waitForVipHolder(lab, 10_000), 'server1', 'still on hadiag');

    await applyFault(lab, parseFault('client-link-down'), 'server1');
    assert.equal(await waitForVipHolder(lab, 30_000, { not: 'server1' }), 'server2', 'the real Heartbeat took the VIP');
    assert.match(await realLog(), /Telling other node that we have more visible ping nodes/, "the real ipfail read hadiag's num_ping_nodes");
    assert.match(await hadiagLog(), /Giving up because we were told that we have less ping nodes \(by server2\)/, "hadiag read the real ipfail's you_are_dead");

    await applyFault(lab, parseFault('link-up'), 'server1');
    assert.equal(await waitForVipHolder(lab, 40_000, { not: 'server2' }), 'server1', 'balanced again: the real ipfail gave the group back');
    assert.match(await realLog(), /Giving up foreign resources \(auto_failback\)/);

    // the other way round: the real node holds (hadiag goes standby), then loses its client link
    // right after the failback the resources may still be settling and a standby request is not acted on
    // (as Heartbeat's hb_standby): ask again until the real node holds
    let holder = 'server1';
    for (let attempt = 0; attempt < 3 && holder === 'server1'; attempt++) {
      const st = await controlRequest(join(labHost(lab, 'server1').dir, 'hadiag-state'), 'standby');
      assert.ok(st.ok, st.error);
      holder = await waitForVipHolder(lab, 12_000, { not: 'server1' }).catch(() => 'server1');
    }
    assert.equal(holder, 'server2', 'hadiag standby: the real node holds');
    await sleep(1000);
    await applyFault(lab, parseFault('client-link-down'), 'server2');
    assert.equal(await waitForVipHolder(lab, 30_000, { not: 'server2' }), 'server1', "hadiag's you_are_dead made the real ipfail give up");
    assert.match(await hadiagLog(), /Telling other node that we have more visible ping nodes \(1 > 0\)/);
    assert.match(await realLog(), /Giving up because we were told that we have less ping nodes/);
  } finally {
    await destroyLab(lab.id);
  }
});
