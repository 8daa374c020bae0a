import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { moduleArgv } from '../../core/module-argv.js';
import { spawnDetached } from './managers/common.js';
import { join } from 'node:path';
import { usageError, requireRoot, envError } from '../../core/errors.js';
import { run } from '../io/exec.js';
import { onCleanup } from '../io/cleanup.js';
import { Topology, NETNS_PREFIX, LINK_PREFIX, alive, assertRunId, deleteNetns, labMac, listNetns, netnsPids, newRunId } from '../io/netns.js';
import { sleep } from '../../core/clock.js';
import { DEFAULT_SUBNET, broadcastAddress, clientVipsFor, heartbeatSubnet, hostAddress, hostAddress6, LAB_SUBNET6, parseFamilies, parseSubnet, planHosts, planVips, PING_NODE_HOST, type Subnet } from './addressing.js';
import { runOk } from '../io/exec.js';
import { parseTimers } from './timers.js';
import { getManager } from './managers/index.js';
import { applyClientProfiles } from './profiles.js';
import { resolveClientProfiles, type NeighOverrides } from '../../models/lab/profiles.js';
import { labDir, listLabIds, readState, removeLabDir, writeState } from './state.js';
import { clients, labVips, servers, type LabFamily, type LabState } from './types.js';
import { waitForVipHolder } from './vip.js';
import { parseStrategy } from '../../models/strategy/language.js';

/** how long the announce sidecars get to start (tsx from source is slow on a loaded machine) */
const SIDECAR_START_MS = 30_000;

export interface UpOptions {
  manager?: string;
  /** announcement strategy for the `hadiag` manager (run-node --garp SPEC) */
  garp?: string;
  /** one profile per client; the last one repeats for extra clients */
  profiles?: string[];
  clients?: number;
  timers?: string;
  subnet?: string;
  /** VIP families (--family, repeatable): [4] by default, [6] IPv6 only, [4, 6] a dual-stack VIP pair */
  families?: (LabFamily | string)[];
  /** VIPs per family (--vips M; default 1), all in one resource group */
  vips?: number;
  name?: string;
  /** neighbour-timer overrides applied to every client (tests shrink them) */
  neigh?: NeighOverrides;
  /** run the `hadiag announce` sidecar on every server with these strategies (any manager; [] = its default) */
  announce?: string[];
  /** 'separate': the servers get a second interface on a bridge of their own for heartbeats (ha.cf's medium) */
  heartbeatLink?: 'shared' | 'separate';
  /** an always-up address on the client side (.1, on the client bridge) named by ha.cf `ping`, with ipfail */
  pingNode?: boolean;
  onProgress?: (text: string) => void;
}

/** Profiles per client: given ones in order, the last repeated; linux-default when none. */
export function profilesFor(count: number, given: string[] = []): string[] {
  const list = given.length ? given : ['linux-default'];
  return Array.from({ length: count }, (_, i) => list[Math.min(i, list.length - 1)]!);
}

/**
 * The wait for the VIPs: the manager's own for one VIP, plus what the slowest agent takes per further VIP
 * (Heartbeat acquires a group's resources one after the other: IPv6addr ≈ 7.5 s each — in-use check, DAD,
 * 5 NAs 1 s apart — IPaddr 0.5–2 s on a loaded machine).
 */
export function startupTimeoutMs(forOne: number, vips: { family: LabFamily }[]): number {
  const v6 = vips.filter((v) => v.family === 6).length;
  const v4 = vips.length - v6;
  return forOne + 12_000 * Math.max(0, v6 - 1) + 3_000 * Math.max(0, v4 - 1) + (v4 && v6 ? 12_000 : 0);
}

