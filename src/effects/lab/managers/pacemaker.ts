/**
 * The `pacemaker` lab row: Debian's Pacemaker 2.1.5 on Corosync 3.1.7 (knet), two nodes, one
 * ocf:heartbeat:IPaddr2 VIP at the agent's default announcement settings (docs/facts/pacemaker-facts.md).
 *
 * Each node is a shell in its own UTS + mount namespace (besides the server's network namespace) that stays
 * for the node's life: it mounts the node's private /dev/shm (libqb ring buffers), /var/lib/pacemaker,
 * /var/lib/corosync, /var/log, /etc/corosync and /run, starts corosync, waits for it, runs pacemakerd and,
 * when pacemakerd ends, stops corosync. Every CLI enters all three namespaces through that shell's PID
 * (`nsenter -t PID -m -n -u`): libqb's sockets are per network namespace, its ring buffers per mount namespace.
 * The CIB is written before the start (with dc-deadtime) so that a lab settles in seconds.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { envError, usageError } from '../../../core/errors.js';
import { run, type ExecResult } from '../../io/exec.js';
import { alive } from '../../io/netns.js';
import { sleep } from '../../../core/clock.js';
import { writeCorosyncConf, type CorosyncTotemTimers } from '../../../models/config/corosync-writer.js';
import { writeCib } from '../../../models/config/cib-writer.js';
import { labVips, servers, type LabFamily, type LabHost, type LabState, type ManagerRun } from '../types.js';
import type { TimerSpec } from '../timers.js';
import type { Manager, ManagerTimers, StopHow } from './types.js';
import { readPidFile, secondsText, signalManager, spawnDetached } from './common.js';

/** Corosync's consensus default: 1.2 × token (it refuses less). */
const CONSENSUS_RATIO = 1.2;
export const VIP_RESOURCE = 'vip';
/** How long the controller waits for its peer before electing itself coordinator (Pacemaker's default: 20 s). */
export const DC_DEADTIME = '2s';

export interface PacemakerTimers {
  tokenMs: number;
  consensusMs: number;
  /** knet's link heartbeat, when KEEPALIVE/DEADTIME set it (presets leave Corosync's default: token / 4) */
  knetPingIntervalMs?: number;
  knetPingTimeoutMs?: number;
}

/**
 * classic = Corosync's defaults (token 3000, consensus 3600), fast = token 1000 (consensus 1200);
 * KEEPALIVE/DEADTIME: token + consensus = DEADTIME with consensus = 1.2 × token (rounded down to whole ms,
 * consensus takes the rest), knet pings every KEEPALIVE and declares the link dead after 2 × KEEPALIVE.
 */
export function pacemakerTimers(spec: TimerSpec): PacemakerTimers {
  if (spec.preset === 'classic') return { tokenMs: 3000, consensusMs: 3600 };
  if (spec.preset === 'fast') return { tokenMs: 1000, consensusMs: 1200 };
  const k = spec.keepaliveMs;
  const d = spec.deadtimeMs;
  if (!Number.isInteger(k) || !Number.isInteger(d)) throw usageError(`Corosync cannot express ${spec.text}`, '--timers', 'its timers are whole milliseconds');
  const tokenMs = Math.floor(d / (1 + CONSENSUS_RATIO));
  const consensusMs = d - tokenMs;
  if (2 * k > tokenMs) {
    throw usageError(
      `Corosync cannot express keepalive ${secondsText(k)} with deadtime ${secondsText(d)}`,
      '--timers',
      `deadtime = token + consensus (1.2 × token) gives token ${secondsText(tokenMs)}; knet must declare a link dead (2 × keepalive) within it: use keepalive ≤ ${secondsText(Math.floor(tokenMs / 2))}, or classic / fast`,
    );
  }
  return { tokenMs, consensusMs, knetPingIntervalMs: k, knetPingTimeoutMs: 2 * k };
}

