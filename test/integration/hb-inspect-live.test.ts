/**
 * hb-inspect live against the real Heartbeat 3.0.6 daemon: two nodes in lab namespaces (each with its own
 * hostname, /etc/ha.d, /var/lib/heartbeat and /run), hb-inspect capturing inside each namespace — one with
 * the cluster's key (healthy, exit 0), one with a wrong key (every message BAD, exit 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Topology, labMac, netnsPids, nsRun } from '../../src/effects/io/netns.js';
import { runOk } from '../../src/effects/io/exec.js';
import { readHeartbeatCapture } from '../../src/effects/io/heartbeat-capture.js';
import { inspectHeartbeats } from '../../src/models/inspect/heartbeats.js';
import type { AuthKeyLike } from '../../src/codecs/heartbeat/auth.js';

const keyMap = (...keys: AuthKeyLike[]) => new Map(keys.map((k) => [k.index, k]));

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HEARTBEAT = '/usr/libexec/heartbeat/heartbeat';
const NODES = ['server1', 'server2'] as const;

/** Start the real daemon as `node` in its namespace; it daemonizes, and dies with the namespace at teardown. */
async function startHeartbeat(netns: string, node: string, haDir: string): Promise<void> {
  const script = [
    `hostname ${node}`,
    `mount --bind ${haDir} /etc/ha.d`,
    'mount -t tmpfs tmpfs /var/lib/heartbeat',
    'mkdir -p /var/lib/heartbeat/api /var/lib/heartbeat/ccm /var/lib/heartbeat/crm /var/lib/heartbeat/cores/root',
    'mount -t tmpfs tmpfs /run',
    'mkdir -p /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd /run/resource-agents',
    'chown -R hacluster:haclient /run/heartbeat /var/lib/heartbeat/ccm /var/lib/heartbeat/crm',
    `exec ${HEARTBEAT}`,
  ].join(' && ');
  const r = await nsRun(netns, ['unshare', '--uts', '--mount', 'sh', '-c', script], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, `heartbeat did not start on ${node}: ${r.stderr}`);
}

function hbInspect(netns: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', '-e', "import('./src/cli/main.ts').then((m) => m.main(process.argv.slice(1)))", 'hb-inspect', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const available = existsSync(HEARTBEAT) && spawnSync('id', ['hacluster']).status === 0;

test('hb-inspect live sees the real daemons start, with both auth layers OK (and BAD with a wrong key)', { skip: !available && 'heartbeat 3.0.6 not installed', timeout: 90_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'hadiag-hblive-'));
  const topo = await Topology.create({
    hosts: [
      { name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) },
      { name: 'server2', addresses: ['198.18.0.12/24'], mac: labMac(12) },
    ],
  });
  try {
    const iface = topo.host('server1').ifname;
    const hacf = [
      'logfacility none', 'use_logd false', 'keepalive 1', 'deadtime 5', 'warntime 3', 'initdead 10', 'udpport 694',
      `bcast ${iface}`, 'auto_failback on', 'crm no', 'node server1', 'node server2', '',
    ].join('\n');
    for (const node of NODES) {
      const dir = join(work, node, 'ha.d');
      mkdirSync(join(work, node), { recursive: true });
      await runOk(['cp', '-a', '/etc/ha.d', dir]);
      writeFileSync(join(dir, 'ha.cf'), `logfile ${join(work, node, 'ha-log')}\n${hacf}`);
      writeFileSync(join(dir, 'authkeys'), 'auth 3\n3 sha1 live-test-key\n', { mode: 0o600 });
      chmodSync(join(dir, 'authkeys'), 0o600);
      writeFileSync(join(dir, 'haresources'), '');
    }
    const wrongKeys = join(work, 'authkeys-wrong');
    writeFileSync(wrongKeys, 'auth 3\n3 sha1 not-the-key\n', { mode: 0o600 });

    const common = ['--duration', '12s', '--hacf', join(work, 'server1', 'ha.d', 'ha.cf'), '--json'];
    const saved = join(work, 'captures', 'live.pcap');
    const good = hbInspect(topo.host('server1').netns, [iface, '--authkeys', join(work, 'server1', 'ha.d', 'authkeys'), '--write', saved, ...common]);
    const savedBad = join(work, 'captures', 'live-bad.pcap');
    const bad = hbInspect(topo.host('server2').netns, [iface, '--authkeys', wrongKeys, '--write', savedBad, ...common]);
    // The --write files appear once the captures are open (loading takes a while on a busy machine).
    for (let i = 0; i < 300 && !(existsSync(saved) && existsSync(savedBad)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(saved) && existsSync(savedBad), 'hb-inspect did not open its captures within 30 s');
    for (const node of NODES) await startHeartbeat(topo.host(node).netns, node, join(work, node, 'ha.d'));

    const g = await good;
    assert.equal(g.code, 0, `good key: exit ${g.code}\n${g.stderr}\n${g.stdout.slice(0, 2000)}`);
    const report = JSON.parse(g.stdout);
    assert.equal(report.healthy, true);
    assert.deepEqual(report.nodes.map((n: { node: string }) => n.node), ['server1', 'server2']);
    assert.ok(report.counts.decoded >= 12, `only ${report.counts.decoded} messages`);
    assert.equal(report.counts.authOk, report.counts.decoded);
    for (const n of report.nodes) {
      assert.equal(n.inHaCf, true);
      assert.equal(n.generations.length, 1);
      assert.ok(n.statusIntervalMs > 500 && n.statusIntervalMs < 2000, `status interval ${n.statusIntervalMs}`);
      assert.deepEqual(n.keyIndexes, [3]);
    }
    const starts = report.events.filter((e: { kind: string }) => e.kind === 'start').map((e: { node: string }) => e.node).sort();
    // Both daemons start while we listen (server2's first datagram is often an NS_ackmsg, then status init).
    const firstMessages = JSON.stringify(report.messages.slice(0, 6).map((m: { tsMs: number; summary: object }) => [m.tsMs, m.summary]));
    assert.deepEqual(starts, ['server1', 'server2'], `events ${JSON.stringify(report.events)}; first messages ${firstMessages}`);

    // --write kept exactly what was inspected; reading it back gives the same verdicts.
    const back = inspectHeartbeats((await readHeartbeatCapture(saved, 694)).datagrams, { keys: keyMap({ index: 3, method: 'sha1', key: 'live-test-key' }) });
    assert.equal(back.counts.datagrams, report.counts.datagrams);
    assert.equal(back.counts.authOk, report.counts.authOk);

    const b = await bad;
    assert.equal(b.code, 1, `wrong key: exit ${b.code}\n${b.stderr}`);
    const badReport = JSON.parse(b.stdout);
    assert.ok(badReport.counts.decoded >= 12);
    assert.ok(badReport.messages.every((m: { trailing: string; inner: string }) => m.trailing === 'bad' && m.inner === 'bad'));
  } finally {
    // Every process in these namespaces is one this test started (daemons, inspectors): SIGKILL them by PID
    // so the teardown does not wait out heartbeat's graceful shutdown.
    for (const node of NODES) {
      for (const pid of await netnsPids(topo.host(node).netns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await topo.teardown();
    rmSync(work, { recursive: true, force: true });
  }
});
