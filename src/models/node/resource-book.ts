/**
 * Which resource groups this node holds and which are in transition: jobs that acquire groups (in order) or
 * release them (in reverse order), each finishing with a continuation once every group of it is done.
 */
import { logAction } from './report.js';
import { RSC_FOREIGN, RSC_LOCAL, type Action, type MachineEvent, type MachineGroup } from './types.js';

export type ResourceDone = Extract<MachineEvent, { type: 'resource-done' }>;
export type Continuation = (now: number) => Action[];

interface Job {
  remaining: number;
  then: Continuation;
}

export class ResourceBook {
  /** group -> when it was acquired (ms) */
  private readonly holding = new Map<number, number>();
  private readonly pending = new Set<number>();
  private readonly jobs = new Map<number, Job>();
  private nextJob = 1;

  constructor(
    private readonly node: string,
    readonly groups: readonly MachineGroup[],
  ) {}

  /** The groups of a resource set (RSC_LOCAL: ours by haresources, RSC_FOREIGN: the others'). */
  groupsOf(bits: number): number[] {
    const out: number[] = [];
    this.groups.forEach((g, i) => {
      const local = g.node === this.node;
      if ((local && bits & RSC_LOCAL) || (!local && bits & RSC_FOREIGN)) out.push(i);
    });
    return out;
  }

  holds(group: number): boolean {
    return this.holding.has(group);
  }

  isPending(group: number): boolean {
    return this.pending.has(group);
  }

  /** Groups held right now (acquired and not released). */
  held(): number[] {
    return [...this.holding.keys()].sort((a, b) => a - b);
  }

  /** When the earliest of these groups was acquired (undefined when none is held). */
  heldSince(groups: number[]): number | undefined {
    const ts = groups.map((g) => this.holding.get(g)).filter((x): x is number => x !== undefined);
    return ts.length ? Math.min(...ts) : undefined;
  }

  busy(): boolean {
    return this.jobs.size > 0;
  }

  /** Start a job acquiring (in order) or releasing (in reverse order) groups; `then` runs when all are done. */
  job(op: 'acquire' | 'release', groups: number[], reason: string, then: Continuation, now: number): Action[] {
    const list = op === 'acquire'
      ? groups.filter((g) => !this.holding.has(g) && !this.pending.has(g))
      : groups.filter((g) => this.holding.has(g) || this.pending.has(g)).reverse();
    if (list.length === 0) return then(now);
    const id = this.nextJob++;
    this.jobs.set(id, { remaining: list.length, then });
    const out: Action[] = [];
    for (const g of list) {
      this.pending.add(g);
      out.push({ type: op, group: g, job: id, reason });
    }
    return out;
  }

  /** A resource action finished: book it, log it, and run its job's continuation when it was the last. */
  done(ev: ResourceDone, now: number): Action[] {
    const out: Action[] = [];
    this.pending.delete(ev.group);
    const label = this.groups[ev.group]?.label ?? `#${ev.group}`;
    const dur = ev.durationMs !== undefined ? ` in ${ev.durationMs.toFixed(1)} ms` : '';
    const detail = `${dur}${ev.detail ? `: ${ev.detail}` : ''}`;
    const data = { group: ev.group, durationMs: ev.durationMs };
    if (ev.op === 'acquire') {
      if (ev.ok) this.holding.set(ev.group, now);
      out.push(logAction(ev.ok ? 'info' : 'error', ev.ok ? 'acquired' : 'acquire-failed', `${ev.ok ? 'acquired' : 'FAILED to acquire'} ${label}${detail}`, data));
    } else {
      this.holding.delete(ev.group);
      out.push(logAction(ev.ok ? 'info' : 'error', ev.ok ? 'released' : 'release-failed', `${ev.ok ? 'released' : 'FAILED to release'} ${label}${detail}`, data));
    }
    const job = this.jobs.get(ev.job);
    if (job && --job.remaining <= 0) {
      this.jobs.delete(ev.job);
      out.push(...job.then(now));
    }
    return out;
  }
}
