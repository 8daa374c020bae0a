import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { Topology, labMac, nsSpawn } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./steady-capture-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('a capture survives its interface going down (patched cap) and reopens when it is up again', async () => {
  const topo = await Topology.create({
    hosts: [
      { name: 'a', addresses: ['198.18.0.1/24'], mac: labMac(1) },
      { name: 'b', addresses: ['198.18.0.2/24'], mac: labMac(2) },
    ],
  });
  const a = topo.host('a');
  const child = nsSpawn(a.netns, [process.execPath, '--import', 'tsx', CHILD, a.ifname], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const events: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => events.push(JSON.parse(l) as Record<string, unknown>));
  const waitFor = async (ev: string, n = 1) => {
    for (let i = 0; i < 300 && events.filter((e) => e.ev === ev).length < n; i++) await sleep(50);
    return events.filter((e) => e.ev === ev).length >= n;
  };
  let exitCode: number | null = null;
  child.on('exit', (c) => (exitCode = c));
  try {
    assert.ok(await waitFor('ready'), 'the capture opened');
    await topo.exec('a', ['ip', 'link', 'set', a.ifname, 'down']);
    assert.ok(await waitFor('down'), `told the handle was lost: ${JSON.stringify(events)}`);
    const down = events.find((e) => e.ev === 'down')!;
    assert.match(String(down.detail), /went down/);
    assert.equal(down.refused, true, 'send refused while down');
    await sleep(300);
    assert.equal(exitCode, null, 'the process is still alive after its interface went down');
    await topo.exec('a', ['ip', 'link', 'set', a.ifname, 'up']);
    assert.ok(await waitFor('up'), 'reopened once the interface was up');
    assert.equal(events.find((e) => e.ev === 'up')!.reopens, 1);
    const before = events.filter((e) => e.ev === 'frame').length;
    await topo.exec('b', ['arping', '-c', '2', '-w', '3', '-I', topo.host('b').ifname, '198.18.0.1']);
    assert.ok(await waitFor('frame', before + 1), 'the new handle captures');
  } finally {
    child.stdin!.end();
    await sleep(200);
    if (exitCode === null) child.kill('SIGKILL');
    await topo.teardown();
  }
});
