import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Topology, labMac, listNetns, nsRun } from '../../src/effects/io/netns.js';

test('a two-host topology pings across its bridge and leaves nothing behind', async () => {
  const topo = await Topology.create({
    hosts: [
      { name: 'a', addresses: ['198.18.0.1/24'], mac: labMac(1) },
      { name: 'b', addresses: ['198.18.0.2/24'], mac: labMac(2) },
    ],
  });
  const names = [topo.bridgeNetns, topo.host('a').netns, topo.host('b').netns];
  try {
    assert.ok(names.every((n) => n.startsWith(`hadiag-${topo.runId}-`)));
    const r = await nsRun(topo.host('a').netns, ['ping', '-c', '1', '-W', '2', '198.18.0.2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const link = await topo.exec('b', ['ip', '-json', 'addr', 'show', 'dev', topo.host('b').ifname]);
    const info = JSON.parse(link.stdout)[0];
    assert.equal(info.address, labMac(2));
    assert.equal(info.addr_info.find((a: { family: string }) => a.family === 'inet').broadcast, '198.18.0.255');
  } finally {
    await topo.teardown();
  }
  const left = await listNetns();
  for (const n of names) assert.ok(!left.includes(n), `${n} left behind`);
});