function totemTimers(t: PacemakerTimers): CorosyncTotemTimers {
  return { tokenMs: t.tokenMs, consensusMs: t.consensusMs, ...(t.knetPingIntervalMs ? { knetPingIntervalMs: t.knetPingIntervalMs, knetPingTimeoutMs: t.knetPingTimeoutMs } : {}) };
}

const nodeId = (host: LabHost): number => Number(/(\d+)$/.exec(host.name)?.[1] ?? 0);

export function labCorosyncConf(lab: LabState): string {
  return writeCorosyncConf({
    comment: [`written by hadiag lab ${lab.id} (timers ${lab.timers.text})`],
    clusterName: `hadiag-${lab.id}`,
    nodes: servers(lab).map((h) => ({ name: h.name, nodeid: nodeId(h), ring0Addr: h.address })),
    timers: totemTimers(pacemakerTimers(lab.timers)),
    twoNode: true,
    logfile: '/var/log/corosync/corosync.log',
  });
}

/** The lab's CIB: no fencing, quorum ignored, short dc-deadtime, IPaddr2 at its defaults, server1 preferred. */
export function labCib(lab: LabState): string {
  const nic = servers(lab)[0]!.ifname;
  return writeCib({
    properties: { 'stonith-enabled': 'false', 'no-quorum-policy': 'ignore', 'dc-deadtime': DC_DEADTIME, 'cluster-name': `hadiag-${lab.id}` },
    nodes: servers(lab).map((h) => ({ id: nodeId(h), uname: h.name })),
    vip: { id: VIP_RESOURCE, ip: lab.vip, cidrNetmask: labVips(lab)[0]!.prefixLen, nic, monitorMs: 10_000, prefers: { node: 'server1', score: 100 } },
  });
}

/** The node's shell: private mounts, corosync, pacemakerd; corosync stopped when pacemakerd ends. */
export function nodeScript(host: LabHost): string {
  const d = host.dir;
  const lib = '/var/lib/pacemaker';
  return [
    'set -e',
    `hostname ${host.name}`,
    'mount -t tmpfs -o mode=1777 tmpfs /dev/shm',
    `mount -t tmpfs -o mode=0750 tmpfs ${lib}`,
    `mkdir ${lib}/cib ${lib}/pengine ${lib}/blackbox ${lib}/cores`,
    `cp ${d}/cib.xml ${lib}/cib/cib.xml`,
    `chmod 600 ${lib}/cib/cib.xml`,
    `chmod 750 ${lib}/cib ${lib}/pengine ${lib}/blackbox ${lib}/cores`,
    `chown -R hacluster:haclient ${lib}`,
    'mount -t tmpfs -o mode=0755 tmpfs /var/lib/corosync',
    `mount --bind ${d}/log /var/log`,
    `mount --bind ${d}/corosync /etc/corosync`,
    // last: the lab directory lives under the host's /run
    `mount --bind ${d}/run /run`,
    'corosync -f & c=$!',
    'echo $c > /run/corosync.pid',
    'i=0; until corosync-cfgtool -s >/dev/null 2>&1; do i=$((i+1)); if [ $i -gt 200 ]; then echo "corosync did not answer" >&2; kill $c; exit 1; fi; sleep 0.05; done',
    'PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none pacemakerd & p=$!',
    'echo $p > /run/pacemakerd.pid',
    'set +e',
    'wait $p',
    'kill -TERM $c',
    'wait $c',
  ].join('\n');
}

async function prepareNodeDir(lab: LabState, host: LabHost): Promise<void> {
  const d = host.dir;
  for (const sub of ['log/corosync', 'log/pacemaker', 'corosync', 'run/crm', 'run/resource-agents', 'run/lock']) await mkdir(join(d, sub), { recursive: true });
  await run(['chown', 'hacluster:haclient', join(d, 'log/pacemaker'), join(d, 'run/crm')]);
  await chmod(join(d, 'run/crm'), 0o750);
  await writeFile(join(d, 'corosync', 'corosync.conf'), labCorosyncConf(lab));
  await writeFile(join(d, 'cib.xml'), labCib(lab));
}

