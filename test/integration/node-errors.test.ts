import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chmodSync, mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Topology, labMac, nsSpawn, killPid } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { writeConfig, REPO } from './node-helpers.js';

const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

test('run-node refuses bad set-ups with one clear line and exit 2', { timeout: 90_000 }, async () => {
  const topo = await Topology.create({ hosts: [{ name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) }] });
  const dir = mkdtempSync(join(tmpdir(), `hadiag-node-err-${topo.runId}-`));
  const h = topo.host('server1');
  const runNode = async (cfg: string, extra: string[] = []) => {
    const r = await topo.exec('server1', [process.execPath, '--import', TSX, join(REPO, 'src/effects/node/main.ts'), '--config-dir', cfg, '--node', 'server1', '--state-dir', join(dir, 'state'), ...extra], { timeoutMs: 60_000 });
    return { code: r.code, err: r.stderr.trim() };
  };
  try {
    const ok = join(dir, 'ok');
    writeConfig(ok, h.ifname, { initdead: '10' });

    // the UDP port is taken by another process
    const holder = nsSpawn(h.netns, ['python3', '-c', 'import socket,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",694)); time.sleep(60)'], { stdio: 'ignore' });
    await sleep(1_500);
    let r = await runNode(ok);
    await killPid(holder.pid!);
    assert.equal(r.code, 2, r.err);
    assert.ok(r.err.startsWith('hadiag: UDP port 694 is in use: ') && r.err.includes(' — '), JSON.stringify(r.err));
    assert.equal(r.err.split('\n').length, 1, 'one line');

    // authkeys readable by others
    const loose = join(dir, 'loose');
    writeConfig(loose, h.ifname, { initdead: '10' });
    chmodSync(join(loose, 'authkeys'), 0o644);
    r = await runNode(loose);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /authkeys/);
    assert.equal(r.err.split('\n').length, 1);

    // a node name that is not in ha.cf
    const unknown = await topo.exec('server1', [process.execPath, '--import', TSX, join(REPO, 'src/effects/node/main.ts'), '--config-dir', ok, '--node', 'server9', '--state-dir', join(dir, 'state')]);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.ok(unknown.stderr.trim().startsWith('hadiag: this node "server9" is not a node of ha.cf: ') && unknown.stderr.includes(' — '), JSON.stringify(unknown.stderr));

    // a missing interface in ha.cf
    const noif = join(dir, 'noif');
    writeConfig(noif, 'hdnothere0', { initdead: '10' });
    r = await runNode(noif);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /hdnothere0/);

    // a bad --garp spec
    r = await runNode(ok, ['--garp', 'bogus:count=x']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^hadiag: .*bogus/);

    // bcast on an interface without a broadcast address: refused (Heartbeat would send to 0.0.0.0)
    await topo.exec('server1', ['ip', 'addr', 'flush', 'dev', h.ifname]);
    await topo.exec('server1', ['ip', 'addr', 'add', '198.18.0.11/24', 'dev', h.ifname]);
    r = await runNode(ok);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /has no broadcast address/);
    assert.equal(r.err.split('\n').length, 1);
    mkdirSync(join(dir, 'state'), { recursive: true });

    // through the CLI (`hadiag run-node`): runs, and SIGTERM ends it with exit 0 and nothing left behind
    await topo.exec('server1', ['ip', 'addr', 'add', '198.18.0.11/24', 'brd', '+', 'dev', h.ifname]).catch(() => undefined);
    await topo.exec('server1', ['ip', 'addr', 'flush', 'dev', h.ifname]);
    await topo.exec('server1', ['ip', 'addr', 'add', '198.18.0.11/24', 'brd', '+', 'dev', h.ifname]);
    const entry = `import(${JSON.stringify(join(REPO, 'src/cli/main.ts'))}).then((m) => m.main(process.argv.slice(1)))`;
    const cli = nsSpawn(h.netns, [process.execPath, '--import', TSX, '-e', entry, 'run-node', '--config-dir', ok, '--node', 'server1', '--state-dir', join(dir, 'cli-state'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cli.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((res) => cli.on('exit', (code) => res(code)));
    const deadline = Date.now() + 40_000;
    while (!/"event":"acquired"/.test(out) && Date.now() < deadline) await sleep(100);
    assert.match(out, /"event":"acquired"/, 'the CLI node took the VIP (alone)');
    cli.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(15_000).then(() => 'hung' as const)]);
    if (code === 'hung') await killPid(cli.pid!);
    assert.equal(code, 0, 'hadiag run-node exits 0 on SIGTERM');
    const addrs = await topo.exec('server1', ['ip', '-4', '-o', 'addr', 'show']);
    assert.ok(!addrs.stdout.includes('198.18.0.20/'), 'VIP removed');
  } finally {
    await topo.teardown();
  }
});
