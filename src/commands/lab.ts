import type { Argv, CommandModule } from 'yargs';
import Table from 'cli-table3';
import ora, { type Ora } from 'ora';
import { EXIT_HEALTHY, EXIT_PROBLEM, requireRoot, usageError } from '../core/errors.js';
import { interactive, printJson } from './output.js';
import { formatDuration } from '../core/duration.js';
import { upLab, destroyLab, destroyAllLabs } from '../effects/lab/lab.js';
import { resolveLab, listLabIds, readState } from '../effects/lab/state.js';
import { labStatus, hostCommand, type LabStatus } from '../effects/lab/status.js';
import { applyFault, parseFault, FAULTS } from '../effects/lab/faults.js';
import { PROFILES, PROFILES6, parseNeighOverride, type NeighOverrides } from '../models/lab/profiles.js';
import { MANAGERS } from '../effects/lab/managers/index.js';
import { runDemo, type DemoResult } from '../effects/lab/demo.js';
import { MAX_CLIENTS, MAX_VIPS } from '../effects/lab/addressing.js';
import type { LabState } from '../effects/lab/types.js';
import { DEFAULT_GARP } from '../effects/node/options.js';

const epochS = (ms: number): string => (ms / 1000).toFixed(6);

function spinner(text: string): Ora | undefined {
  return interactive() ? ora({ text, stream: process.stderr }).start() : undefined;
}

function neighFrom(list: string[] | undefined): NeighOverrides | undefined {
  if (!list?.length) return undefined;
  return Object.assign({}, ...list.map(parseNeighOverride)) as NeighOverrides;
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]).flatMap((s) => s.split(',')).filter(Boolean);

export function renderStatus(s: LabStatus): string {
  const t = new Table({ head: ['host', 'address', 'MAC', 'link', 'namespace', 'role'], style: { head: [], border: [] } });
  const several = s.vips.length > 1;
  for (const h of s.hosts) {
    const talks = h.vips && several ? ` → ${h.vips.join(', ')}` : '';
    const role = h.role === 'client' ? `client (${h.profile})${talks}` : `${h.manager?.name} ${h.manager?.running ? `pid ${h.manager.pid}` : 'NOT RUNNING'}${h.holdsVip ? ` — holds the VIP${several ? 's' : ''}` : ''}`;
    t.push([h.name, h.address6 ? `${h.address}\n${h.address6}` : h.address, h.mac, h.link, h.netns, role]);
  }
  const holders = s.vipHolders.length === 0 ? 'nobody' : s.vipHolders.length > 1 ? `${s.vipHolders.join(' and ')} (SPLIT BRAIN)` : s.vipHolders[0];
  const lines = [
    `lab ${s.id}: ${s.manager}, timers ${s.timers} (${s.timerSummary}), subnet ${s.subnet}${s.ready ? '' : ' — NOT READY (build interrupted? hadiag lab down --name ' + s.id + ')'}`,
    `${vipsText(s)} held by ${holders}${s.vipPartial?.length ? `; partly on ${s.vipPartial.map((p) => `${p.host} (${p.held} of ${s.vips.length})`).join(', ')}` : ''}${s.vipStale.length ? `; still configured on downed ${s.vipStale.join(', ')}` : ''}`,
    ...(s.vipTentative?.length ? [`IPv6 VIPs in DAD: ${s.vipTentative.join(', ')}`] : []),
    t.toString(),
    `state and logs: ${s.dir}`,
  ];
  for (const h of s.hosts.filter((x) => x.manager)) lines.push(`  ${h.name} logs: ${h.manager!.logs.join(', ')}`);
  if (s.heartbeatLink) lines.push(`heartbeat link: ${s.heartbeatLink.bridge} (${s.heartbeatLink.subnet}): ${s.heartbeatLink.links.map((l) => `${l.host} ${l.ifname} ${l.address} ${l.link}`).join(', ')}`);
  if (s.pingNode) lines.push(`ping node: ${s.pingNode} (on the client bridge)`);
  const net = [s.net.partition ? 'servers partitioned' : '', ...Object.entries(s.net.loss).map(([h, p]) => `${p} % loss on ${h}`), ...(s.net.pingBlocked ?? []).map((h) => `ping node unreachable from ${h}`)].filter(Boolean);
  if (net.length) lines.push(`network faults: ${net.join(', ')}`);
  if (s.faults.length) lines.push(`faults so far: ${s.faults.map((f) => `${f.kind}${f.host ? ' ' + f.host : ''} @${epochS(f.atMs)}`).join('; ')}`);
  return lines.join('\n') + '\n';
}

