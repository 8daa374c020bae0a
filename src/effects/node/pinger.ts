/**
 * The ping nodes' echoes: one long-lived iputils `ping -n -i KEEPALIVE HOST` per host (Node has no raw ICMP
 * socket; the kernel sends and matches the echoes, as Heartbeat's ping plugin has it send one per keepalive).
 * Each reply line becomes a `ping-reply` event for the machine, which alone decides when a ping node is dead
 * (models/node/ping-nodes.ts). A ping that exits (it should not) is started again after a second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** `64 bytes from 198.18.0.254: icmp_seq=1 ttl=64 time=0.05 ms` */
const REPLY = /^\d+ bytes from (\d+\.\d+\.\d+\.\d+): icmp_seq=/;
const RESTART_MS = 1000;

export interface PingerOptions {
  hosts: string[];
  intervalMs: number;
  onReply: (host: string) => void;
  log: (level: 'info' | 'warn', event: string, text: string, data?: Record<string, unknown>) => void;
}

export class Pinger {
  private readonly children = new Map<string, ChildProcess>();
  private closed = false;
  /** echo replies seen, per host */
  readonly replies = new Map<string, number>();

  constructor(private readonly o: PingerOptions) {}

  start(): void {
    for (const h of new Set(this.o.hosts)) this.startOne(h);
  }

  /** pids of the ping children (status, tests) */
  pids(): number[] {
    return [...this.children.values()].map((c) => c.pid ?? 0).filter(Boolean);
  }

  close(): void {
    this.closed = true;
    for (const c of this.children.values()) c.kill('SIGTERM');
    this.children.clear();
  }

  private startOne(host: string): void {
    if (this.closed) return;
    // -i below 0.2 s needs root (run-node is root); -n: no DNS
    const interval = Math.max(this.o.intervalMs, 10) / 1000;
    const child = spawn('ping', ['-n', '-i', String(interval), host], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.set(host, child);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = REPLY.exec(line);
      if (!m || m[1] !== host) return;
      this.replies.set(host, (this.replies.get(host) ?? 0) + 1);
      this.o.onReply(host);
    });
    let lastErr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (lastErr = d.trim().split('\n').pop() ?? lastErr));
    child.on('error', (err) => this.o.log('warn', 'pinger', `cannot run ping for ${host}: ${err.message}`, { host }));
    child.on('exit', (code, signal) => {
      if (this.children.get(host) === child) this.children.delete(host);
      if (this.closed) return;
      this.o.log('warn', 'pinger', `ping ${host} exited (${signal ?? `exit ${code}`}${lastErr ? `: ${lastErr}` : ''}): starting it again in ${RESTART_MS} ms`, { host });
      setTimeout(() => this.startOne(host), RESTART_MS).unref();
    });
  }
}
