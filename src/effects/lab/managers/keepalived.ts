import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usageError, envError } from '../../../core/errors.js';
import { alive } from '../../io/netns.js';
import { sleep } from '../../../core/clock.js';
import { labFamilies, labVips, type LabFamily, type LabHost, type LabState, type LabVip, type ManagerRun } from '../types.js';
import type { TimerSpec } from '../timers.js';
import type { Manager, ManagerTimers, StopHow } from './types.js';
import { secondsText, signalManager, spawnDetached } from './common.js';

const PRIORITY: Record<string, number> = { server1: 150, server2: 100 };

/** VRRP: master-down interval = 3 × advert_int + skew, skew = (256 − priority) / 256 × advert_int. */
export function keepalivedSettings(spec: TimerSpec): { advert_int: number; vrrp_version: 2 | 3; masterDownMs: number } {
  const advMs = spec.keepaliveMs;
  if (advMs % 10 !== 0) throw usageError(`keepalived cannot send adverts every ${spec.keepaliveMs} ms`, '--timers', 'VRRPv3 counts in centiseconds: use a multiple of 10ms');
  const masterDownMs = 3 * advMs + ((256 - PRIORITY.server2!) / 256) * advMs;
  if (!spec.preset) {
    // deadtime is not a VRRP setting: accept it only when it is what VRRP derives anyway.
    if (Math.abs(spec.deadtimeMs - masterDownMs) > advMs) {
      throw usageError(
        `keepalived cannot express deadtime ${secondsText(spec.deadtimeMs)} with keepalive ${secondsText(advMs)}`,
        '--timers',
        `VRRP's master-down time is 3 × advert_int + skew = ${secondsText(masterDownMs)} here: write ${advMs}ms/${Math.round(3 * advMs)}ms, or use classic / fast`,
      );
    }
  }
  return { advert_int: advMs / 1000, vrrp_version: advMs % 1000 === 0 ? 2 : 3, masterDownMs };
}

/** VRRP instances' virtual router ids: one per family (RFC 5798 keeps IPv4 and IPv6 VRIDs apart; distinct here for clarity). */
const VRID: Record<LabFamily, number> = { 4: 20, 6: 21 };
/** addresses per advert; the rest go to virtual_ipaddress_excluded (keepalived's advice for large numbers) */
const ADVERTISED_MAX = 20;

/**
 * One vrrp_instance per family (all addresses of a virtual_ipaddress block must be one family; an IPv6
 * instance runs VRRPv3 from the link-local address), in one vrrp_sync_group when there are two, so they
 * move together.
 */
export function keepalivedConf(lab: LabState, host: LabHost, s: ReturnType<typeof keepalivedSettings>): string {
  const families = labFamilies(lab);
  const line = (v: LabVip) => (v.family === 4 ? `${v.address}/${v.prefixLen} brd ${lab.broadcast} dev ${host.ifname}` : `${v.address}/${v.prefixLen} dev ${host.ifname}`);
  const instance = (f: LabFamily) => {
    const vips = labVips(lab, f);
    const excluded = vips.slice(ADVERTISED_MAX);
    return `vrrp_instance VI_${f} {
  state BACKUP
  interface ${host.ifname}
  virtual_router_id ${VRID[f]}
  priority ${PRIORITY[host.name] ?? 50}
  advert_int ${s.advert_int}
  virtual_ipaddress {
${vips.slice(0, ADVERTISED_MAX).map((v) => `    ${line(v)}`).join('\n')}
  }
${excluded.length ? `  virtual_ipaddress_excluded {\n${excluded.map((v) => `    ${line(v)}`).join('\n')}\n  }\n` : ''}}
`;
  };
  const sync = families.length > 1 ? `vrrp_sync_group VG_1 {\n  group {\n${families.map((f) => `    VI_${f}`).join('\n')}\n  }\n}\n` : '';
  return `# written by hadiag lab ${lab.id} (timers ${lab.timers.text})
global_defs {
  router_id ${host.name}
  vrrp_version ${s.vrrp_version}
}
${sync}${families.map(instance).join('')}`;
}

export const keepalived: Manager = {
  name: 'keepalived',
  summary: "Debian's keepalived 2.2.7, one VRRP instance (server1 priority 150, server2 100, preempt)",

  describeTimers(spec: TimerSpec): ManagerTimers {
    const s = keepalivedSettings(spec);
    return {
      summary: `advert_int ${s.advert_int} (VRRPv${s.vrrp_version}), master down ${secondsText(s.masterDownMs)} = 3 × advert + skew`,
      settings: { advert_int: s.advert_int, vrrp_version: s.vrrp_version, master_down_ms: Math.round(s.masterDownMs) },
      startupTimeoutMs: s.masterDownMs * 2 + 15_000,
    };
  },

  async start(lab: LabState, host: LabHost): Promise<ManagerRun> {
    const s = keepalivedSettings(lab.timers);
    const conf = join(host.dir, 'keepalived.conf');
    await writeFile(conf, keepalivedConf(lab, host, s));
    const log = join(host.dir, 'keepalived.log');
    const pidFile = join(host.dir, 'keepalived.pid');
    const pid = spawnDetached(
      host.netns,
      ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--no-syslog', '--vrrp', '-f', conf, '-p', pidFile, '-r', join(host.dir, 'vrrp.pid')],
      log,
    );
    await sleep(200);
    if (!alive(pid)) throw envError(`keepalived exited at once on ${host.name}`, log, 'read the log');
    return { pid, pidFile, logs: [log], configDir: host.dir };
  },

  stop(_lab: LabState, host: LabHost, how: StopHow): Promise<number[]> {
    return signalManager(host, how);
  },
};