/** `VIP 198.18.0.20`, or for several: `VIPs 198.18.0.20 … 198.18.0.23 (4), 2001:db8::20 … 2001:db8::23 (4)` */
function vipsText(s: LabStatus): string {
  if (s.vips.length <= 1) return `VIP ${s.vip}`;
  const parts = ([4, 6] as const).map((f) => s.vips.filter((v) => v.family === f)).filter((l) => l.length).map((l) => (l.length === 1 ? l[0]!.address : `${l[0]!.address} … ${l[l.length - 1]!.address} (${l.length})`));
  return `VIPs ${parts.join(', ')}`;
}

const managerLabel = (m: string): string => (m === 'heartbeat' ? 'heartbeat 3.0.6' : m === 'hadiag' ? 'hadiag run-node' : m);

export function renderDemo(r: DemoResult): string {
  const t = new Table({ head: ['manager', 'client profile', 'outage', 'recovered', 'lab'], style: { head: [], border: [] } });
  for (const row of r.rows) t.push([managerLabel(row.manager), row.profile, (row.recovered ? '' : '> ') + formatDuration(row.outageMs), row.recovered ? 'yes' : 'NO (gave up)', row.lab]);
  const lines = [
    `${r.timerSummary}, fault ${r.fault}; each client pinged the VIP every 5 ms (ping -D -O), real client neighbour timers:`,
    t.toString(),
    'A client that ignores the takeover GARP keeps the dead MAC until its neighbour entry expires',
    '(reachable time 15–45 s, then 5 s delay and 3 unicast probes); one that accepts it recovers at takeover.',
  ];
  if (r.managers.includes('hadiag')) {
    lines.push(
      `hadiag run-node announces with \`${DEFAULT_GARP}\`: ARP requests from the VIP to each client it has seen — not`,
      'gratuitous, so GARP filters and drop_gratuitous_arp do not stop them (evidence: docs/compare-garp.md).',
    );
  }
  return [...lines, ''].join('\n');
}

const nameOpt = { type: 'string', describe: 'lab id (may be omitted when only one lab is up)' } as const;
const jsonOpt = { type: 'boolean', default: false, describe: 'print one JSON document' } as const;

interface UpArgs { manager: string; family?: string[]; vips?: number; garp?: string; announce?: string[]; 'client-profile'?: string[]; clients?: number; timers: string; subnet: string; name?: string; 'client-neigh'?: string[]; 'heartbeat-link'?: string; 'ping-node'?: boolean; json: boolean }

