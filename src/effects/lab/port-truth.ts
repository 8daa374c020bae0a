/**
 * The independent truth of an outage: a tcpdump on the client's bridge port (in the lab's bridge namespace),
 * read back with tcpdump's own decoder, so nothing of hadiag's capture or analysis is in the measurement.
 * Used by the integration tests and the measure-accuracy benchmark.
 */
import { spawn } from 'node:child_process';
import { run } from '../io/exec.js';

/** A tcpdump on `iface` in `netns` writing `file` (ICMP and ARP unless `filter`), resolved once it listens; stop it by PID. */
export async function startPortCapture(netns: string, iface: string, file: string, filter = 'icmp or arp'): Promise<{ pid: number }> {
  const td = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', iface, '-U', '-n', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    td.stderr!.on('data', (d) => {
      err += d;
      if (/listening on/.test(err)) resolve();
    });
    td.once('close', () => reject(new Error(`truth tcpdump exited: ${err}`)));
  });
  return { pid: td.pid! };
}

export interface PortTruth {
  startTsMs: number;
  endTsMs: number;
  durationMs: number;
  firstLostSeq: number;
  firstOkSeq: number;
}

/**
 * The outages as the client's bridge port saw them (tcpdump's text output, kernel timestamps): from the first
 * echo request without a reply to the first reply after at least 3 unanswered sequence numbers.
 */
export async function outagesFromPortCapture(file: string, clientIp: string, vip: string): Promise<PortTruth[]> {
  const r = await run(['tcpdump', '-tt', '-n', '-r', file, 'icmp']);
  const req = new Map<number, number>();
  const rep = new Map<number, number>();
  let lo = Infinity;
  let hi = -Infinity;
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d+\.\d+) IP (\S+) > (\S+): ICMP echo (request|reply), id \d+, seq (\d+)/.exec(line);
    if (!m) continue;
    const ts = Number(m[1]) * 1000;
    const seq = Number(m[5]);
    if (m[4] === 'request' && m[2] === clientIp && m[3] === vip && !req.has(seq)) {
      req.set(seq, ts);
      lo = Math.min(lo, seq);
      hi = Math.max(hi, seq);
    }
    if (m[4] === 'reply' && m[2] === vip && m[3] === clientIp && !rep.has(seq)) rep.set(seq, ts);
  }
  const out: PortTruth[] = [];
  for (let s = lo; s <= hi; s++) {
    if (rep.has(s) || !req.has(s)) continue;
    let e = s;
    while (e <= hi && !rep.has(e)) e++;
    if (e - s >= 3 && e <= hi) out.push({ startTsMs: req.get(s)!, endTsMs: rep.get(e)!, durationMs: rep.get(e)! - req.get(s)!, firstLostSeq: s, firstOkSeq: e });
    s = e;
  }
  if (out.length === 0) throw new Error(`no outage in the port capture (${req.size} requests, ${rep.size} replies)`);
  return out;
}

/** From the port capture: the first gratuitous ARP for the VIP from `newMac`, and the client's first echo request to it. */
export async function arpOrderFromPortCapture(file: string, vip: string, newMac: string): Promise<{ firstGarp: number; firstToNew: number }> {
  const r = await run(['tcpdump', '-tt', '-n', '-e', '-r', file]);
  let firstGarp = Infinity;
  let firstToNew = Infinity;
  const quoted = vip.replace(/\./g, '\\.');
  const garp = new RegExp(`who-has ${quoted} (\\(\\S+\\) )?tell ${quoted},`);
  for (const line of r.stdout.split('\n')) {
    const ts = Number(line.split(' ')[0]) * 1000;
    if (line.includes(`${newMac} > ff:ff:ff:ff:ff:ff`) && (garp.test(line) || line.includes(`Reply ${vip} is-at ${newMac}`))) firstGarp = Math.min(firstGarp, ts);
    if (line.includes(`> ${newMac}, ethertype IPv4`) && line.includes(`> ${vip}: ICMP echo request`)) firstToNew = Math.min(firstToNew, ts);
  }
  return { firstGarp, firstToNew };
}
