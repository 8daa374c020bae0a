/**
 * contrib/ocf/hadiag-announce under resource-agents' ocf-tester, inside a lab namespace: meta-data,
 * validate-all, monitor of a stopped resource, start (the sidecar answers `hadiag announce status`), start
 * again, monitor, stop, stop again. Needs the `hadiag announce` command (issue #13's sidecar); skipped without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/core/module-argv.js';
import { Topology, labMac, netnsPids } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { run } from '../../src/effects/io/exec.js';

const AGENT = join(PROJECT_ROOT, 'contrib/ocf/hadiag-announce');
// the CLI from this checkout's source (the agent's `binary` parameter is a command line)
const HADIAG = [process.execPath, '--import', 'tsx', join(PROJECT_ROOT, 'test/integration/lab-cli.ts')];
// the sidecar command of issue #13
const announceExists = /^\s+hadiag announce\b/m.test(spawnSync(HADIAG[0]!, [...HADIAG.slice(1), '--help'], { encoding: 'utf8', cwd: PROJECT_ROOT }).stdout ?? '');

test('the OCF agent passes ocf-tester in a lab namespace', { timeout: 120_000, skip: !announceExists && 'hadiag has no announce command yet' }, async () => {
  const topo = await Topology.create({ hosts: [{ name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) }] });
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-ocf-tester-'));
  try {
    const h = topo.host('server1');
    const r = await run(
      ['ip', 'netns', 'exec', h.netns, 'ocf-tester', '-n', 'announce', '-o', `interface=${h.ifname}`, '-o', 'vip=198.18.0.20', '-o', `binary=${HADIAG.join(' ')}`, '-o', `state_dir=${join(dir, 'state')}`, AGENT],
      { timeoutMs: 110_000, cwd: PROJECT_ROOT },
    );
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.code, 0, out);
    assert.match(out, /hadiag-announce passed all tests/, out);
    // a stopped sidecar may stay a zombie for a moment, until init reaps it
    let left = await netnsPids(h.netns);
    for (let i = 0; i < 30 && left.length; i++) {
      await sleep(100);
      left = await netnsPids(h.netns);
    }
    assert.deepEqual(left, [], 'stop left no sidecar running');
  } finally {
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
