/** What run-node will do with the parts of ha.cf a reader could think are ignored: ping nodes, ipfail, respawn. Pure. */
import type { HaCf } from './hacf.js';
import { ipfailGiveupDelayMs } from '../node/ipfail.js';
import { echoIntervalMs } from '../node/ping-nodes.js';

const secs = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** One sentence per item, in ha.cf order, for check-config's "hadiag will" section (empty: nothing to say). */
export function describePlan(hacf: HaCf): string[] {
  const out: string[] = [];
  if (hacf.pingNodes.length) {
    const names = hacf.pingNodes.map((p) => (p.group ? `${p.name} (ping_group: ${p.hosts.join(' ')})` : p.name));
    out.push(
      `ping ${names.join(', ')}: one ICMP echo per host every ${secs(echoIntervalMs(hacf.keepaliveMs, hacf.deadpingMs))} (keepalive, at least ten per deadping); a ping node is dead after deadping ${secs(hacf.deadpingMs)} without a reply${hacf.pingNodes.some((p) => p.group) ? ' (a group while none of its hosts answers)' : ''}; shown in node status and logged as Heartbeat does`,
    );
  }
  const ipfail = hacf.respawn.find((r) => r.builtin === 'ipfail');
  if (ipfail) {
    out.push(
      `ipfail (line ${ipfail.line}): built in, ${ipfail.argv[0]} is not run — when this node sees fewer ping nodes than its peer it hands its resources over ${secs(ipfailGiveupDelayMs(hacf.keepaliveMs, hacf.deadpingMs))} later (ipfail waits 2 × keepalive; hadiag's echoes are closer, so it waits 1.5 echo intervals), and ${hacf.autoFailback === 'on' ? 'takes them back when the counts are equal again (auto_failback on)' : 'keeps them where they are when the counts are equal again (auto_failback off)'}; counts exchanged as ipfail's num_ping_nodes messages`,
    );
  } else if (hacf.pingNodes.length) {
    out.push('no ipfail: the ping nodes are watched and reported, but resources do not move when they die (add respawn hacluster /usr/lib/heartbeat/ipfail for that)');
  }
  for (const r of hacf.respawn.filter((x) => !x.builtin)) {
    out.push(`respawn (line ${r.line}): run "${r.command}" as ${r.user} with Heartbeat's HA_* environment; restarted when it exits unless its exit code is 100; after 10 restarts each within 30 s of its start, not restarted ("respawning too fast")`);
  }
  return out;
}