/** Build a lab, start its managers, wait for the VIP. On any error or Ctrl-C everything built is removed. */
export async function upLab(o: UpOptions = {}): Promise<LabState> {
  requireRoot('hadiag lab up');
  const progress = o.onProgress ?? (() => {});
  const mgr = getManager(o.manager ?? 'heartbeat');
  const timers = parseTimers(o.timers ?? 'classic');
  const mt = mgr.describeTimers(timers);
  const subnet = parseSubnet(o.subnet ?? DEFAULT_SUBNET);
  const nClients = o.clients ?? Math.max(1, o.profiles?.length ?? 1);
  const plan = planHosts(subnet, nClients);
  const families = parseFamilies(o.families);
  const vips = planVips(subnet, families, o.vips ?? 1);
  mgr.checkVips?.(families, o.vips ?? 1);
  const profiles = profilesFor(nClients, o.profiles);
  profiles.forEach((p) => resolveClientProfiles(p, families));
  if (o.profiles && o.profiles.length > nClients) throw usageError(`${o.profiles.length} client profiles for ${nClients} clients`, '--client-profile', 'give at most one profile per client');
  for (const spec of o.announce ?? []) if (spec !== 'default') parseStrategy(spec, '--announce');
  if (o.garp !== undefined) {
    if (mgr.name !== 'hadiag') throw usageError(`--garp applies to hadiag run-node only, not ${mgr.name}`, '--garp', 'add --manager hadiag, or drop --garp (the other managers announce their own way)');
    parseStrategy(o.garp, '--garp');
  }
  if (o.heartbeatLink !== undefined && o.heartbeatLink !== 'shared' && o.heartbeatLink !== 'separate') {
    throw usageError(`--heartbeat-link ${o.heartbeatLink} is not shared or separate`, '--heartbeat-link', 'write --heartbeat-link separate (or leave it out: shared)');
  }
  const hbSubnet = o.heartbeatLink === 'separate' ? heartbeatSubnet(subnet) : undefined;
  if ((o.pingNode || hbSubnet) && !['heartbeat', 'hadiag'].includes(mgr.name)) {
    throw usageError(`--ping-node and --heartbeat-link apply to the ha.cf managers (heartbeat, hadiag), not ${mgr.name}`, '--manager', 'add --manager heartbeat or --manager hadiag');
  }
  const id = o.name ?? newRunId();
  assertRunId(id);
  if ((await readState(id)) || (await listNetns()).some((n) => n.startsWith(`${NETNS_PREFIX}${id}-`))) {
    throw usageError(`a lab named "${id}" exists`, labDir(id), `pick another --name or remove it: hadiag lab down --name ${id}`);
  }

  const state: LabState = {
    version: 1,
    id,
    dir: labDir(id),
    createdAtMs: Date.now(),
    builderPid: process.pid,
    ready: false,
    subnet: `${subnet.network}/${subnet.prefixLen}`,
    prefixLen: subnet.prefixLen,
    broadcast: broadcastAddress(subnet),
    vip: vips[0]!.address,
    families,
    vips,
    ...(families.includes(6) ? { subnet6: `${LAB_SUBNET6.network}/${LAB_SUBNET6.prefixLen}` } : {}),
    manager: mgr.name,
    ...(o.garp !== undefined ? { garp: o.garp } : {}),
    timers: { ...timers, summary: mt.summary, settings: mt.settings },
    bridgeNetns: `${NETNS_PREFIX}${id}-br`,
    bridge: `${LINK_PREFIX}${id}-br`,
    hosts: [],
    net: { partition: false, loss: {} },
    faults: [],
    ...(o.pingNode ? { pingNode: hostAddress(subnet, PING_NODE_HOST) } : {}),
  };
  let aborted = false;
  const check = () => {
    if (aborted) throw usageError(`lab ${id} build interrupted`, labDir(id), 'nothing was left behind');
  };
  // Ctrl-C runs this while the build may still be between two steps: remove, let the step in flight land, remove again.
  const undo = onCleanup(`lab ${id}`, async () => {
    aborted = true;
    await destroyLab(id);
    await sleep(300);
    await destroyLab(id);
  });
  try {
    await writeState(state); // from here on `lab down --all` finds even a half-built lab
    progress(`building namespaces of lab ${id}`);
    const topo = await Topology.create({
      runId: id,
      hosts: plan.map((h) => ({ name: h.name, addresses: [`${h.address}/${subnet.prefixLen}`], mac: labMac(h.hostNumber) })),
    });
    topo.persist();
    check();
    for (const [i, p] of plan.entries()) {
      const h = topo.host(p.name);
      const dir = join(state.dir, p.name);
      await mkdir(dir, { recursive: true });
      state.hosts.push({
        name: p.name, role: p.role, netns: h.netns, ifname: h.ifname, bridgePort: h.bridgePort, mac: h.mac, address: p.address, dir,
        ...(families.includes(6) ? { address6: hostAddress6(p.hostNumber) } : {}),
        ...(p.role === 'client' ? { profile: profiles[i - 2], vips: clientVipsFor(vips, i - 2) } : {}),
      });
    }
    await writeState(state);
    if (families.includes(6)) {
      check();
      progress(`IPv6 addresses (${state.subnet6})`);
      // nodad: the lab's own addresses are unique by construction; a VIP's DAD stays the manager's business
      for (const h of state.hosts) await runOk(['ip', '-n', h.netns, '-6', 'addr', 'add', `${h.address6}/${LAB_SUBNET6.prefixLen}`, 'dev', h.ifname, 'nodad']);
    }
    if (hbSubnet) {
      check();
      progress(`adding the separate heartbeat link (${hbSubnet.network}/${hbSubnet.prefixLen})`);
      await addHeartbeatLink(state, hbSubnet);
      await writeState(state);
    }
    if (state.pingNode) {
      check();
      progress(`the ping node ${state.pingNode} on the client bridge`);
      await runOk(['ip', '-n', state.bridgeNetns, 'addr', 'add', `${state.pingNode}/${subnet.prefixLen}`, 'dev', state.bridge]);
      await runOk(['ip', '-n', state.bridgeNetns, 'link', 'set', 'lo', 'up']);
    }
    for (const c of clients(state)) {
      check();
      progress(`applying client profile ${c.profile} to ${c.name}`);
      await applyClientProfiles(c.netns, c.ifname, c.vips ?? [state.vip], resolveClientProfiles(c.profile!, families), o.neigh);
    }
    if (o.announce) {
      check();
      progress(`starting hadiag announce on ${servers(state).map((s) => s.name).join(', ')}`);
      await startSidecars(state, o.announce);
    }
    for (const s of servers(state)) {
      check();
      progress(`starting ${mgr.name} on ${s.name}`);
      s.manager = await mgr.start(state, s);
      await writeState(state);
    }
    progress(`waiting for the VIP${vips.length > 1 ? `s (${vips.length}, first ${state.vip})` : ` ${state.vip}`} (${mt.summary})`);
    check();
    await waitForVipHolder(state, startupTimeoutMs(mt.startupTimeoutMs, vips));
    check();
    state.ready = true;
    delete state.builderPid;
    await writeState(state);
    undo();
    return state;
  } catch (err) {
    undo();
    await destroyLab(id);
    throw err;
  }
}