const up: CommandModule<object, UpArgs> = {
  command: 'up',
  describe: 'build a lab, start the HA managers on server1/server2, wait until the VIP is held',
  builder: (y) =>
    y
      .option('manager', { type: 'string', default: 'heartbeat', describe: `HA manager on the servers: ${MANAGERS.map((m) => m.name).join(', ')}` })
      .option('family', { type: 'string', array: true, describe: 'VIP address family: 4 (default) or 6; repeat for a dual-stack VIP pair (--family 4 --family 6). The servers keep IPv4 for heartbeats; IPv6 lives in 2001:db8::/64' })
      .option('vips', { type: 'number', describe: `VIPs per family, all in one resource group (default 1, at most ${MAX_VIPS}; IPv4 from .20 on — a wider --subnet for many); clients take them round-robin` })
      .option('garp', { type: 'string', describe: `announcement strategy of --manager hadiag (run-node --garp; default ${DEFAULT_GARP})` })
      .option('announce', { type: 'string', array: true, describe: 'also run the `hadiag announce` sidecar on both servers (any manager) with this strategy (repeatable; `default` = its default, directed)' })
      .option('client-profile', { type: 'string', array: true, describe: 'client behaviour, one per client in order (the last repeats); IPv4 and IPv6 ones joined by + on a dual-stack lab (garp-filtered+drop-unsolicited-na); see `hadiag lab profiles`' })
      .option('clients', { type: 'number', describe: `number of clients (1–${MAX_CLIENTS}; default: one per profile)` })
      .option('timers', { type: 'string', default: 'classic', describe: 'classic (keepalive 1 s / deadtime 5 s), fast (200 ms / 1 s) or KEEPALIVE/DEADTIME, e.g. 500ms/3s' })
      .option('subnet', { type: 'string', default: '198.18.0.0/24', describe: 'lab subnet inside 198.18.0.0/15 (.11, .12 servers, .20 VIP, .5… clients)' })
      .option('name', { type: 'string', describe: 'lab id, 1–6 lowercase letters/digits (default: random)' })
      .option('client-neigh', { type: 'string', array: true, describe: 'neighbour setting on every client, KEY=VALUE (e.g. base_reachable_time_ms=2000)' })
      .option('heartbeat-link', { type: 'string', choices: ['shared', 'separate'], describe: 'separate: heartbeats on a second interface and bridge of their own (ha.cf medium on it), the client-facing link apart' })
      .option('ping-node', { type: 'boolean', describe: 'ha.cf pings an always-up host on the client side (.1) and respawns ipfail (hadiag: built in)' })
      .option('json', jsonOpt)
      .example('hadiag lab up --manager hadiag --timers fast --heartbeat-link separate --ping-node', 'a client-link failure only the ping node sees (lab fault client-link-down)')
      .example('hadiag lab up --manager heartbeat --client-profile garp-filtered', "the field report's cluster and a PC that ignores GARPs")
      .example('hadiag lab up --manager keepalived --family 6 --client-profile drop-unsolicited-na', 'an IPv6 VIP (2001:db8::20) and a client that drops unsolicited NAs')
      .example('hadiag lab up --family 4 --family 6 --vips 4 --clients 4', 'a dual-stack lab with 4 VIPs per family, one client per VIP pair')
      .example('hadiag lab up --manager keepalived --timers fast --client-profile garp-filtered --client-profile linux-default', 'two clients side by side')
      .example('hadiag lab up --manager hadiag --garp directed --client-profile garp-filtered', 'hadiag run-node announcing with directed requests')
      .example('hadiag lab up --manager keepalived --announce default --client-profile garp-filtered', 'keepalived with the announce sidecar on both servers (log: SERVER_DIR/announce.out)')
      .epilogue('Exit 0 once exactly one server holds the VIP; 2 on a usage or environment error (everything built is removed).\n--json prints the lab state: {id, dir, manager, timers, vip (the first VIP), families, vips: [{family, address, prefixLen}], subnet, subnet6?, hosts: [{name, role, netns, ifname, bridgePort, mac, address, address6?, profile?, vips? (a client\'s VIPs, one per family), manager?: {pid, logs}}], …}.'),
  handler: async (a) => {
    requireRoot('hadiag lab up');
    const spin = spinner('building the lab');
    try {
      const lab = await upLab({
        manager: a.manager,
        ...(a.garp !== undefined ? { garp: a.garp } : {}),
        ...(a.announce?.length ? { announce: a.announce.map(String) } : {}),
        profiles: asList(a['client-profile']),
        ...(a.family?.length ? { families: asList(a.family) } : {}),
        ...(a.vips !== undefined ? { vips: a.vips } : {}),
        ...(a.clients !== undefined ? { clients: a.clients } : {}),
        timers: a.timers,
        subnet: a.subnet,
        ...(a.name ? { name: a.name } : {}),
        ...(neighFrom(a['client-neigh']) ? { neigh: neighFrom(a['client-neigh']) } : {}),
        ...(a['heartbeat-link'] ? { heartbeatLink: a['heartbeat-link'] as 'shared' | 'separate' } : {}),
        ...(a['ping-node'] ? { pingNode: true } : {}),
        onProgress: (t) => {
          if (spin) spin.text = t;
        },
      });
      spin?.succeed(`lab ${lab.id} is up`);
      if (a.json) printJson(lab);
      else process.stdout.write(renderStatus(await labStatus(lab)));
      process.exitCode = EXIT_HEALTHY;
    } catch (err) {
      spin?.fail('lab up failed; removed what was built');
      throw err;
    }
  },
};

