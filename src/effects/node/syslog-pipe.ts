/**
 * The node's syslog output: ONE long-running `logger` (util-linux) child reading `<PRI>`-prefixed lines on
 * its stdin (Node has no unix datagram sockets). Syslog never breaks the node: logger missing, failing or
 * dying gives one warning line on stderr and the node goes on without syslog. The child and its pipes are
 * unref'd (they never keep the node alive) and logger exits by itself at end of stdin, so nothing is left
 * behind even if close() is never reached.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Level } from './log.js';
import { formatSyslogLine, loggerArgs, SYSLOG_TAG, type SyslogTarget } from './syslog.js';

/** lines waiting in the pipe beyond this are dropped (a stuck syslog must not eat the node's memory) */
const MAX_PENDING_BYTES = 256 * 1024;

export interface SyslogPipeOptions {
  facility: number;
  /** the ha.cf value, for messages */
  facilityName: string;
  node: string;
  target: SyslogTarget;
  /** program to run (tests); default `logger` from PATH */
  command?: string;
}

export class SyslogPipe {
  private child: ChildProcess | undefined;
  private running = false;
  private closing = false;
  private stderrText = '';
  private stderrTimer: NodeJS.Timeout | undefined;
  private warnedStderr = false;
  private dropped = 0;
  private readonly exited: Promise<void>;

  constructor(private readonly o: SyslogPipeOptions) {
    let done!: () => void;
    this.exited = new Promise<void>((r) => (done = r));
    const child = spawn(o.command ?? 'logger', loggerArgs({ tag: SYSLOG_TAG, pid: process.pid, target: o.target }), {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.child = child;
    this.running = true;
    child.on('error', (err) => {
      // spawn failure (ENOENT, EACCES): no 'close' follows when there never was a process
      if (!this.running) return;
      this.running = false;
      this.warn(`cannot run ${o.command ?? 'logger'}: ${err.message}`, 'install util-linux (logger) or remove logfacility from ha.cf');
      if (child.pid === undefined) done();
    });
    child.on('close', (code, signal) => {
      const wasRunning = this.running;
      this.running = false;
      if (this.stderrTimer) clearTimeout(this.stderrTimer);
      if (wasRunning && !this.closing) {
        const said = lastLine(this.stderrText);
        this.warn(`logger exited (${code !== null ? `code ${code}` : `signal ${signal}`})${said ? `: ${said}` : ''}`, this.fixHint());
      }
      done();
    });
    const stdin = child.stdin as Socket | null;
    stdin?.on('error', () => {
      /* EPIPE when logger is gone: reported by 'close' */
    });
    const stderr = child.stderr as Socket | null;
    stderr?.setEncoding('utf8');
    stderr?.on('data', (d: string) => {
      if (this.stderrText.length < 4096) this.stderrText += d;
      // a complaint while logger keeps running (e.g. "send message failed"): one warning, after a moment
      // so that a logger about to exit is reported once, by 'close'
      if (!this.warnedStderr && !this.stderrTimer) {
        this.stderrTimer = setTimeout(() => {
          this.stderrTimer = undefined;
          if (!this.running || this.closing || this.warnedStderr) return;
          this.warnedStderr = true;
          process.stderr.write(`hadiag: warning: syslog (logfacility ${o.facilityName}): ${lastLine(this.stderrText)} (further logger messages not shown)\n`);
        }, 300);
        this.stderrTimer.unref();
      }
    });
    child.unref();
    stdin?.unref();
    stderr?.unref();
  }

  /** pid of the logger child while it runs (tests) */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  write(r: { level: Level; event: string; text: string }): void {
    const stdin = this.child?.stdin;
    if (!this.running || this.closing || !stdin || !stdin.writable) return;
    if (stdin.writableLength > MAX_PENDING_BYTES) {
      if (this.dropped++ === 0) process.stderr.write(`hadiag: warning: syslog (logfacility ${this.o.facilityName}): logger is not keeping up; dropping syslog lines (stderr/logfile still complete)\n`);
      return;
    }
    stdin.write(formatSyslogLine(this.o.facility, r, this.o.node));
  }

  /** End logger's stdin and wait (at most ~timeoutMs, then SIGTERM/SIGKILL) for it to exit. */
  async close(timeoutMs = 1_000): Promise<void> {
    if (this.closing) return this.exited;
    this.closing = true;
    const child = this.child;
    if (!child || child.pid === undefined) return;
    if (this.running) child.stdin?.end();
    if (await this.waitExit(timeoutMs)) return;
    child.kill('SIGTERM');
    if (await this.waitExit(500)) return;
    child.kill('SIGKILL');
    await this.waitExit(500);
  }

  private async waitExit(ms: number): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
    const ok = await Promise.race([this.exited.then(() => true), timedOut]);
    clearTimeout(t);
    return ok;
  }

  private fixHint(): string {
    const t = this.o.target;
    if (t.kind === 'default') return 'check that a syslog daemon (rsyslog, journald) listens on /dev/log, or set logfacility none';
    if (t.kind === 'unix') return `check the socket ${t.path}`;
    return `check the syslog receiver on ${t.host}:${t.port}`;
  }

  private warn(what: string, fix: string): void {
    process.stderr.write(`hadiag: warning: syslog (logfacility ${this.o.facilityName}) off: ${what} — ${fix}; log lines still go to stderr/logfile\n`);
  }
}

function lastLine(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '';
}
