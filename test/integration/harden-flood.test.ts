/**
 * A flood of junk datagrams (10 000/s asked) to the heartbeat port from a third host while the peer
 * really dies (its cable pulled at the bridge): before the fault, no false failover; after it, death is
 * still declared, not before deadtime − keepalive and within a wide margin after deadtime. The flood is
 * counted (malformed) in the node status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { makeLab, writeConfig, startNode, stopNode, waitFor, vipHolders, logEvents, setLink, REPO, type NodeProc } from './node-helpers.js';
import { counters, delta, LAB_BROADCAST } from './harden-helpers.js';
import { controlRequest } from '../../src/effects/node/daemon.js';
import { nsSpawn, killPid } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { nowMs } from '../../src/core/clock.js';

const KEEPALIVE_MS = 250;
const DEADTIME_MS = 2000;
const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

async function status(p: NodeProc): Promise<Record<string, any>> {
  const r = await controlRequest(p.stateDir, 'status');
  assert.ok(r.ok && r.status);
  return r.status as Record<string, any>;
}

test('junk flood to port 694: no false failover; a real death is still declared about on time', { timeout: 120_000 }, async () => {
  const { topo, dir } = await makeLab();
  const nodes: NodeProc[] = [];
  let floodPid: number | undefined;
  try {
    for (const n of ['server1', 'server2']) writeConfig(join(dir, n, 'ha.d'), topo.host(n).ifname, { keepalive: `${KEEPALIVE_MS}ms`, deadtime: '2', warntime: '1', initdead: '3' });
    nodes.push(startNode(topo, dir, 'server1'), startNode(topo, dir, 'server2'));
    const [, s2] = nodes as [NodeProc, NodeProc];
    await waitFor('the VIP on server1 only', async () => (await vipHolders(topo)).join() === 'server1', 60_000, 200);
    await waitFor('server2 to see server1 active', async () => (await status(s2)).peers[0]?.status === 'active', 10_000);
    const c0 = counters(await status(s2));

    const flood = nsSpawn(
      topo.host('client').netns,
      [process.execPath, '--import', TSX, join(REPO, 'src/effects/forge/main.ts'), '--to', LAB_BROADCAST, '--broadcast', '--port', '694', '--kind', 'junk', '--rate', '10000', '--duration', '12s'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    floodPid = flood.pid;
    const floodResult = new Promise<Record<string, number>>((res) => createInterface({ input: flood.stdout! }).once('line', (l) => res(JSON.parse(l))));

    // the flood process is up once the node counts junk; then 5 s of flood with both nodes alive: the VIP
    // stays on server1, nobody is declared dead
    await waitFor('the flood to reach server2', async () => delta(counters(await status(s2)), c0, 'malformed') >= 100, 30_000, 100);
    const seen = new Set<string>();
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      seen.add((await vipHolders(topo)).join('+') || 'nobody');
      await sleep(100);
    }
    const mid = counters(await status(s2));
    assert.deepEqual([...seen], ['server1'], 'the VIP moved during the flood, before any fault');
    assert.equal(logEvents(s2, 'peer-dead').length, 0, 'server2 declared server1 dead during the flood (false failover)');
    assert.ok(delta(mid, c0, 'malformed') >= 1000, `the flood did not reach the node: ${delta(mid, c0, 'malformed')} malformed`);

    // the peer really dies: its cable pulled at the bridge, the flood still going
    const faultAt = nowMs();
    await setLink(topo, 'server1', false);
    const dead = await waitFor('server2 to declare server1 dead', () => logEvents(s2, 'peer-dead')[0], DEADTIME_MS + 15_000, 50);
    const detectMs = Number(dead.tsMs) - faultAt;
    await waitFor('server2 to take the VIP', async () => (await vipHolders(topo)).includes('server2'), 15_000, 100);
    const r = await floodResult;
    const c1 = counters(await status(s2));
    const info = `detection ${detectMs.toFixed(0)} ms (deadtime ${DEADTIME_MS} ms); flood ${JSON.stringify(r)}; malformed ${delta(c1, c0, 'malformed')}`;
    process.stderr.write(`harden-flood: ${info}\n`);
    assert.ok(detectMs >= DEADTIME_MS - KEEPALIVE_MS - 100, `death declared too early: ${info}`);
    assert.ok(detectMs <= DEADTIME_MS + 5000, `death declared far too late: ${info}`);
  } finally {
    if (floodPid) await killPid(floodPid, 500);
    for (const p of nodes) await stopNode(p, 'SIGKILL', 2000);
    await topo.teardown();
    await rm(dir, { recursive: true, force: true });
  }
});