/** The node shell's PID: every CLI of that node enters its namespaces through it. */
const nodeShellPid = (host: LabHost): number | undefined => (host.manager && alive(host.manager.pid) ? host.manager.pid : undefined);

/** Run a Pacemaker/Corosync CLI (crm_mon, cibadmin, crm_resource, corosync-cfgtool …) on a lab node. */
export async function nodeCli(host: LabHost, argv: string[], timeoutMs = 10_000): Promise<ExecResult> {
  const pid = nodeShellPid(host);
  if (!pid) throw envError(`Pacemaker is not running on ${host.name}`, host.dir, 'see hadiag lab status');
  return run(['nsenter', '-t', String(pid), '-m', '-n', '-u', '--', ...argv], { timeoutMs });
}

export const pacemaker: Manager = {
  name: 'pacemaker',
  summary: "Debian's Pacemaker 2.1.5 + Corosync 3.1.7 (knet, two_node), one IPaddr2 VIP at its defaults, no fencing",

  describeTimers(spec: TimerSpec): ManagerTimers {
    const t = pacemakerTimers(spec);
    const knet = t.knetPingIntervalMs ? `, knet ping ${secondsText(t.knetPingIntervalMs)} / timeout ${secondsText(t.knetPingTimeoutMs!)}` : '';
    return {
      summary: `token ${secondsText(t.tokenMs)}, consensus ${secondsText(t.consensusMs)}${knet} (corosync.conf); membership lost ≈ token + consensus = ${secondsText(t.tokenMs + t.consensusMs)}`,
      settings: { token: t.tokenMs, consensus: t.consensusMs, ...(t.knetPingIntervalMs ? { knet_ping_interval: t.knetPingIntervalMs, knet_ping_timeout: t.knetPingTimeoutMs! } : {}), 'dc-deadtime': DC_DEADTIME },
      startupTimeoutMs: 2 * (t.tokenMs + t.consensusMs) + 45_000,
    };
  },

  checkVips(families: readonly LabFamily[], count: number): void {
    if (families.length > 1 || count > 1) {
      throw usageError(`the pacemaker row carries one VIP (one IPaddr2 primitive): ${families.length > 1 ? '--family 4 --family 6' : `--vips ${count}`}`, families.length > 1 ? '--family' : '--vips', 'use one --family and --vips 1 with --manager pacemaker, or --manager heartbeat, keepalived or hadiag for several VIPs');
    }
  },

  async start(lab: LabState, host: LabHost): Promise<ManagerRun> {
    await prepareNodeDir(lab, host);
    const out = join(host.dir, 'node.out');
    const pid = spawnDetached(host.netns, ['unshare', '--uts', '--mount', '--propagation', 'private', 'sh', '-c', nodeScript(host)], out);
    const pidFile = join(host.dir, 'run', 'pacemakerd.pid');
    const deadline = Date.now() + 15_000;
    while (!(readPidFile(pidFile) && alive(readPidFile(pidFile)!))) {
      if (!alive(pid) || Date.now() > deadline) throw envError(`Pacemaker did not start on ${host.name}`, out, `read ${out} and ${join(host.dir, 'log')}`);
      await sleep(50);
    }
    return {
      pid,
      pidFile,
      logs: [join(host.dir, 'log/pacemaker/pacemaker.log'), join(host.dir, 'log/corosync/corosync.log'), out],
      configDir: join(host.dir, 'corosync'),
      enter: 'uts+mount',
    };
  },

  /** 'term': SIGTERM pacemakerd (it stops IPaddr2, then the node's shell stops corosync); 'kill': the whole node. */
  stop(_lab: LabState, host: LabHost, how: StopHow): Promise<number[]> {
    return signalManager(host, how);
  },
};
