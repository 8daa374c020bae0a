import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envError } from '../../cli/errors.js';
import { alive, sleep } from '../../io/netns.js';
import type { LabHost, LabState, ManagerRun } from '../types.js';
import type { TimerSpec } from '../timers.js';
import type { Manager, ManagerTimers, StopHow } from './types.js';
import { signalManager, spawnDetached } from './common.js';
import { heartbeatSettings } from './heartbeat.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** How to start the node daemon: the compiled one when built (small RSS), else the TypeScript source via tsx. */
export function nodeDaemonArgv(): string[] {
  const built = join(ROOT, 'dist/node/main.js');
  if (existsSync(built) && import.meta.url.includes('/dist/')) return [process.execPath, built];
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const src = join(ROOT, 'src/node/main.ts');
  if (existsSync(src)) return [process.execPath, '--import', tsx, src];
  return [process.execPath, built];
}

function netmask(prefixLen: number): string {
  const n = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

/** The same ha.cf/authkeys/haresources as the heartbeat row (same timers), read by `hadiag run-node`. */
export function hadiagHaCf(lab: LabState, host: LabHost, s: ReturnType<typeof heartbeatSettings>): string {
  return [
    `# written by hadiag lab ${lab.id} for hadiag run-node (timers ${lab.timers.text})`,
    `logfile ${join(host.dir, 'ha-log')}`,
    `keepalive ${s.keepalive}`,
    `deadtime ${s.deadtime}`,
    `warntime ${s.warntime}`,
    `initdead ${s.initdead}`,
    'udpport 694',
    `bcast ${host.ifname}`,
    'auto_failback on',
    'node server1',
    'node server2',
    '',
  ].join('\n');
}

export const hadiag: Manager = {
  name: 'hadiag',
  summary: 'hadiag run-node (this project’s Heartbeat-compatible node), same ha.cf/haresources as the heartbeat row',

  describeTimers(spec: TimerSpec): ManagerTimers {
    const s = heartbeatSettings(spec);
    return {
      summary: `keepalive ${s.keepalive}, deadtime ${s.deadtime}, warntime ${s.warntime}, initdead ${s.initdead} (ha.cf; bare = s)`,
      settings: s,
      startupTimeoutMs: Math.max(spec.deadtimeMs * 2, 10_000) + 15_000,
    };
  },

  async start(lab: LabState, host: LabHost): Promise<ManagerRun> {
    const s = heartbeatSettings(lab.timers);
    const haD = join(host.dir, 'ha.d');
    const state = join(host.dir, 'hadiag-state');
    await mkdir(haD, { recursive: true });
    await mkdir(state, { recursive: true });
    await writeFile(join(haD, 'ha.cf'), hadiagHaCf(lab, host, s));
    await writeFile(join(haD, 'authkeys'), 'auth 2\n2 sha1 pass\n', { mode: 0o600 });
    await chmod(join(haD, 'authkeys'), 0o600);
    await writeFile(join(haD, 'haresources'), `server1 IPaddr::${lab.vip}/${netmask(lab.prefixLen)}/${host.ifname}\n`);
    const out = join(host.dir, 'hadiag-node.out');
    const argv = [...nodeDaemonArgv(), '--config-dir', haD, '--node', host.name, '--state-dir', state, '--capture', '--capture-dir', join(host.dir, 'captures')];
    const pid = spawnDetached(host.netns, argv, out);
    await sleep(300);
    if (!alive(pid)) throw envError(`hadiag run-node exited at once on ${host.name}`, out, 'read the log');
    return { pid, logs: [join(host.dir, 'ha-log'), out], configDir: haD };
  },

  stop(_lab: LabState, host: LabHost, how: StopHow): Promise<number[]> {
    return signalManager(host, how);
  },
};