interface NameArgs { name?: string; json: boolean }

const status: CommandModule<object, NameArgs> = {
  command: 'status',
  describe: 'hosts, addresses, MACs, who holds the VIP, manager processes, log paths',
  builder: (y) =>
    y
      .option('name', nameOpt)
      .option('json', jsonOpt)
      .example('hadiag lab status', 'the lab that is up (all labs when there are several)')
      .epilogue('Healthy (exit 0): exactly one server holds the VIP and both managers run. Exit 1: no holder, a split brain or a manager down.\n--json prints [LabStatus] = [{id, dir, ready, manager, timers, vip, vips: [{family, address, prefixLen}], vipHolders, vipPartial?, vipTentative?, vipStale, healthy, hosts: [{name, role, netns, ifname, address, address6?, vips?, mac, link, holdsVip, profile?, manager?: {name, pid?, running, logs}}], net, faults}].'),
  handler: async (a) => {
    const ids = a.name ? [a.name] : await listLabIds();
    const states = a.name ? [await resolveLab(a.name)] : (await Promise.all(ids.map(readState))).filter((s): s is LabState => Boolean(s));
    const list = await Promise.all(states.map(labStatus));
    if (a.json) printJson(list);
    else if (list.length === 0) process.stdout.write('no lab is up (start one with `hadiag lab up`)\n');
    else process.stdout.write(list.map(renderStatus).join('\n'));
    process.exitCode = list.length > 0 && list.every((s) => s.healthy) ? EXIT_HEALTHY : EXIT_PROBLEM;
  },
};

interface ExecArgs { host: string; name?: string; '--'?: string[]; cmd?: string[] }

const exec: CommandModule<object, ExecArgs> = {
  command: 'exec <host> [cmd..]',
  describe: 'run a command on a lab host (its namespace; heartbeat nodes also their own hostname and /etc/ha.d)',
  builder: (y) =>
    (y as Argv<object>)
      .parserConfiguration({ 'populate--': true, 'unknown-options-as-args': true })
      .positional('host', { type: 'string', demandOption: true, describe: 'server1, server2, client, client2, …' })
      .positional('cmd', { type: 'string', array: true, describe: 'the command (after --)' })
      .option('name', nameOpt)
      .example('hadiag lab exec client -- ip neigh', "the client's neighbour table")
      .example('hadiag lab exec server1 -- cl_status hbstatus', "ask server1's heartbeat") as unknown as Argv<ExecArgs>,
  handler: async (a) => {
    const cmd = [...(a.cmd ?? []), ...(a['--'] ?? [])].map(String);
    if (cmd.length === 0) throw usageError('no command given', 'hadiag lab exec HOST -- CMD', 'put the command after --, e.g. hadiag lab exec client -- ip neigh');
    const lab = await resolveLab(a.name);
    const argv = hostCommand(lab, a.host, cmd);
    const { spawn } = await import('node:child_process');
    const code = await new Promise<number>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
      child.on('error', () => resolve(127));
      child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    process.exitCode = code;
  },
};

