/**
 * `hadiag announce IFACE --vip IPV6` in namespaces (server, client on one bridge), no HA manager: the test adds
 * and removes the VIP as a manager would. The client drops unsolicited NAs and has never talked to the server,
 * so the sidecar knows no client: its default strategy sends the NAs (dropped) and answers the NSs the client
 * sends to the dead MAC (answer-probes) — the client is back on its first probe, long before its own
 * resolution. Added with DAD, the VIP is announced only once DAD is over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Topology, labMac } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';
import { runOk, run } from '../../src/effects/io/exec.js';

const VIP = '2001:db8::20';
const CLIENT = '2001:db8::5';
const DEAD_MAC = '02:00:00:00:00:99';
const REPO = resolve(import.meta.dirname, '../..');
const CLI = [process.execPath, '--import', 'tsx', join(REPO, 'test/integration/lab-cli.ts')];

test('announce --vip IPv6: answers the NSs to the dead MAC of a client it never saw (drop_unsolicited_na=1); a VIP added with DAD is announced once usable', { timeout: 90_000 }, async () => {
  const topo = await Topology.create({
    hosts: [
      { name: 'server', addresses: ['198.18.0.12/24'], mac: labMac(12) },
      { name: 'client', addresses: ['198.18.0.5/24'], mac: labMac(5) },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), `hadiag-ann6-${topo.runId}-`));
  const [s, c] = [topo.host('server'), topo.host('client')];
  let sidecar: ChildProcess | undefined;
  const logs: Record<string, any>[] = [];
  const stderr: string[] = [];
  let passed = false;
  try {
    await runOk(['ip', '-n', s.netns, '-6', 'addr', 'add', '2001:db8::12/64', 'dev', s.ifname, 'nodad']);
    await runOk(['ip', '-n', c.netns, '-6', 'addr', 'add', `${CLIENT}/64`, 'dev', c.ifname, 'nodad']);
    // the client's own recovery from a dead MAC: 1 s in DELAY, then 3 unicast probes 1 s apart
    await runOk(['ip', 'netns', 'exec', c.netns, 'sysctl', '-qw', `net.ipv6.conf.${c.ifname}.drop_unsolicited_na=1`, `net.ipv6.neigh.${c.ifname}.delay_first_probe_time=1`, `net.ipv6.neigh.${c.ifname}.retrans_time_ms=1000`]);
    sidecar = spawn('ip', ['netns', 'exec', s.netns, ...CLI, 'announce', s.ifname, '--vip', '2001:DB8:0::20', '--state-dir', join(dir, 'state'), '--json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    sidecar.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) {
        try {
          logs.push(JSON.parse(buf.slice(0, nl)));
        } catch {
          stderr.push(buf.slice(0, nl));
        }
      }
    });
    sidecar.stderr!.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
    const event = (name: string) => logs.filter((l) => l.event === name);
    const waitFor = async (what: string, fn: () => unknown, ms: number) => {
      for (const end = Date.now() + ms; !(await fn()); await sleep(50)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    };
    await waitFor('the sidecar to start', () => event('start').length, 30_000);
    assert.match(String(event('start')[0]!.text), new RegExp(`watching ${VIP} on ${s.ifname}, announcing with default`));

    // the client's entry for the VIP names a MAC that is gone; the VIP appears on the server
    await runOk(['ip', '-n', c.netns, '-6', 'neigh', 'replace', VIP, 'lladdr', DEAD_MAC, 'dev', c.ifname, 'nud', 'stale']);
    await runOk(['ip', '-n', s.netns, '-6', 'addr', 'add', `${VIP}/64`, 'dev', s.ifname, 'nodad']);
    await waitFor('the takeover report', () => event('garp').length, 10_000);
    assert.ok(logs.some((l) => l.event === 'clients' && /no client of 2001:db8::20 known at takeover: na\+directed\+answer-probes sends na\+answer-probes only/.test(l.text)), JSON.stringify(event('clients')));
    const report = event('garp')[0]!;
    assert.ok(report.seen >= 3 && report.seen === report.planned, `the NAs left (seen on the wire): ${JSON.stringify(report)}`);
    const entry = async () => (JSON.parse(await runOk(['ip', '-n', c.netns, '-6', '-json', 'neigh', 'show', 'dev', c.ifname, 'to', VIP])) as { lladdr?: string; state?: string[] }[])[0];
    assert.equal((await entry())?.lladdr, DEAD_MAC, 'drop_unsolicited_na=1: the NAs did not move it');

    // the client talks: DELAY 1 s, then an NS to the dead MAC, answered by the sidecar with our MAC
    // (the first echo leaves at once, to the dead MAC: lost; the entry goes DELAY)
    const t0 = Date.now();
    const ping = await run(['ip', 'netns', 'exec', c.netns, 'ping', '-6', '-n', '-D', '-i', '0.1', '-w', '4', VIP]);
    const replies = [...ping.stdout.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]) * 1000);
    assert.ok(replies.length > 0, ping.stdout + ping.stderr);
    const backMs = Math.round(replies[0]! - t0);
    assert.equal((await entry())?.lladdr, s.mac);
    await waitFor('the probe answer in the log', () => event('probe-answered').length, 3_000);
    const answered = event('probe-answered')[0]!;
    // Linux sends its NUD probe from its link-local address: the answer goes there, to the client's MAC
    assert.deepEqual([answered.clientMac, answered.deadMac], [c.mac, DEAD_MAC], JSON.stringify(answered));
    assert.match(String(answered.clientIp), /^(fe80::|2001:db8::5$)/);
    assert.ok(backMs < 3_000, `back after ${backMs} ms: its first probe answered (its own resolution would take ≥ 4 s)`);

    // removed, then added with DAD: tentative first (not announced), announced once DAD is over
    await runOk(['ip', '-n', s.netns, '-6', 'addr', 'del', `${VIP}/64`, 'dev', s.ifname]);
    await waitFor('the removal', () => event('address-removed').length, 5_000);
    const added = event('address-added').length;
    await runOk(['ip', '-n', s.netns, '-6', 'addr', 'add', `${VIP}/64`, 'dev', s.ifname]);
    await waitFor('the tentative address seen', () => event('address-tentative').length, 5_000);
    assert.equal(event('address-added').length, added, 'not announced while tentative');
    await waitFor('the announcement once DAD is over', () => event('address-added').length > added, 10_000);
    sidecar.kill('SIGTERM');
    const code = await new Promise((r) => sidecar!.once('exit', r));
    assert.equal(code, 0);
    process.stderr.write(`announce-ipv6: the client that drops unsolicited NAs was back ${backMs} ms after it started talking (DELAY 1 s, its first probe answered)\n`);
    passed = true;
  } finally {
    if (sidecar && sidecar.exitCode === null) {
      sidecar.kill('SIGTERM');
      await Promise.race([new Promise((r) => sidecar!.once('exit', r)), sleep(5_000)]);
    }
    if (!passed) process.stderr.write(`--- sidecar\n${logs.map((l) => `${l.event} ${l.text}`).join('\n')}\n${stderr.join('')}\n`);
    await topo.teardown();
  }
});
