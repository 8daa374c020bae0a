/**
 * The interface every HA manager of the lab implements (heartbeat, keepalived, ucarp; hadiag's run-node
 * plugs in the same way). A manager is stateless: everything it needs later is in the LabState /
 * LabHost it wrote at start().
 *
 * To add one: write src/lab/managers/<name>.ts exporting a `Manager`, add it to MANAGERS in index.ts.
 */
import type { LabFamily, LabHost, LabState, ManagerRun } from '../types.js';
import type { TimerSpec } from '../timers.js';

export interface ManagerTimers {
  /** one line for `lab status` / docs, e.g. "keepalive 1 s, deadtime 5 s, initdead 10 s" */
  summary: string;
  /** the manager's own settings, written into its configuration */
  settings: Record<string, string | number>;
  /** how long `lab up` waits for the VIP to appear after the daemons started */
  startupTimeoutMs: number;
}

export type StopHow = 'term' | 'kill';

export interface Manager {
  readonly name: string;
  /** one line for `lab profiles` / help */
  readonly summary: string;
  /** Map the lab's timer setting to this manager's own. Throw a usageError when it cannot be expressed. */
  describeTimers(spec: TimerSpec): ManagerTimers;
  /**
   * Write the host's configuration under host.dir and start the daemon inside the host's namespace(s).
   * Must return once the daemon is started (not once it holds the VIP). Logs go under host.dir.
   */
  start(lab: LabState, host: LabHost): Promise<ManagerRun>;
  /**
   * 'term': send SIGTERM to the main process (graceful stop; returns at once).
   * 'kill': SIGKILL every process of the manager on that host. Returns the PIDs signalled.
   */
  stop(lab: LabState, host: LabHost, how: StopHow): Promise<number[]>;
  /**
   * Optional: refuse (usageError) VIP families or a VIP count this manager cannot carry. Without it the manager
   * takes every family and any count.
   */
  checkVips?(families: readonly LabFamily[], count: number): void;
  /** Optional: which servers hold the VIP, if not simply "the VIP is on the server's interface". */
  vipHolders?(lab: LabState): Promise<string[]>;
}