interface FaultArgs { kind: string; host?: string; name?: string; json: boolean }

const fault: CommandModule<object, FaultArgs> = {
  command: 'fault <kind> [host]',
  describe: 'inject a fault; prints the epoch time it took effect',
  builder: (y) =>
    y
      .positional('kind', { type: 'string', demandOption: true, describe: FAULTS.map((f) => f.usage.split(' ')[0]).join(' | ') })
      .positional('host', { type: 'string', describe: 'default: the VIP holder (link-up: the host whose link went down last)' })
      .option('name', nameOpt)
      .option('json', jsonOpt)
      .example('hadiag lab fault link-down', "the VIP holder's interface goes down (ifdown eth0)")
      .example('hadiag lab fault primary-link-down', "server1's interface goes down")
      .example('hadiag lab fault loss=30 client', "30 % loss each way on the client's bridge port")
      .epilogue(FAULTS.map((f) => `  ${f.usage.padEnd(20)} ${f.summary}`).join('\n') + '\n\nExit 0 when applied. --json prints {kind, host?, atMs, detail} (atMs: epoch ms).'),
  handler: async (a) => {
    const spec = parseFault(a.kind);
    const lab = await resolveLab(a.name);
    const r = await applyFault(lab, spec, a.host);
    if (a.json) printJson(r);
    else process.stdout.write(`${r.kind}${r.host ? ' ' + r.host : ''} at ${epochS(r.atMs)} (epoch s): ${r.detail}\n`);
    process.exitCode = EXIT_HEALTHY;
  },
};

interface DownArgs { name?: string; all?: boolean; json: boolean }

const down: CommandModule<object, DownArgs> = {
  command: 'down',
  describe: 'tear a lab down (processes, namespaces, links, state dir); --all removes every hadiag lab leftover',
  builder: (y) =>
    y
      .option('name', nameOpt)
      .option('all', { type: 'boolean', describe: 'every lab state dir and every namespace named hadiag-* (with the processes inside), nothing else' })
      .option('json', jsonOpt)
      .conflicts('name', 'all')
      .example('hadiag lab down', 'the only lab')
      .example('hadiag lab down --all', 'everything any hadiag lab left behind')
      .epilogue('Exit 0 when removed. --json prints {labs: [id], namespaces: [name], links?: [name]}.'),
  handler: async (a) => {
    requireRoot('hadiag lab down');
    if (a.all) {
      const r = await destroyAllLabs();
      if (a.json) printJson(r);
      else process.stdout.write(`removed ${r.labs.length} lab(s), ${r.namespaces.length} namespace(s)${r.links.length ? `, ${r.links.length} stray link(s)` : ''}\n`);
    } else {
      const id = a.name ?? (await resolveLab(undefined)).id;
      const r = await destroyLab(id);
      if (a.json) printJson({ labs: [id], namespaces: r.namespaces });
      else process.stdout.write(`lab ${id} removed (${r.namespaces.length} namespaces)\n`);
    }
    process.exitCode = EXIT_HEALTHY;
  },
};

const profiles: CommandModule<object, { json: boolean }> = {
  command: 'profiles',
  describe: 'list client profiles, faults and managers, one line each',
  builder: (y) => y.option('json', jsonOpt).epilogue('--json prints {profiles: [{name, family: 4, summary}], profiles6: [{name, family: 6, summary}], faults: [{usage, summary}], managers: [{name, summary}]}.'),
  handler: (a) => {
    const doc = {
      profiles: PROFILES.map((p) => ({ name: p.name, family: 4, summary: p.summary })),
      profiles6: PROFILES6.map((p) => ({ name: p.name, family: 6, summary: p.summary })),
      faults: FAULTS,
      managers: MANAGERS.map((m) => ({ name: m.name, summary: m.summary })),
    };
    if (a.json) return printJson(doc);
    const lines = ['client profiles (--client-profile), IPv4:', ...doc.profiles.map((p) => `  ${p.name.padEnd(20)} ${p.summary}`), '', 'IPv6 (--family 6; on a dual-stack lab join one of each with +, e.g. garp-filtered+drop-unsolicited-na):', ...doc.profiles6.map((p) => `  ${p.name.padEnd(20)} ${p.summary}`), '', 'faults (hadiag lab fault KIND [HOST]):'];
    lines.push(...doc.faults.map((f) => `  ${f.usage.padEnd(18)} ${f.summary}`), '', 'managers (--manager):', ...doc.managers.map((m) => `  ${m.name.padEnd(18)} ${m.summary}`));
    process.stdout.write(lines.join('\n') + '\n');
  },
};