/**
 * --heartbeat-link separate: a second bridge in the bridge namespace and, on each server, a second veth on it
 * (`hd<id>-hb0`, address .11/.12 of the heartbeat subnet), which ha.cf's medium then names. The client-facing
 * interface is left alone, so a fault on it does not stop the heartbeats.
 */
async function addHeartbeatLink(state: LabState, subnet: Subnet): Promise<void> {
  const id = state.id;
  const bridge = `${LINK_PREFIX}${id}-hbr`;
  const b = ['ip', '-n', state.bridgeNetns];
  await runOk([...b, 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0']);
  await runOk([...b, 'link', 'set', bridge, 'type', 'bridge', 'forward_delay', '0']).catch(() => '');
  await runOk([...b, 'link', 'set', bridge, 'up']);
  state.heartbeatLink = { bridge, subnet: `${subnet.network}/${subnet.prefixLen}` };
  for (const [i, s] of servers(state).entries()) {
    // temporary names match the stray-link pattern destroyLab removes (hd<id>t<n>a|b)
    const tmpA = `${LINK_PREFIX}${id}t${90 + i}a`;
    const tmpB = `${LINK_PREFIX}${id}t${90 + i}b`;
    const hb = { ifname: `${LINK_PREFIX}${id}-hb0`, address: hostAddress(subnet, i === 0 ? 11 : 12), bridgePort: `${LINK_PREFIX}${id}-h${i + 1}` };
    const h = ['ip', '-n', s.netns];
    await runOk(['ip', 'link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    await runOk(['ip', 'link', 'set', tmpA, 'netns', s.netns]);
    await runOk(['ip', 'link', 'set', tmpB, 'netns', state.bridgeNetns]);
    await runOk([...h, 'link', 'set', tmpA, 'name', hb.ifname]);
    await runOk([...b, 'link', 'set', tmpB, 'name', hb.bridgePort]);
    await runOk([...b, 'link', 'set', hb.bridgePort, 'master', bridge, 'up']);
    await runOk([...h, 'addr', 'add', `${hb.address}/${subnet.prefixLen}`, 'brd', '+', 'dev', hb.ifname]);
    await runOk([...h, 'link', 'set', hb.ifname, 'up']);
    s.hb = hb;
  }
}

/**
 * The announce sidecar in each server's namespace, started before the manager (it must see the first
 * takeover), sharing its client book with the other server (an authkeys file of the lab's). Its log
 * (JSON lines) is SERVER_DIR/announce.out, its control socket SERVER_DIR/announce/control.sock; `lab down`
 * ends it with everything else in the namespace.
 */
async function startSidecars(state: LabState, specs: string[]): Promise<void> {
  const keyFile = join(state.dir, 'announce-authkeys');
  await writeFile(keyFile, `auth 1\n1 sha1 ${randomBytes(12).toString('hex')}\n`, { mode: 0o600 });
  const [node, ...loader] = moduleArgv('cli/main');
  const entry = loader.pop()!;
  const cli = [node!, ...loader, '--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); await m.main(process.argv.slice(1));`, '--'];
  const started: { name: string; out: string; pid: number }[] = [];
  for (const s of servers(state)) {
    const peers = servers(state).filter((p) => p !== s).flatMap((p) => ['--peer', p.address]);
    const argv = [...cli, 'announce', s.ifname, ...labVips(state).flatMap((v) => ['--vip', v.address]), ...specs.filter((g) => g !== 'default').flatMap((g) => ['--garp', g]), ...peers, '--authkeys', keyFile, '--node', s.name, '--state-dir', join(s.dir, 'announce'), '--json'];
    const out = join(s.dir, 'announce.out');
    started.push({ name: s.name, out, pid: spawnDetached(s.netns, argv, out) });
  }
  const deadline = Date.now() + SIDECAR_START_MS;
  for (const st of started) {
    for (;;) {
      const log = await readFile(st.out, 'utf8').catch(() => '');
      if (log.includes('"event":"start"')) break;
      if (!alive(st.pid) || Date.now() > deadline) throw envError(`hadiag announce did not start on ${st.name}`, st.out, 'read its log');
      await sleep(100);
    }
  }
}

/** Remove one lab: its processes (SIGKILL, by PID, only inside its namespaces), namespaces, stray links, state dir. */
export async function destroyLab(id: string): Promise<{ namespaces: string[] }> {
  assertRunId(id);
  const prefix = `${NETNS_PREFIX}${id}-`;
  const namespaces = (await listNetns()).filter((n) => n.startsWith(prefix));
  // Kill everything first (fast and in parallel), so graceful-stop logic of daemons cannot slow us down.
  for (const ns of namespaces) {
    for (const pid of await netnsPids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  for (const ns of namespaces) await deleteNetns(ns);
  await removeStrayLinks(new RegExp(`^${LINK_PREFIX}${id}t\\d+[ab]$`));
  await removeLabDir(id);
  return { namespaces };
}

/** veth halves left in the root namespace by a build killed between `link add` and `link set netns`. */
async function removeStrayLinks(re: RegExp): Promise<string[]> {
  const r = await run(['ip', '-json', 'link', 'show', 'type', 'veth']);
  if (r.code !== 0 || !r.stdout.trim()) return [];
  const names = (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname).filter((n) => re.test(n));
  for (const n of names) await run(['ip', 'link', 'del', n]);
  return names;
}

/**
 * `lab down --all`: every lab state directory, every namespace whose name starts with `hadiag-` (with the
 * processes inside it) and stray `hd<id>t<n>a|b` veths in the root namespace. Nothing else.
 */
export async function destroyAllLabs(): Promise<{ labs: string[]; namespaces: string[]; links: string[] }> {
  const ids = new Set(await listLabIds());
  for (const ns of await listNetns()) {
    const m = /^hadiag-([a-z0-9]{1,6})-/.exec(ns);
    if (m) ids.add(m[1]!);
  }
  const namespaces: string[] = [];
  for (const id of [...ids].filter((x) => /^[a-z0-9]{1,6}$/.test(x))) namespaces.push(...(await destroyLab(id)).namespaces);
  for (const ns of (await listNetns()).filter((n) => n.startsWith(NETNS_PREFIX))) {
    await deleteNetns(ns);
    namespaces.push(ns);
  }
  const links = await removeStrayLinks(/^hd[a-z0-9]{1,6}t\d+[ab]$/);
  return { labs: [...ids], namespaces, links };
}
