import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Topology, labMac, listNetns, nsRun, nsRunOk, nsSpawn, killPid } from '../../src/effects/io/netns.js';

const mainTs = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const tsxDir = fileURLToPath(new URL('../..', import.meta.url));

/** Run `hadiag check-config …` inside a namespace (the real CLI, through tsx so no build is needed). */
async function checkConfigIn(netns: string, args: string[]) {
  const code = `import(${JSON.stringify(mainTs)}).then((m) => m.main(process.argv.slice(1)))`;
  return nsRun(netns, [process.execPath, '--import', 'tsx', '-e', code, '--', 'check-config', ...args], { cwd: tsxDir, timeoutMs: 30_000 });
}

/** The field report's files with the lab's interface and addresses. */
function writeConfig(dir: string, iface: string): void {
  writeFileSync(
    join(dir, 'ha.cf'),
    [
      'logfile /var/log/ha-log #where to log everything from heartbeat',
      'logfacility local0 #facility to use for syslog/logger',
      'keepalive 1 #how long between heartbeats?',
      'deadtime 5 #how long before a node is declared dead?',
      `bcast ${iface} #which interface to use for broadcast heartbeats`,
      'udpport 694 #which port to use for bcast heartbeats',
      'auto_failback on #whether resources fail back',
      'node server1 #the primary node',
      'node server2 #the secondary node',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'authkeys'), 'auth 2\n2 sha1 pass\n');
  chmodSync(join(dir, 'authkeys'), 0o600);
  writeFileSync(join(dir, 'haresources'), 'server1 IPaddr::198.18.0.20/255.255.255.0\n');
}

test('check-config in a namespace: clean with a broadcast address; an error without one; the port in use', async () => {
  const topo = await Topology.create({ hosts: [{ name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) }] });
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-check-config-'));
  const h = topo.host('server1');
  try {
    writeConfig(dir, h.ifname);

    const clean = await checkConfigIn(h.netns, [dir, '--node', 'server1', '--json']);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    const doc = JSON.parse(clean.stdout);
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.errors, []);
    assert.deepEqual(doc.warnings, []);
    assert.equal(doc.checks.find((c: { name: string }) => c.name === 'interfaces').detail, `bcast ${h.ifname} → 198.18.0.255:694`);

    const human = await checkConfigIn(h.netns, [dir, '--node', 'server1']);
    assert.equal(human.code, 0, human.stdout + human.stderr);
    assert.match(human.stdout, /0 errors, 0 warnings — ready to go live/);

    // The same address without a broadcast: the real daemon would send to 0.0.0.0.
    await nsRunOk(h.netns, ['ip', 'addr', 'del', '198.18.0.11/24', 'dev', h.ifname]);
    await nsRunOk(h.netns, ['ip', 'addr', 'add', '198.18.0.11/24', 'dev', h.ifname]);
    const nobrd = await checkConfigIn(h.netns, [dir, '--node', 'server1']);
    assert.equal(nobrd.code, 1, nobrd.stdout + nobrd.stderr);
    const firstLine = nobrd.stdout.split('\n')[0];
    assert.equal(
      firstLine,
      `${dir}/ha.cf:5: error: interface "${h.ifname}" has no IPv4 broadcast address: Heartbeat would send its heartbeats to 0.0.0.0 and both nodes would take the VIP (split brain) — re-add the address with a broadcast (ip addr replace cannot add one): ip addr del 198.18.0.11/24 dev ${h.ifname} && ip addr add 198.18.0.11/24 brd + dev ${h.ifname}, and make it permanent in the interface's configuration; or use ucast`,
    );

    // Restore the broadcast, then occupy the UDP port with a process of ours inside the namespace.
    await nsRunOk(h.netns, ['ip', 'addr', 'del', '198.18.0.11/24', 'dev', h.ifname]);
    await nsRunOk(h.netns, ['ip', 'addr', 'add', '198.18.0.11/24', 'brd', '+', 'dev', h.ifname]);
    const holder = nsSpawn(h.netns, [process.execPath, '-e', "const s=require('dgram').createSocket('udp4');s.bind(694,'0.0.0.0',()=>console.log('bound'));setTimeout(()=>{},60000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('exit', (c) => reject(new Error(`port holder exited (${c})`)));
      });
      const busy = await checkConfigIn(h.netns, [dir, '--node', 'server1', '--json']);
      assert.equal(busy.code, 1, busy.stdout + busy.stderr);
      const b = JSON.parse(busy.stdout);
      assert.deepEqual(b.errors.map((e: { line?: number; message: string }) => [e.line, e.message]), [[6, 'UDP port 694 is already in use on this host (is heartbeat running?)']]);
    } finally {
      await killPid(holder.pid!);
    }

    // A directory that does not exist: exit 2 with the one-line error.
    const missing = await checkConfigIn(h.netns, [join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr.trim(), `hadiag: configuration directory not found: ${join(dir, 'nope')} — name the directory that holds ha.cf, authkeys and haresources (default /etc/ha.d)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await topo.teardown();
  }
  const left = await listNetns();
  assert.ok(!left.some((n) => n.startsWith(`hadiag-${topo.runId}-`)), 'namespaces left behind');
});
