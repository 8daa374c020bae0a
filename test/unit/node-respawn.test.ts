/** respawn as Heartbeat 3.0.6 runs it: the restart rules with a simulated clock, the environment, and a real child. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { RespawnPolicy, respawnEnvironment, RESPAWN_MAX_FAST } from '../../src/models/node/respawn.js';
import { parseHaCf } from '../../src/models/config/hacf.js';
import { RespawnClients } from '../../src/effects/node/respawn.js';
import { sleep } from '../../src/core/clock.js';

test('restarted on any exit but 100; a run under 30 s is fast; more than 10 fast restarts in a row stop it', () => {
  const p = new RespawnPolicy('/usr/bin/watcher');
  let t = 1_000_000;
  const slow = p.exited(1, null, t, (t += 60_000), false);
  assert.deepEqual([slow.restart, slow.delayMs], [true, 0], 'a long run restarts at once');
  assert.deepEqual(slow.log.map((l) => l.text), ['Client /usr/bin/watcher exited with return code 1.', 'Respawning client "/usr/bin/watcher":']);
  for (let i = 1; i <= RESPAWN_MAX_FAST; i++) {
    const d = p.exited(null, 'SIGKILL', t, (t += 100), false);
    assert.deepEqual([d.restart, d.delayMs], [true, 1000], `fast restart ${i} waits 1 s`);
  }
  const tooFast = p.exited(0, null, t, (t += 100), false);
  assert.equal(tooFast.restart, false);
  assert.match(tooFast.log.at(-1)!.text, /"respawning too fast"/);
  assert.equal(p.exited(100, null, t, t + 60_000, false).restart, false, 'exit 100: not restarted');
  assert.equal(p.exited(1, null, t, t + 60_000, true).restart, false, 'not while the node stops');
});

test("Heartbeat's environment: every parameter as HA_<directive>, HA_CURHOST, the logging variables, then env lines", () => {
  const hacf = parseHaCf('keepalive 500ms\ndeadtime 3\nbcast eth0\nnode a\nnode b\nauto_failback off\nlogfile /var/log/ha-log\nlogfacility local0\nenv FOO=bar baz\nenv HA_debug=2\n');
  const env = respawnEnvironment(hacf, 'a');
  assert.equal(env.HA_keepalive, '500ms');
  assert.equal(env.HA_deadtime, '3000ms');
  assert.equal(env.HA_deadping, '3000ms', 'deadping defaults to deadtime');
  assert.equal(env.HA_auto_failback, 'off');
  assert.equal(env.HA_CURHOST, 'a');
  assert.equal(env.HA_LOGFILE, '/var/log/ha-log');
  assert.equal(env.HA_LOGFACILITY, 'local0');
  assert.equal(env.FOO, 'bar baz');
  assert.equal(env.HA_debug, '2', 'an env line wins');
});

test('a real respawned program: runs as the user with the environment, restarted after it exits, stopped with the node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-respawn-'));
  try {
    const script = join(dir, 'prog.sh');
    const out = join(dir, 'runs');
    writeFileSync(script, `#!/bin/sh\necho "$HA_CURHOST $FOO $(id -u)" >> ${out}\nexec sleep ${'${1:-0.2}'}\n`);
    chmodSync(script, 0o755);
    const me = userInfo();
    const hacf = parseHaCf(`bcast eth0\nnode a\nnode b\nauto_failback on\nenv FOO=bar\nrespawn ${me.username} ${script} 0.2\n`);
    const logs: string[] = [];
    const clients = await RespawnClients.prepare(hacf, 'a', 'ha.cf', (_l, _e, text) => logs.push(text));
    clients.start();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (!existsSync(out) || readFileSync(out, 'utf8').split('\n').filter(Boolean).length < 2)) await sleep(100);
    clients.stop();
    const runs = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    assert.ok(runs.length >= 2, `restarted: ${runs.length} runs`);
    assert.equal(runs[0], `a bar ${me.uid}`);
    assert.ok(logs.some((l) => /^Respawning client/.test(l)), logs.join('\n'));
    await assert.rejects(RespawnClients.prepare(parseHaCf(`bcast eth0\nnode a\nnode b\nauto_failback on\nrespawn ${me.username} ${dir}/missing\n`), 'a', 'ha.cf', () => {}), (err: Error & { where?: string }) => /is not executable/.test(err.message) && err.where === 'ha.cf:5');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