interface DemoArgs { manager: string[]; timers: string; 'client-profile'?: string[]; 'client-neigh'?: string[]; 'max-wait': number; json: boolean }

const demo: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: "the field report in one command: real cluster, server1's link down, each client's outage side by side",
  builder: (y) =>
    y
      .option('manager', { type: 'string', array: true, default: ['heartbeat', 'hadiag'], describe: 'HA managers to compare (repeat), one lab per manager and profile' })
      .option('timers', { type: 'string', default: 'classic', describe: 'cluster timers' })
      .option('client-profile', { type: 'string', array: true, describe: 'profiles to compare, one lab each (default: garp-filtered linux-default)' })
      .option('client-neigh', { type: 'string', array: true, describe: 'neighbour setting on every client, KEY=VALUE (default: the real defaults)' })
      .option('max-wait', { type: 'number', default: 90, describe: 'seconds to wait for every client to recover' })
      .option('json', jsonOpt)
      .example('hadiag lab demo', 'real Heartbeat vs hadiag run-node, classic timers: GARP-filtering client vs default client')
      .example('hadiag lab demo --manager keepalived --client-profile tuned --client-profile garp-filtered', 'other comparisons')
      .epilogue('Exit 0 when every client recovered, 1 when one did not within --max-wait.\n--json prints {managers, manager, timers, timerSummary, fault, rows: [{lab, manager, client, profile, outageMs, recovered, faultAtMs, lastReplyMs?, firstReplyMs?}]}.'),
  handler: async (a) => {
    requireRoot('hadiag lab demo');
    const spin = spinner('building the labs');
    const given = asList(a['client-profile']);
    try {
      const r = await runDemo({
        managers: asList(a.manager),
        timers: a.timers,
        ...(given.length ? { profiles: given } : {}),
        ...(neighFrom(a['client-neigh']) ? { neigh: neighFrom(a['client-neigh']) } : {}),
        maxWaitMs: a['max-wait'] * 1000,
        onProgress: (t) => {
          if (spin) spin.text = t;
          else if (!a.json) process.stderr.write(`hadiag: ${t}\n`);
        },
      });
      spin?.stop();
      if (a.json) printJson(r);
      else process.stdout.write(renderDemo(r));
      process.exitCode = r.rows.every((x) => x.recovered) ? EXIT_HEALTHY : EXIT_PROBLEM;
    } catch (err) {
      spin?.fail('demo failed; the labs were removed');
      throw err;
    }
  },
};

export const labCommand: CommandModule<object, object> = {
  command: 'lab <command>',
  describe: "a network-namespace lab of the field report's cluster: real HA managers, client behaviours, faults",
  builder: (y) =>
    y
      .command(up)
      .command(status)
      .command(exec)
      .command(fault)
      .command(down)
      .command(profiles)
      .command(demo)
      .demandCommand(1, 'name a lab command: up, status, exec, fault, down, profiles, demo')
      .example('hadiag lab up --manager heartbeat --client-profile garp-filtered', 'build and start')
      .example('hadiag lab fault primary-link-down', "server1's eth0 goes down")
      .example('hadiag lab down', 'remove it') as Argv<object>,
  handler: () => {},
};

