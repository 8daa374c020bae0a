/**
 * The daemon's side of the GARP helper (garp-helper.ts): an Announcer that forwards to the helper process,
 * starts it with the node (handles opened before any takeover) and restarts it when it dies (e.g. cap
 * aborting on an interface that went down), retrying every second while it cannot start.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Announcer, AnnounceReport } from './announce.js';
import type { Client } from '../packet/strategy.js';

/** What the GARP helper process is started with (sent to it as JSON). */
export interface HelperConfig {
  spec: string;
  ifaces: string[];
  confirm: boolean;
  captureDir: string;
  node: string;
  vips: string[];
}

export interface HelperOptions extends HelperConfig {
  onReport: (r: AnnounceReport, final: boolean) => void;
  onEvent: (level: 'info' | 'warn' | 'error', event: string, text: string, data?: Record<string, unknown>) => void;
  /** the clients the helper has learned (sent when they change) */
  onClients?: (clients: Client[]) => void;
}

/** nice value of the node and its GARP sender */
export const NODE_PRIORITY = -10;

const HELPER = fileURLToPath(new URL(`./garp-helper${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export class HelperAnnouncer implements Announcer {
  private child?: ChildProcess;
  private ready = false;
  private closed = false;
  private restarts = 0;
  private lastError = '';
  private pending: { vip: string; iface: string; addedAtMs: number }[] = [];
  private retry?: NodeJS.Timeout;

  constructor(private readonly o: HelperOptions) {
    if (o.ifaces.length) this.start();
  }

  /** Resolves once the helper has its handles open (or failed to). */
  whenReady(timeoutMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((res) => {
      const check = () => {
        if (this.ready || !this.o.ifaces.length) return res(true);
        if (Date.now() > deadline || this.closed) return res(false);
        setTimeout(check, 20);
      };
      check();
    });
  }

  private start(): void {
    if (this.closed) return;
    const cfg = { spec: this.o.spec, ifaces: this.o.ifaces, confirm: this.o.confirm, captureDir: this.o.captureDir, node: this.o.node, vips: this.o.vips };
    const child = fork(HELPER, [JSON.stringify(cfg)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    // like the node itself (Heartbeat runs at realtime priority): announcements must not wait for a busy CPU
    try {
      if (child.pid) setPriority(child.pid, NODE_PRIORITY);
    } catch {
      /* not root: normal priority */
    }
    child.on('message', (m: { type: string; report?: AnnounceReport; final?: boolean; text?: string; level?: 'info' | 'warn' | 'error'; event?: string; data?: Record<string, unknown>; clients?: Client[] }) => {
      if (m.type === 'log' && m.event) return this.o.onEvent(m.level ?? 'info', m.event, m.text ?? '', m.data);
      if (m.type === 'clients' && Array.isArray(m.clients)) return this.o.onClients?.(m.clients);
      if (m.type === 'ready') {
        this.ready = true;
        if (this.restarts) this.o.onEvent('info', 'garp-helper', `GARP sender restarted (capture handles open again)`);
        this.lastError = '';
        for (const p of this.pending.splice(0)) this.announce(p.vip, p.iface, p.addedAtMs);
      } else if (m.type === 'report' && m.report) this.o.onReport(m.report, !!m.final);
      else if (m.type === 'error' && m.text && m.text !== this.lastError) {
        this.lastError = m.text;
        this.o.onEvent('warn', 'garp-helper', `GARP sender cannot start: ${m.text} (retrying every second)`);
      }
    });
    child.on('error', () => {});
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.ready = false;
      if (this.closed) return;
      if (code !== 2) this.o.onEvent('warn', 'garp-helper', `GARP sender exited (${signal ?? `code ${code}`}; an interface going down aborts libpcap's binding): restarting`);
      this.restarts++;
      this.restartWhenUp(code === 2 ? 1000 : 0);
    });
  }

  /** Restart once every interface is up again (checked cheaply every 100 ms), or after `minMs` at the latest. */
  private restartWhenUp(minMs: number): void {
    const since = Date.now();
    const poll = () => {
      if (this.closed) return;
      const up = this.o.ifaces.every((i) => {
        try {
          return (parseInt(readFileSync(`/sys/class/net/${i}/flags`, 'utf8'), 16) & 1) === 1;
        } catch {
          return false;
        }
      });
      if (up || (minMs && Date.now() - since >= minMs)) this.start();
      else this.retry = setTimeout(poll, 100);
    };
    this.retry = setTimeout(poll, 100);
  }

  announce(vip: string, iface: string, addedAtMs: number): void {
    if (!this.ready || !this.child?.connected) {
      // announced as soon as the helper is back (with the plan's offsets counted from addedAtMs)
      this.pending = this.pending.filter((p) => p.vip !== vip);
      this.pending.push({ vip, iface, addedAtMs });
      return;
    }
    this.child.send({ type: 'announce', vip, iface, addedAtMs });
  }

  cancel(vip: string): void {
    this.pending = this.pending.filter((p) => p.vip !== vip);
    if (this.ready && this.child?.connected) this.child.send({ type: 'cancel', vip });
  }

  /** A peer's clients; dropped while the helper restarts (the peer repeats its list every few seconds). */
  addPeerClients(clients: Client[]): void {
    if (this.ready && this.child?.connected) this.child.send({ type: 'peer-clients', clients });
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.child;
    this.child = undefined;
    if (c?.connected) {
      c.send({ type: 'close' });
      c.disconnect();
    }
    if (c && c.exitCode === null) setTimeout(() => c.kill('SIGTERM'), 500).unref();
  }
}
