/**
 * The `hadiag` lab row: `hadiag run-node` on both servers with the same ha.cf/authkeys/haresources as the
 * heartbeat row (same timers). `lab.garp` (lab up --garp, compare-garp's strategy rows) chooses the
 * announcement strategy; without it the node's default is used.
 *
 * `vmac` strategies: each server gets a macvlan `vmac0` on its lab interface with the strategy's virtual MAC,
 * IPv6 off on it (a standby must never send from the shared MAC), arp_announce=2 (the base interface never
 * resolves a client with sender IP = VIP, which would rewrite the client's entry to the base MAC) and
 * arp_ignore=1 on the base interface; haresources puts the VIP on vmac0.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { envError } from '../../../core/errors.js';
import { ipJson } from '../../io/exec.js';
import { alive, nsRunOk } from '../../io/netns.js';
import { sleep } from '../../../core/clock.js';
import { moduleArgv } from '../../../core/module-argv.js';
import { parseStrategy } from '../../../models/strategy/language.js';
import { usesVmac, vmacOf } from '../../../models/strategy/forms.js';
import { labVips, servers, vipsHeld, type LabHost, type LabState, type ManagerRun } from '../types.js';
import type { Manager, StopHow } from './types.js';
import { signalManager, spawnDetached } from './common.js';
import { haCfTimers } from './heartbeat.js';
import { writeLabHaD } from './ha-d.js';

export const VMAC_IFACE = 'vmac0';

/** The commands (argv, run inside the server's namespace) that give it a macvlan with the virtual MAC. */
export function vmacCommands(baseIface: string, mac: string, name = VMAC_IFACE): string[][] {
  return [
    ['ip', 'link', 'add', 'link', baseIface, 'name', name, 'address', mac, 'type', 'macvlan', 'mode', 'bridge'],
    ['sysctl', '-q', '-w', `net.ipv6.conf.${name}.disable_ipv6=1`],
    ['sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_announce=2'],
    ['sysctl', '-q', '-w', `net.ipv4.conf.${baseIface}.arp_announce=2`],
    ['sysctl', '-q', '-w', `net.ipv4.conf.${baseIface}.arp_ignore=1`],
    ['ip', 'link', 'set', name, 'up'],
  ];
}

export const hadiag: Manager = {
  name: 'hadiag',
  summary: 'hadiag run-node (this project’s Heartbeat-compatible node), same ha.cf/haresources as the heartbeat row',

  describeTimers: haCfTimers,

  async start(lab: LabState, host: LabHost): Promise<ManagerRun> {
    const haD = join(host.dir, 'ha.d');
    const state = join(host.dir, 'hadiag-state');
    await mkdir(state, { recursive: true });
    let nic = host.ifname;
    if (lab.garp) {
      const strategy = parseStrategy(lab.garp, '--garp');
      if (usesVmac(strategy)) {
        for (const argv of vmacCommands(host.ifname, vmacOf(strategy))) await nsRunOk(host.netns, argv);
        nic = VMAC_IFACE;
      }
    }
    await writeLabHaD(haD, lab, host, {
      comment: `written by hadiag lab ${lab.id} for hadiag run-node (timers ${lab.timers.text}${lab.garp ? `, --garp ${lab.garp}` : ''})`,
      logging: { logfile: join(host.dir, 'ha-log') },
      vipNic: nic,
    });
    const out = join(host.dir, 'hadiag-node.out');
    const argv = [...moduleArgv('effects/node/main'), '--config-dir', haD, '--node', host.name, '--state-dir', state, '--capture', '--capture-dir', join(host.dir, 'captures')];
    if (lab.garp) argv.push('--garp', lab.garp);
    const pid = spawnDetached(host.netns, argv, out);
    await sleep(300);
    if (!alive(pid)) throw envError(`hadiag run-node exited at once on ${host.name}`, out, 'read the log');
    return { pid, logs: [join(host.dir, 'ha-log'), out], configDir: haD };
  },

  stop(_lab: LabState, host: LabHost, how: StopHow): Promise<number[]> {
    return signalManager(host, how);
  },

  /** The VIP may live on vmac0: look at every interface; a holder's lab interface must be up. */
  async vipHolders(lab: LabState): Promise<string[]> {
    const out: string[] = [];
    const vips = labVips(lab).map((v) => v.address);
    for (const h of servers(lab)) {
      let links: { ifname: string; flags?: string[]; addr_info?: { family: string; local: string }[] }[] = [];
      try {
        links = await ipJson(['addr', 'show'], h.netns);
      } catch {
        continue;
      }
      const base = links.find((l) => l.ifname === h.ifname);
      if (!base?.flags?.includes('UP')) continue;
      const up = links.filter((l) => l.flags?.includes('UP')).flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
      if (vipsHeld(up, vips) === vips.length) out.push(h.name);
    }
    return out;
  },
};
