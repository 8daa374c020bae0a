/**
 * The lab with IPv6 and several VIPs (lab up --family, --vips): the real managers move IPv6 VIPs, IPv6 clients
 * recover, clients spread over the VIPs, and bad combinations are refused in one line. One lab per manager,
 * shared by its assertions; fast timers, shrunk client neighbour timers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cli, neighMac, waitFor } from './lab-helpers.js';
import { listNetns, newRunId, nsRunOk, nsSpawn, killPid } from '../../src/effects/io/netns.js';
import { Pinger } from '../../src/effects/lab/pinger.js';
import { vipView } from '../../src/effects/lab/vip.js';
import { destroyLab } from '../../src/effects/lab/lab.js';
import { readState } from '../../src/effects/lab/state.js';
import { clients, labHost, type LabState } from '../../src/effects/lab/types.js';

const NEIGH = ['base_reachable_time_ms=2000', 'delay_first_probe_time=1', 'retrans_time_ms=250'].flatMap((n) => ['--client-neigh', n]);

async function up(args: string[]): Promise<LabState> {
  const r = await cli(['lab', 'up', '--timers', 'fast', ...NEIGH, '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as LabState;
}

/** tcpdump of the ND frames on a host's bridge port, as text lines (-e: MACs), until stop(). */
function watchNd(lab: LabState, host: string): { lines: () => Promise<string[]>; stop: () => Promise<void> } {
  const file = join(lab.dir, `nd-${host}.txt`);
  const child = nsSpawn(lab.bridgeNetns, ['sh', '-c', `exec tcpdump -l -n -e -vv -i ${labHost(lab, host).bridgePort} 'icmp6 and (ip6[40] = 135 or ip6[40] = 136)' > ${file} 2>/dev/null`]);
  return {
    lines: async () => (await readFile(file, 'utf8').catch(() => '')).split('\n'),
    stop: () => killPid(child.pid!, 500),
  };
}

/** Each client pings each of its VIPs every 10 ms; resolves once every pinger has a reply. */
async function startPingers(lab: LabState): Promise<{ c: string; vip: string; p: Pinger }[]> {
  const list = clients(lab).flatMap((c) => (c.vips ?? [lab.vip]).map((vip) => ({ c: c.name, vip, p: Pinger.start(c.netns, vip, 0.01) })));
  const ok = await waitFor(async () => list.every((x) => x.p.replies.length > 0), 15_000);
  assert.ok(ok, `no first reply: ${list.filter((x) => !x.p.replies.length).map((x) => `${x.c} → ${x.vip}`).join(', ')}`);
  return list;
}

async function takeOver(lab: LabState, pingers: { c: string; vip: string; p: Pinger }[]): Promise<number> {
  const faultAt = performance.timeOrigin + performance.now();
  const f = await cli(['lab', 'fault', 'link-down', 'server1', '--name', lab.id]);
  assert.equal(f.code, 0, f.stderr);
  const moved = await waitFor(async () => (await vipView(lab)).holders[0] === 'server2', 30_000, 200);
  assert.ok(moved, `server2 never held every VIP: ${JSON.stringify(await vipView(lab))}`);
  const recovered = await waitFor(async () => pingers.every((x) => x.p.recovered(faultAt, 20, 300)), 30_000, 200);
  assert.ok(recovered, `not recovered: ${pingers.filter((x) => !x.p.recovered(faultAt, 20, 300)).map((x) => `${x.c} → ${x.vip}`).join(', ')}`);
  return faultAt;
}

async function cleanUp(lab: LabState | undefined, pingers: { p: Pinger }[]): Promise<void> {
  await Promise.all(pingers.map((x) => x.p.stop()));
  if (!lab) return;
  await destroyLab(lab.id);
  assert.deepEqual((await listNetns()).filter((n) => n.startsWith(`hadiag-${lab.id}-`)), []);
}

