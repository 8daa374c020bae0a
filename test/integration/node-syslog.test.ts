/**
 * ha.cf `logfacility`: the node's log lines reach syslog through one `logger` child, with the right PRI
 * (facility*8 + severity) and text; a missing or dying logger gives one warning and the node goes on; nothing
 * is left behind. Receivers: node:dgram on 127.0.0.1 (UDP target), and for the real run-node in a namespace a
 * unix datagram socket (a path, reachable across network namespaces) read by python3. Loopback/unix only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NodeLog } from '../../src/effects/node/log.js';
import { Topology, labMac, nsSpawn, killPid, alive, netnsPids } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { writeConfig, REPO } from './node-helpers.js';

const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
/** `<PRI>Mmm dd hh:mm:ss host hadiag[pid]: rest` (logger --rfc3164) */
const RFC3164 = /^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ hadiag\[(\d+)\]: (.*)$/;

function parse(d: string): { pri: number; pid: number; msg: string } {
  const m = RFC3164.exec(d);
  assert.ok(m, `an RFC 3164 syslog datagram: ${JSON.stringify(d)}`);
  return { pri: Number(m[1]), pid: Number(m[2]), msg: m[3]! };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(50);
  return cond();
}

/** capture this process's stderr writes while fn runs (still passed through) */
async function withStderr<T>(fn: (lines: () => string[]) => Promise<T>): Promise<T> {
  const orig = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return await fn(() => text.split('\n').filter(Boolean));
  } finally {
    process.stderr.write = orig;
  }
}

test('NodeLog with logfacility local3 sends info/warning/err lines to a UDP syslog receiver on loopback', { timeout: 30_000 }, async () => {
  const rx = dgram.createSocket('udp4');
  const got: string[] = [];
  rx.on('message', (m) => got.push(m.toString('utf8')));
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const port = rx.address().port;
  const saved = process.env.HADIAG_SYSLOG_TARGET;
  process.env.HADIAG_SYSLOG_TARGET = `udp:127.0.0.1:${port}`;
  let log: NodeLog | undefined;
  try {
    await withStderr(async (stderr) => {
      log = new NodeLog({ node: 'server1', json: false, debug: false, quiet: true, logfacility: 'local3' });
      const t = Date.now();
      log.write({ tsMs: t, level: 'info', event: 'acquired', text: 'holds 198.18.0.20/24 on hd0' });
      log.write({ tsMs: t, level: 'debug', event: 'tick', text: 'not sent without --debug' });
      log.write({ tsMs: t, level: 'warn', event: 'peer-late', text: 'server2: 700 ms\nsince last heartbeat' });
      log.write({ tsMs: t, level: 'error', event: 'release', text: 'ip addr del failed' });
      assert.ok(await until(() => got.length >= 3, 10_000), `3 datagrams, got ${JSON.stringify(got)}`);
      await sleep(300); // a stray 4th (the debug line) would have arrived by now
      assert.equal(got.length, 3, JSON.stringify(got));
      const [info, warn, err] = got.map(parse);
      // local3 = 19: info 19*8+6, warning 19*8+4, err 19*8+3
      assert.deepEqual([info!.pri, warn!.pri, err!.pri], [158, 156, 155]);
      assert.equal(info!.msg, 'server1: INFO: acquired: holds 198.18.0.20/24 on hd0');
      assert.equal(warn!.msg, 'server1: WARN: peer-late: server2: 700 ms since last heartbeat', 'one message, newline flattened');
      assert.equal(err!.msg, 'server1: ERROR: release: ip addr del failed');
      assert.ok(got.map(parse).every((p) => p.pid === process.pid), 'tagged hadiag[<node pid>]');
      assert.deepEqual(stderr(), [], 'no warning when syslog works');

      // close(): logger's stdin ends, it exits, nothing left behind
      const pid = log.syslogPid;
      assert.ok(pid && alive(pid), 'one logger child while the log is open');
      const t0 = Date.now();
      await log.close();
      assert.ok(Date.now() - t0 < 5_000, 'close is quick');
      assert.ok(!alive(pid), 'logger gone after close()');
    });
  } finally {
    if (saved === undefined) delete process.env.HADIAG_SYSLOG_TARGET;
    else process.env.HADIAG_SYSLOG_TARGET = saved;
    await log?.close();
    rx.close();
  }
});

test('logger dying mid-run: one warning, later writes are harmless; logfacility none starts no logger', { timeout: 30_000 }, async () => {
  const rx = dgram.createSocket('udp4');
  const got: string[] = [];
  rx.on('message', (m) => got.push(m.toString('utf8')));
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const target = { kind: 'udp' as const, host: '127.0.0.1', port: rx.address().port };
  try {
    await withStderr(async (stderr) => {
      const none = new NodeLog({ node: 'server1', json: false, debug: false, quiet: true, logfacility: 'none', syslogTarget: target });
      none.write({ tsMs: Date.now(), level: 'info', event: 'x', text: 'never in syslog' });
      assert.equal(none.syslogPid, undefined);
      await none.close();

      const log = new NodeLog({ node: 'server2', json: false, debug: true, quiet: true, logfacility: 'daemon', syslogTarget: target });
      log.write({ tsMs: Date.now(), level: 'debug', event: 'tick', text: 'first' });
      assert.ok(await until(() => got.length >= 1, 10_000));
      assert.equal(got.length, 1, 'the none log sent nothing');
      assert.equal(parse(got[0]!).pri, 3 * 8 + 7, 'daemon.debug');
      const pid = log.syslogPid!;
      process.kill(pid, 'SIGKILL'); // our own child, by pid
      assert.ok(await until(() => stderr().length >= 1, 5_000), 'a warning');
      for (let i = 0; i < 50; i++) log.write({ tsMs: Date.now(), level: 'warn', event: 'after', text: 'x'.repeat(200) });
      await sleep(500); // EPIPE, if any, would surface as an uncaught error and fail the test
      const lines = stderr();
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.match(lines[0]!, /^hadiag: warning: syslog \(logfacility daemon\) off: logger exited \(signal SIGKILL\) — .+; log lines still go to stderr\/logfile$/);
      assert.equal(got.length, 1, 'nothing sent after logger died');
      assert.equal(log.syslogPid, undefined);
      await log.close();
      assert.equal(stderr().length, 1, 'close adds no warning');
    });
  } finally {
    rx.close();
  }
});

