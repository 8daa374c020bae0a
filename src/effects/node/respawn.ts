/**
 * Running ha.cf's `respawn USER COMMAND` programs (not the built-in ipfail): each started with the node as
 * USER (its uid, gid and HOME), stdin/stdout/stderr on /dev/null and in a process group of its own, as
 * Heartbeat's start_a_child_client does, with Heartbeat's environment (models/node/respawn.ts), and restarted
 * by RespawnPolicy's rules. At shutdown each gets SIGTERM (its process group).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { configError, envError } from '../../core/errors.js';
import { nowMs } from '../../core/clock.js';
import { run } from '../io/exec.js';
import type { HaCf, RespawnEntry } from '../../models/config/hacf.js';
import { RespawnPolicy, respawnEnvironment } from '../../models/node/respawn.js';

type Log = (level: 'info' | 'warn' | 'error', event: string, text: string, data?: Record<string, unknown>) => void;

interface User {
  uid: number;
  gid: number;
  home: string;
}

/** USER's uid, gid and home from the passwd database (getent), or a one-line error naming the ha.cf line. */
export async function lookupUser(name: string, where: string): Promise<User> {
  const r = await run(['getent', 'passwd', name]);
  const f = r.stdout.trim().split(':');
  if (r.code !== 0 || f.length < 7) throw envError(`respawn user "${name}" does not exist`, where, `create the user or name another one (Heartbeat refuses this too)`);
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
}

class Client {
  private child: ChildProcess | undefined;
  private startedMs = 0;
  private stopping = false;
  private readonly policy: RespawnPolicy;

  constructor(
    readonly entry: RespawnEntry,
    private readonly user: User,
    private readonly env: Record<string, string>,
    private readonly log: Log,
  ) {
    this.policy = new RespawnPolicy(entry.command);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restarts(): number {
    return this.policy.restarts;
  }

  start(): void {
    if (this.stopping) return;
    const [program, ...args] = this.entry.argv;
    const child = spawn(program!, args, {
      uid: this.user.uid,
      gid: this.user.gid,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: this.user.home, ...this.env },
      stdio: 'ignore',
      detached: true, // setpgid(0,0), as Heartbeat
    });
    this.child = child;
    this.startedMs = nowMs();
    child.on('error', (err) => this.log('error', 'respawn', `cannot run "${this.entry.command}" as ${this.entry.user}: ${err.message}`, { command: this.entry.command }));
    child.on('exit', (code, signal) => this.exited(child, code, signal));
    if (child.pid) this.log('info', 'respawn', `Starting "${this.entry.command}" as uid ${this.user.uid}  gid ${this.user.gid} (pid ${child.pid})`, { pid: child.pid, command: this.entry.command });
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = undefined;
    const d = this.policy.exited(code, signal, this.startedMs, nowMs(), this.stopping);
    for (const l of d.log) this.log(l.level, 'respawn', l.text, { command: this.entry.command, code, signal });
    if (d.restart) setTimeout(() => this.start(), d.delayMs).unref();
  }

  stop(): void {
    this.stopping = true;
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
}

/** Every non-built-in respawn line of ha.cf, started and kept running. */
export class RespawnClients {
  private constructor(private readonly clients: Client[]) {}

  /** Look up each user and check each program (a config error naming the ha.cf line); nothing runs yet. */
  static async prepare(hacf: HaCf, node: string, hacfPath: string, log: Log): Promise<RespawnClients> {
    const env = respawnEnvironment(hacf, node);
    const clients: Client[] = [];
    for (const e of hacf.respawn.filter((r) => !r.builtin)) {
      const where = `${hacfPath}:${e.line}`;
      const user = await lookupUser(e.user, where);
      await access(e.argv[0]!, constants.X_OK).catch(() => {
        throw configError(`respawn command ${e.argv[0]} is not executable`, where, 'install it or fix the path (Heartbeat refuses this too)');
      });
      clients.push(new Client(e, user, env, log));
    }
    return new RespawnClients(clients);
  }

  start(): void {
    for (const c of this.clients) c.start();
  }

  status(): { command: string; user: string; pid: number | null; restarts: number }[] {
    return this.clients.map((c) => ({ command: c.entry.command, user: c.entry.user, pid: c.pid ?? null, restarts: c.restarts }));
  }

  stop(): void {
    for (const c of this.clients) c.stop();
  }
}