test('keepalived --family 6 --vips 4: four IPv6 VIPs, clients spread over them, each IPv6 profile recovers after the takeover', { timeout: 120_000 }, async () => {
  let lab: LabState | undefined;
  let pingers: { c: string; vip: string; p: Pinger }[] = [];
  try {
    const profiles = ['linux-default', 'drop-unsolicited-na', 'forwarding-untracked', 'linux-default'].flatMap((p) => ['--client-profile', p]);
    lab = await up(['--manager', 'keepalived', '--family', '6', '--vips', '4', '--clients', '4', ...profiles, '--name', newRunId()]);
    assert.equal(lab.vip, '2001:db8::20');
    assert.deepEqual(lab.families, [6]);
    assert.deepEqual(lab.vips!.map((v) => `${v.address}/${v.prefixLen}`), ['2001:db8::20/64', '2001:db8::21/64', '2001:db8::22/64', '2001:db8::23/64']);
    assert.deepEqual(clients(lab).map((c) => c.vips), [['2001:db8::20'], ['2001:db8::21'], ['2001:db8::22'], ['2001:db8::23']]);
    const sysctl = (host: string, key: string) => nsRunOk(labHost(lab!, host).netns, ['sysctl', '-n', `net.ipv6.conf.${labHost(lab!, host).ifname}.${key}`]).then((s) => s.trim());
    assert.equal(await sysctl('client2', 'drop_unsolicited_na'), '1');
    assert.equal(await sysctl('client3', 'forwarding'), '1');
    assert.equal(await sysctl('client3', 'accept_untracked_na'), '1');
    assert.equal(await sysctl('client', 'drop_unsolicited_na'), '0');
    const conf = await readFile(join(labHost(lab, 'server1').dir, 'keepalived.conf'), 'utf8');
    assert.match(conf, /vrrp_instance VI_6 \{[^}]*virtual_ipaddress \{\s*2001:db8::20\/64 dev \S+\s*2001:db8::21\/64/);
    assert.doesNotMatch(conf, /VI_4/);

    pingers = await startPingers(lab);
    const nd = watchNd(lab, 'client');
    await takeOver(lab, pingers);
    const server2 = labHost(lab, 'server2').mac;
    for (const c of clients(lab)) assert.equal(await neighMac(c.netns, c.vips![0]!), server2, `${c.name}'s entry for ${c.vips![0]}`);
    await waitFor(async () => (await nd.lines()).some((l) => l.includes(`${server2} > 33:33:00:00:00:01`)), 5000);
    await nd.stop();
    // keepalived's announcement: unsolicited NAs from each VIP to ff02::1, override set, target link-layer option
    const text = (await nd.lines()).join('\n');
    for (const v of lab.vips!) {
      assert.match(text, new RegExp(`${server2} > 33:33:00:00:00:01.*\\n?.*${v.address.replace(/:/g, ':')} > ff02::1: .*neighbor advertisement.*tgt is ${v.address}, Flags \\[override\\]`), `NA for ${v.address}`);
    }
    assert.match(text, /destination link-address option \(2\).*\n.*0248 4400 000c/);
  } finally {
    await cleanUp(lab, pingers);
  }
});

test('heartbeat --family 4 --family 6: a dual-stack VIP pair in one haresources group moves; the client recovers on both families', { timeout: 150_000 }, async () => {
  let lab: LabState | undefined;
  let pingers: { c: string; vip: string; p: Pinger }[] = [];
  try {
    lab = await up(['--manager', 'heartbeat', '--family', '4', '--family', '6', '--client-profile', 'garp-filtered+drop-unsolicited-na', '--client-profile', 'linux-default', '--clients', '2', '--name', newRunId()]);
    assert.deepEqual(lab.families, [4, 6]);
    assert.equal(lab.vip, '198.18.0.20');
    assert.deepEqual(lab.vips!.map((v) => v.address), ['198.18.0.20', '2001:db8::20']);
    assert.deepEqual(clients(lab).map((c) => c.vips), [['198.18.0.20', '2001:db8::20'], ['198.18.0.20', '2001:db8::20']]);
    const s1 = labHost(lab, 'server1');
    const haresources = await readFile(join(s1.dir, 'ha.d', 'haresources'), 'utf8');
    assert.equal(haresources, `server1 IPaddr::198.18.0.20/255.255.255.0/${s1.ifname} IPv6addr::2001:db8:0:0:0:0:0:20/64/${s1.ifname}\n`);
    const status = await cli(['lab', 'status', '--name', lab.id]);
    assert.match(status.stdout, /VIPs 198\.18\.0\.20, 2001:db8::20 held by server1/);
    assert.match(status.stdout, /client \(garp-filtered\+drop-unsolicited-na\)/);

    pingers = await startPingers(lab);
    const nd = watchNd(lab, 'client2');
    await takeOver(lab, pingers);
    const server2 = labHost(lab, 'server2').mac;
    for (const c of clients(lab)) for (const v of c.vips!) assert.equal(await neighMac(c.netns, v), server2, `${c.name}'s entry for ${v}`);
    await waitFor(async () => (await nd.lines()).some((l) => l.includes('neighbor advertisement') && l.includes(`${server2} > 33:33:00:00:00:01`)), 10_000);
    await nd.stop();
    // Heartbeat's IPv6addr (send_ua): unsolicited NA [override] with target link-layer option, after DAD (a probe from ::)
    const text = (await nd.lines()).join('\n');
    assert.match(text, new RegExp(`${server2} > 33:33:00:00:00:01.*\\n?.*2001:db8::20 > ff02::1: .*neighbor advertisement.*tgt is 2001:db8::20, Flags \\[override\\]`));
    assert.match(text, /:: > ff02::1:ff00:20: .*neighbor solicitation.*who has 2001:db8::20/);
  } finally {
    await cleanUp(lab, pingers);
  }
});

test('hadiag --family 6 --vips 2: run-node carries both IPv6 VIPs of one haresources group; the client of each recovers', { timeout: 120_000 }, async () => {
  let lab: LabState | undefined;
  let pingers: { c: string; vip: string; p: Pinger }[] = [];
  try {
    lab = await up(['--manager', 'hadiag', '--family', '6', '--vips', '2', '--clients', '2', '--client-profile', 'drop-unsolicited-na', '--name', newRunId()]);
    const s1 = labHost(lab, 'server1');
    assert.equal(await readFile(join(s1.dir, 'ha.d', 'haresources'), 'utf8'), `server1 IPv6addr::2001:db8:0:0:0:0:0:20/64/${s1.ifname} IPv6addr::2001:db8:0:0:0:0:0:21/64/${s1.ifname}\n`);
    pingers = await startPingers(lab);
    assert.deepEqual(pingers.map((x) => `${x.c} ${x.vip}`), ['client 2001:db8::20', 'client2 2001:db8::21']);
    await takeOver(lab, pingers);
    const server2 = labHost(lab, 'server2').mac;
    for (const c of clients(lab)) assert.equal(await neighMac(c.netns, c.vips![0]!), server2, `${c.name}'s entry for ${c.vips![0]}`);
  } finally {
    await cleanUp(lab, pingers);
  }
});

test('lab up refuses what it cannot build in one line, and leaves nothing behind', { timeout: 60_000 }, async () => {
  const cases: [string[], RegExp][] = [
    [['--family', '5'], /--family 5 is not 4 or 6/],
    [['--manager', 'ucarp', '--family', '6'], /ucarp cannot carry an IPv6 VIP/],
    [['--manager', 'pacemaker', '--vips', '2'], /pacemaker row carries one VIP/],
    [['--client-profile', 'drop-unsolicited-na'], /sets IPv6 behaviour and this lab has no IPv6 VIP.*add --family 6/],
    [['--family', '6', '--client-profile', 'garp-filtered'], /sets IPv4 behaviour and this lab has no IPv4 VIP/],
    [['--family', '4', '--family', '6', '--client-profile', 'drop-gratuitous+tuned'], /names two IPv4 profiles/],
    [['--vips', '300'], /300 VIPs do not fit in 198\.18\.0\.0\/24.*--subnet 198\.18\.0\.0\/23/],
  ];
  const ids = cases.map(() => newRunId());
  const results = await Promise.all(cases.map(([args], i) => cli(['lab', 'up', ...args, '--name', ids[i]!])));
  for (const [i, r] of results.entries()) {
    assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n').filter((l) => !/^[✖⠋-⠿]/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, cases[i]![1]);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.deepEqual((await listNetns()).filter((n) => ids.some((id) => n.startsWith(`hadiag-${id}-`))), []);
  for (const id of ids) assert.equal(await readState(id), undefined, `state of ${id} left behind`);
});