test('logger missing or syslog socket absent: one warning each, the process keeps running and exits 0', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-syslog-'));
  try {
    const script = join(dir, 'child.mts');
    writeFileSync(
      script,
      `import { NodeLog } from ${JSON.stringify(join(REPO, 'src/effects/node/log.ts'))};
const log = new NodeLog({ node: 'server1', json: false, debug: false, quiet: true, logfacility: 'local0' });
for (let i = 0; i < 20; i++) { log.write({ tsMs: Date.now(), level: 'info', event: 'e', text: 'line ' + i }); await new Promise((r) => setTimeout(r, 25)); }
await log.close();
process.stdout.write('still running\\n');
`,
    );
    const runChild = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number | null; out: string; err: string }>((res) => {
        const c = spawn(process.execPath, ['--import', TSX, script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        c.stdout.on('data', (d) => (out += d));
        c.stderr.on('data', (d) => (err += d));
        c.on('close', (code) => res({ code, out, err }));
      });
    // no logger on PATH
    let r = await runChild({ ...process.env, PATH: '/nonexistent', HADIAG_SYSLOG_TARGET: '' });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'still running\n');
    let lines = r.err.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0]!, /^hadiag: warning: syslog \(logfacility local0\) off: cannot run logger: .*ENOENT — install util-linux/);

    // a unix socket nobody listens on (as /dev/log without a syslog daemon)
    r = await runChild({ ...process.env, HADIAG_SYSLOG_TARGET: `unix:${join(dir, 'no.sock')}` });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'still running\n');
    lines = r.err.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0]!, /^hadiag: warning: syslog \(logfacility local0\) off: logger exited \(code 1\): logger: socket .*no\.sock: .* — check the socket /);

    // a bad target is a one-line error, exit 2 territory (HadiagError thrown by the constructor)
    r = await runChild({ ...process.env, HADIAG_SYSLOG_TARGET: 'udp:198.18.0.1:514' });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /HADIAG_SYSLOG_TARGET=udp:198\.18\.0\.1:514/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run-node in a namespace with logfacility local5: syslog gets its events; SIGTERM leaves no process', { timeout: 60_000 }, async () => {
  const topo = await Topology.create({ hosts: [{ name: 'server1', addresses: ['198.18.0.11/24'], mac: labMac(11) }] });
  const dir = mkdtempSync(join(tmpdir(), `hadiag-node-syslog-${topo.runId}-`));
  const h = topo.host('server1');
  const sock = join(dir, 'log.sock');
  // a unix datagram syslog receiver (Node has none): one JSON string per datagram on stdout
  const rx = spawn('python3', ['-u', '-c', `import socket,json,sys
s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("ready", flush=True)
while True: print(json.dumps(s.recv(65536).decode("utf-8","replace")), flush=True)`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  const got: string[] = [];
  let ready = false;
  let buf = '';
  rx.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ready') ready = true;
      else got.push(JSON.parse(line) as string);
    }
  });
  try {
    assert.ok(await until(() => ready, 10_000), 'receiver ready');
    const cfg = join(dir, 'ha.d');
    writeConfig(cfg, h.ifname, { initdead: '2', logfacility: 'local5' });
    const node = nsSpawn(h.netns, [process.execPath, '--import', TSX, join(REPO, 'src/effects/node/main.ts'), '--config-dir', cfg, '--node', 'server1', '--state-dir', join(dir, 'state'), '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HADIAG_SYSLOG_TARGET: `unix:${sock}` },
    });
    let out = '';
    let err = '';
    node.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    node.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((res) => node.on('exit', (code) => res(code)));
    try {
      const acquired = () => got.some((d) => / hadiag\[\d+\]: server1: INFO: acquired: /.test(d));
      assert.ok(await until(acquired, 30_000), `syslog got "acquired"; syslog ${JSON.stringify(got.slice(-5))}; stderr ${err}`);
      const pids = new Set(got.map((d) => parse(d).pid));
      assert.equal(pids.size, 1, 'one node pid in the tag');
      for (const d of got) {
        const p = parse(d);
        assert.equal(p.pri >> 3, 21, `facility local5: ${d}`);
        assert.ok([3, 4, 6].includes(p.pri & 7), `severity err/warning/info (no debug without --debug): ${d}`);
      }
      const inJson = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; level: string });
      const acq = inJson.find((l) => l.event === 'acquired');
      assert.ok(acq, 'the same event in the JSON log');
      assert.equal(err.includes('syslog'), false, `no syslog warning: ${err}`);
      node.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 15_000)))]);
      clearTimeout(timer);
      if (code === 'hung') await killPid(node.pid!);
      assert.equal(code, 0, 'exit 0 on SIGTERM');
      assert.ok(await until(() => got.some((d) => /: server1: INFO: exit: stopped/.test(d)), 5_000), 'the exit line reached syslog');
      assert.deepEqual(await netnsPids(h.netns), [], 'no process left in the namespace (logger included)');
    } finally {
      if (node.exitCode === null && node.signalCode === null) await killPid(node.pid!);
    }
  } finally {
    await killPid(rx.pid!);
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
