import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usageError, envError } from '../../../core/errors.js';
import { alive } from '../../io/netns.js';
import { sleep } from '../../../core/clock.js';
import { labVips, type LabFamily, type LabHost, type LabState, type ManagerRun } from '../types.js';
import type { TimerSpec } from '../timers.js';
import type { Manager, ManagerTimers, StopHow } from './types.js';
import { secondsText, signalManager, spawnDetached } from './common.js';

const ADVSKEW: Record<string, number> = { server1: 0, server2: 100 };
const UCARP_DEFAULT_DEADRATIO = 3;

/** CARP: advbase is whole seconds; a backup takes over after deadratio × advbase (+ skew/256 s). */
export function ucarpSettings(spec: TimerSpec): { advbase: number; deadratio: number; masterDownMs: number } {
  if (spec.keepaliveMs % 1000 !== 0) {
    throw usageError(
      `ucarp cannot send adverts every ${secondsText(spec.keepaliveMs)}`,
      '--timers',
      `ucarp's advbase is whole seconds: use --timers classic or whole-second values such as 1s/3s (or --manager keepalived for sub-second timers)`,
    );
  }
  const advbase = spec.keepaliveMs / 1000;
  let deadratio = UCARP_DEFAULT_DEADRATIO;
  if (!spec.preset) {
    if (spec.deadtimeMs % spec.keepaliveMs !== 0) {
      throw usageError(`ucarp cannot express deadtime ${secondsText(spec.deadtimeMs)} with advbase ${advbase} s`, '--timers', 'deadtime must be a whole multiple of keepalive (deadratio × advbase)');
    }
    deadratio = spec.deadtimeMs / spec.keepaliveMs;
  }
  return { advbase, deadratio, masterDownMs: deadratio * advbase * 1000 + (ADVSKEW.server2! / 256) * 1000 };
}

export const ucarp: Manager = {
  name: 'ucarp',
  summary: "Debian's ucarp 1.5.2 (CARP), up/down scripts add/remove the VIP (server1 advskew 0, server2 100, preempt)",

  describeTimers(spec: TimerSpec): ManagerTimers {
    const s = ucarpSettings(spec);
    return {
      summary: `advbase ${s.advbase} s, deadratio ${s.deadratio}, master down ≈ ${secondsText(s.masterDownMs)}`,
      settings: { advbase: s.advbase, deadratio: s.deadratio, master_down_ms: Math.round(s.masterDownMs) },
      startupTimeoutMs: s.masterDownMs * 2 + 15_000,
    };
  },

  checkVips(families: readonly LabFamily[]): void {
    if (families.includes(6)) throw usageError('ucarp cannot carry an IPv6 VIP: --family 6', '--family', 'ucarp 1.5.2 speaks CARP over IPv4 only (--addr, --srcip are IPv4): use --manager heartbeat, keepalived or hadiag for IPv6, or --family 4');
  },

  async start(lab: LabState, host: LabHost): Promise<ManagerRun> {
    const s = ucarpSettings(lab.timers);
    const up = join(host.dir, 'vip-up.sh');
    const down = join(host.dir, 'vip-down.sh');
    // ucarp calls: script <interface> <vip> [xparam]; with --vips M the scripts move all M (ucarp's own --addr is the first)
    const vips = labVips(lab, 4);
    const script = (verb: string) => (vips.length === 1 ? [`exec ip addr ${verb} "$2"/${lab.prefixLen}${verb === 'add' ? ' brd +' : ''} dev "$1"`] : vips.map((v) => `ip addr ${verb} ${v.address}/${v.prefixLen}${verb === 'add' ? ' brd +' : ''} dev "$1"`));
    await writeFile(up, ['#!/bin/sh', ...script('add'), ''].join('\n'), { mode: 0o755 });
    await writeFile(down, ['#!/bin/sh', ...script('del'), ''].join('\n'), { mode: 0o755 });
    const log = join(host.dir, 'ucarp.log');
    const argv = [
      'ucarp', '--interface', host.ifname, '--srcip', host.address, '--vhid', '20', '--pass', 'hadiag', '--addr', lab.vip,
      '--advbase', String(s.advbase), '--advskew', String(ADVSKEW[host.name] ?? 200), '--deadratio', String(s.deadratio),
      '--upscript', up, '--downscript', down, '--shutdown', '--preempt', '--neutral', '--debug',
    ];
    await writeFile(join(host.dir, 'ucarp.cmd'), argv.join(' ') + '\n');
    const pid = spawnDetached(host.netns, argv, log);
    await sleep(200);
    if (!alive(pid)) throw envError(`ucarp exited at once on ${host.name}`, log, 'read the log');
    return { pid, logs: [log], configDir: host.dir };
  },

  stop(_lab: LabState, host: LabHost, how: StopHow): Promise<number[]> {
    return signalManager(host, how);
  },
};
