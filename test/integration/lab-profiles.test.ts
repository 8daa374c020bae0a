import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { PROFILES } from '../../src/models/lab/profiles.js';
import { readSysctl } from '../../src/effects/lab/profiles.js';
import { labHost, clients, type LabState } from '../../src/effects/lab/types.js';
import { run } from '../../src/effects/io/exec.js';
import { listNetns } from '../../src/effects/io/netns.js';
import { neighMac, garp, waitFor } from './lab-helpers.js';

// One lab (keepalived, fast timers: up in ~2 s) with one client per profile. The VIP holder sends the
// gratuitous frames itself with arping, so each client's reaction is checked frame by frame.
const FAKE = '02:48:44:00:00:99';
let lab: LabState;
const names = PROFILES.map((p) => p.name);
const client = (profile: string) => clients(lab).find((c) => c.profile === profile)!;

before(async () => {
  lab = await upLab({ manager: 'keepalived', timers: 'fast', profiles: names, clients: names.length });
});
after(async () => {
  if (lab) await destroyLab(lab.id);
  assert.ok(!(await listNetns()).some((n) => n.startsWith(`hadiag-${lab.id}-`)));
});

test("every profile's sysctl or nft rule is in place", async () => {
  const c = (p: string) => client(p);
  assert.equal(await readSysctl(c('drop-gratuitous').netns, `net.ipv4.conf.${c('drop-gratuitous').ifname}.drop_gratuitous_arp`), '1');
  assert.equal(await readSysctl(c('accept-new').netns, `net.ipv4.conf.${c('accept-new').ifname}.arp_accept`), '1');
  assert.equal(await readSysctl(c('linux-default').netns, `net.ipv4.conf.${c('linux-default').ifname}.arp_accept`), '0');
  const t = c('tuned');
  assert.equal(await readSysctl(t.netns, `net.ipv4.neigh.${t.ifname}.base_reachable_time_ms`), '5000');
  assert.equal(await readSysctl(t.netns, `net.ipv4.neigh.${t.ifname}.delay_first_probe_time`), '1');
  assert.equal(await readSysctl(t.netns, `net.ipv4.neigh.${t.ifname}.ucast_solicit`), '0');
  assert.equal(await readSysctl(t.netns, `net.ipv4.neigh.${t.ifname}.mcast_resolicit`), '3');
  const nft = async (p: string) => (await run(['ip', 'netns', 'exec', c(p).netns, 'nft', 'list', 'ruleset'])).stdout;
  assert.match(await nft('garp-filtered'), new RegExp(`arp saddr ip ${lab.vip.replace(/\./g, '\\.')} arp daddr ip ${lab.vip.replace(/\./g, '\\.')} counter packets \\d+ bytes \\d+ drop`));
  assert.match(await nft('requests-filtered'), /arp operation request arp saddr ip/);
  assert.equal((await nft('linux-default')).trim(), '');
});

test('gratuitous request and reply: who updates, who creates, who ignores', async () => {
  const holder = labHost(lab, 'server1');
  const stale = names.filter((n) => n !== 'accept-new');
  // Every client but accept-new believes the VIP is at a dead MAC; accept-new (and linux-default's twin check) has no entry.
  for (const p of stale) await run(['ip', '-n', client(p).netns, 'neigh', 'replace', lab.vip, 'lladdr', FAKE, 'dev', client(p).ifname, 'nud', 'stale']);
  await run(['ip', '-n', client('accept-new').netns, 'neigh', 'flush', 'to', lab.vip]);
  await garp(holder.netns, holder.ifname, lab.vip, 'request');
  await new Promise((r) => setTimeout(r, 300));
  const after1: Record<string, string | undefined> = {};
  for (const p of names) after1[p] = await neighMac(client(p).netns, lab.vip);
  assert.equal(after1['linux-default'], holder.mac, 'a default client takes the GARP request');
  assert.equal(after1['tuned'], holder.mac);
  assert.equal(after1['accept-new'], holder.mac, 'arp_accept=1 creates the entry from a GARP');
  assert.equal(after1['garp-filtered'], FAKE, 'garp-filtered keeps the dead MAC');
  assert.equal(after1['requests-filtered'], FAKE, 'requests-filtered drops the request');
  assert.equal(after1['drop-gratuitous'], FAKE, 'drop_gratuitous_arp ignores it');
  await new Promise((r) => setTimeout(r, 1100)); // past locktime
  await garp(holder.netns, holder.ifname, lab.vip, 'reply');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await neighMac(client('requests-filtered').netns, lab.vip), holder.mac, 'a gratuitous reply gets through requests-filtered');
  assert.equal(await neighMac(client('garp-filtered').netns, lab.vip), FAKE);
  assert.equal(await neighMac(client('drop-gratuitous').netns, lab.vip), FAKE);
});

test('without arp_accept a GARP creates no entry (the contrast to accept-new)', async () => {
  const c = client('linux-default');
  await run(['ip', '-n', c.netns, 'neigh', 'flush', 'to', lab.vip]);
  const holder = labHost(lab, 'server1');
  await garp(holder.netns, holder.ifname, lab.vip, 'request');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await neighMac(c.netns, lab.vip), undefined);
});

test('tuned recovers from a dead MAC by itself within ~10 s; linux-default does not', async () => {
  const holder = labHost(lab, 'server1');
  const probe = async (p: string) => {
    const c = client(p);
    await run(['ip', '-n', c.netns, 'neigh', 'replace', lab.vip, 'lladdr', FAKE, 'dev', c.ifname, 'nud', 'reachable']);
    const t0 = Date.now();
    const ok = await waitFor(async () => (await run(['ip', 'netns', 'exec', c.netns, 'ping', '-c', '1', '-W', '0.2', lab.vip])).code === 0, 12_000, 50);
    return ok ? Date.now() - t0 : undefined;
  };
  const [tuned, dflt] = await Promise.all([probe('tuned'), probe('linux-default')]);
  assert.ok(tuned !== undefined && tuned < 12_000, `tuned recovered after ${tuned} ms`);
  assert.equal(dflt, undefined, 'linux-default keeps the dead MAC for at least 15 + 5 + 3 s');
  assert.equal(await neighMac(client('tuned').netns, lab.vip), holder.mac);
});
