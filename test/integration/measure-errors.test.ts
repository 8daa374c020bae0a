/** measure-failover's bad input: one-line errors, exit 2, nothing left behind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, labMac } from '../../src/effects/io/netns.js';
import { run } from '../../src/effects/io/exec.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const entry = ['--import', 'tsx', '--input-type=module', '-e', `const m = await import(${JSON.stringify(MAIN)}); await m.main(process.argv.slice(1));`, '--'];
const hadiag = (args: string[], netns?: string, pre: string[] = []) =>
  run([...(netns ? ['ip', 'netns', 'exec', netns] : []), ...pre, process.execPath, ...entry, ...args], { timeoutMs: 30_000 });

function oneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, `exit 2 expected, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${r.stderr}`);
  assert.match(lines[0]!, /^hadiag: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('measure-failover bad input: not directly connected, missing interface, not root, unreadable captures, bad flags', async () => {
  const topo = await Topology.create({ hosts: [{ name: 'client', addresses: ['198.18.0.5/24'], mac: labMac(5) }] });
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-measure-err-'));
  try {
    const c = topo.host('client');
    await topo.exec('client', ['ip', 'route', 'add', '198.19.0.0/24', 'via', '198.18.0.1', 'dev', c.ifname]);
    const routed = await hadiag(['measure-failover', '--vip', '198.19.0.20', '--timeout', '2s'], c.netns);
    oneLineError(routed, /198\.19\.0\.20 is not on a directly connected subnet: route via 198\.18\.0\.1 .*only the outage length could be measured, not the ARP cause/);

    oneLineError(await hadiag(['measure-failover', '--vip', '198.18.0.20', 'nosuch0'], c.netns), /no interface nosuch0: IFACE — name one of: .*hd/);
    oneLineError(await hadiag(['measure-failover', '--vip', '198.18.0.5'], c.netns), /198\.18\.0\.5 is an address of this host/);
    oneLineError(await hadiag(['measure-failover', '--vip', '198.18.0.20'], c.netns, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']), /needs root/);

    oneLineError(await hadiag(['measure-failover', '--vip', '198.18.0.20', '--read', join(dir, 'missing.pcap')]), /cannot read capture file: .*missing\.pcap: no such file/);
    const junk = join(dir, 'junk.pcap');
    writeFileSync(junk, 'this is not a capture at all\n');
    oneLineError(await hadiag(['measure-failover', '--vip', '198.18.0.20', '--read', junk]), /junk\.pcap/);
    const fixture = new URL('../fixtures/measure/heartbeat-IPaddr-takeover.pcap', import.meta.url).pathname;
    oneLineError(await hadiag(['measure-failover', '--vip', '198.18.0.20', '--read', fixture]), /no echo probes to 198\.18\.0\.20 in the capture/);
    oneLineError(await hadiag(['measure-failover', '--vip', '198.18.0.20', '--read', fixture, 'eth0']), /give an interface or --read, not both/);
    oneLineError(await hadiag(['measure-failover', '--vip', '198.18.0.20', '--interval', '5']), /interval "5" has no unit/);
    oneLineError(await hadiag(['measure-failover', '--vip', '10.0.0.300']), /not an IPv4 or IPv6 address/);
  } finally {
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
});
