import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../io/exec.js';
import { envError } from '../../../core/errors.js';
import type { LabHost, LabState, ManagerRun } from '../types.js';
import type { TimerSpec } from '../timers.js';
import type { Manager, ManagerTimers, StopHow } from './types.js';
import { signalManager, spawnDetached, waitForPidFile } from './common.js';
import { haCfTimersMs, haCfTimerTexts, writeLabHaD } from './ha-d.js';

export const HEARTBEAT_BIN = '/usr/libexec/heartbeat/heartbeat';

/** Heartbeat's settings for a timer spec, as ha.cf writes them (classic = the field report's keepalive 1 / deadtime 5). */
export function heartbeatSettings(spec: TimerSpec): { keepalive: string; deadtime: string; warntime: string; initdead: string } {
  return haCfTimerTexts(haCfTimersMs(spec));
}

/** The timers of an ha.cf-driven node (Heartbeat, hadiag run-node): the same file for both rows. */
export function haCfTimers(spec: TimerSpec): ManagerTimers {
  const s = heartbeatSettings(spec);
  return {
    summary: `keepalive ${s.keepalive}, deadtime ${s.deadtime}, warntime ${s.warntime}, initdead ${s.initdead} (ha.cf; bare = s)`,
    settings: s,
    // initdead, then resource acquisition (IPaddr scripts take a few seconds)
    startupTimeoutMs: Math.max(spec.deadtimeMs * 2, 10_000) + 30_000,
  };
}

export const heartbeat: Manager = {
  name: 'heartbeat',
  summary: "Debian's heartbeat 3.0.6 (haresources mode), each node in its own UTS + mount namespace",

  describeTimers: haCfTimers,

  async start(lab: LabState, host: LabHost): Promise<ManagerRun> {
    const haD = join(host.dir, 'ha.d');
    const varLib = join(host.dir, 'var-lib-heartbeat');
    const runDir = join(host.dir, 'run');
    await cp('/etc/ha.d', haD, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    await cp('/var/lib/heartbeat', varLib, { recursive: true, verbatimSymlinks: true });
    for (const d of ['heartbeat/ccm', 'heartbeat/crm', 'heartbeat/dopd', 'resource-agents', 'lock/subsys']) await mkdir(join(runDir, d), { recursive: true });
    await run(['chown', '-R', 'hacluster:haclient', join(runDir, 'heartbeat'), join(varLib, 'ccm'), join(varLib, 'crm'), join(varLib, 'pengine')]);
    await writeLabHaD(haD, lab, host, {
      comment: `written by hadiag lab ${lab.id}: the field report's ha.cf with the lab's interface and timers (${lab.timers.text})`,
      // the node's own /run is <host dir>/run (bind mount), so this file is <host dir>/run/ha-log
      logging: { logfile: '/run/ha-log', logfacility: 'none', useLogd: false },
      crmNo: true,
    });
    const script = [
      'set -e',
      `hostname ${host.name}`,
      `mount --bind ${haD} /etc/ha.d`,
      `mount --bind ${varLib} /var/lib/heartbeat`,
      `mount --bind ${runDir} /run`,
      `exec ${HEARTBEAT_BIN}`,
    ].join('; ');
    const out = join(host.dir, 'heartbeat.out');
    spawnDetached(host.netns, ['unshare', '--uts', '--mount', '--propagation', 'private', 'sh', '-c', script], out);
    const pidFile = join(runDir, 'heartbeat.pid');
    const pid = await waitForPidFile(pidFile, 10_000);
    const haLog = join(runDir, 'ha-log');
    if (!pid) throw envError(`heartbeat did not start on ${host.name}`, out, `read ${haLog} and ${out}`);
    return { pid, pidFile, logs: [haLog, out], configDir: haD, enter: 'uts+mount' };
  },

  stop(_lab: LabState, host: LabHost, how: StopHow): Promise<number[]> {
    return signalManager(host, how);
  },
};
