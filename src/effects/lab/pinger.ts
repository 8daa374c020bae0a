import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { nsSpawn, killPid } from '../io/netns.js';
import { onCleanup } from '../io/cleanup.js';
import { longestOutage, type Outage } from '../../models/measure/reply-gaps.js';
import { parsePingLine } from '../../models/measure/ping-lines.js';

/** A client pinging the VIP with `ping -D -O -n -i INTERVAL` inside its namespace (until measure-failover lands). */
export class Pinger {
  readonly replies: number[] = [];
  noAnswers = 0;
  private readonly pid: number;
  private readonly unregister: () => void;
  private exited = false;

  private constructor(netns: string, target: string, intervalS: number) {
    const child = nsSpawn(netns, ['ping', '-D', '-O', '-n', '-i', String(intervalS), target], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.pid = child.pid ?? -1;
    child.on('exit', () => (this.exited = true));
    child.on('error', () => (this.exited = true));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const p = parsePingLine(line);
      if (p?.kind === 'reply') this.replies.push(p.tsMs);
      else if (p) this.noAnswers++;
    });
    this.unregister = onCleanup(`ping in ${netns}`, () => this.stop());
  }

  static start(netns: string, target: string, intervalS = 0.005): Pinger {
    return new Pinger(netns, target, intervalS);
  }

  get running(): boolean {
    return !this.exited;
  }

  outage(fromMs: number): Outage | undefined {
    return longestOutage(this.replies, fromMs, performance.timeOrigin + performance.now());
  }

  /** Has the client had replies again for `steadyMs` after an outage that ended after `fromMs`? */
  recovered(fromMs: number, minOutageMs: number, steadyMs = 500): boolean {
    const o = this.outage(fromMs);
    if (!o || o.ongoing || o.ms < minOutageMs) return false;
    const last = this.replies[this.replies.length - 1]!;
    return last - o.firstReplyMs! >= steadyMs;
  }

  async stop(): Promise<void> {
    this.unregister();
    if (this.pid > 0) await killPid(this.pid, 500);
  }
}
