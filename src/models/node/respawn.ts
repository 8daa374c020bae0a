/**
 * `respawn USER COMMAND` as Heartbeat 3.0.6 runs it (heartbeat.c, ManagedChildDied / start_a_child_client): a
 * program started with the node and restarted whenever it exits — unless it exits with code 100 or the node is
 * stopping. A run shorter than 30 s counts as a fast restart (any longer one resets the count); after more than
 * 10 fast restarts in a row it is not restarted ("respawning too fast"). A restart after a fast one waits 1 s.
 * Pure: the daemon (effects/node/respawn.ts) feeds exits with their time and does what this returns.
 */
import type { HaCf } from '../config/hacf.js';

/** Heartbeat's constants: a run shorter than this is a fast restart; more than MAX fast restarts stop it. */
export const RESPAWN_SHORT_RUN_MS = 30_000;
export const RESPAWN_MAX_FAST = 10;
/** Heartbeat's child sleeps 1 s before exec when its last run was short */
export const RESPAWN_FAST_DELAY_MS = 1000;
/** the exit code that means "do not restart me" */
export const RESPAWN_NO_RESTART_CODE = 100;

export interface RespawnDecision {
  restart: boolean;
  /** wait this long before starting it again */
  delayMs: number;
  /** Heartbeat's log lines for the exit and the decision */
  log: { level: 'info' | 'warn' | 'error'; text: string }[];
}

export class RespawnPolicy {
  private fastCount = 0;
  restarts = 0;

  constructor(readonly command: string) {}

  /** The program exited (code, or killed by signal) after running since `startedMs`. */
  exited(code: number | null, signal: string | null, startedMs: number, now: number, stopping: boolean): RespawnDecision {
    const log: RespawnDecision['log'] = [];
    if (code !== null && code !== 0) log.push({ level: stopping ? 'info' : 'error', text: `Client ${this.command} exited with return code ${code}.` });
    if (signal) log.push({ level: stopping ? 'info' : 'error', text: `Client ${this.command} killed by signal ${signal}.` });
    if (code === 0 && !signal) log.push({ level: 'info', text: `Client ${this.command} exited with return code 0.` });
    if (stopping || code === RESPAWN_NO_RESTART_CODE) {
      if (code === RESPAWN_NO_RESTART_CODE && !stopping) log.push({ level: 'info', text: `Client ${this.command} asked not to be restarted (exit ${RESPAWN_NO_RESTART_CODE}).` });
      return { restart: false, delayMs: 0, log };
    }
    this.fastCount = now - startedMs < RESPAWN_SHORT_RUN_MS ? this.fastCount + 1 : 0;
    if (this.fastCount > RESPAWN_MAX_FAST) {
      this.fastCount = 0;
      log.push({ level: 'error', text: `Client ${this.command} "respawning too fast"` });
      return { restart: false, delayMs: 0, log };
    }
    this.restarts++;
    log.push({ level: 'error', text: `Respawning client "${this.command}":` });
    return { restart: true, delayMs: this.fastCount > 0 ? RESPAWN_FAST_DELAY_MS : 0, log };
  }
}

const haTime = (ms: number): string => `${ms}ms`;

/**
 * The environment Heartbeat gives its respawned clients: every ha.cf parameter as HA_<directive> (its
 * SetParameterValue; times in ms as Heartbeat records its defaults), HA_CURHOST, the logging variables its
 * shell functions read (HA_LOGFILE, HA_DEBUGLOG, HA_LOGFACILITY, HA_debug), then ha.cf's `env` lines.
 */
export function respawnEnvironment(hacf: HaCf, node: string): Record<string, string> {
  const env: Record<string, string> = {
    HA_keepalive: haTime(hacf.keepaliveMs),
    HA_deadtime: haTime(hacf.deadtimeMs),
    HA_warntime: haTime(hacf.warntimeMs),
    HA_initdead: haTime(hacf.initdeadMs),
    HA_deadping: haTime(hacf.deadpingMs),
    HA_udpport: String(hacf.udpport),
    HA_auto_failback: hacf.autoFailback,
    HA_debug: '0',
    HA_CURHOST: node,
  };
  if (hacf.logfile) env.HA_logfile = env.HA_LOGFILE = hacf.logfile;
  if (hacf.debugfile) env.HA_debugfile = env.HA_DEBUGLOG = hacf.debugfile;
  if (hacf.logfacility) env.HA_logfacility = env.HA_LOGFACILITY = hacf.logfacility;
  if (hacf.useLogd !== undefined) env.HA_use_logd = env.HA_LOGD = hacf.useLogd ? 'yes' : 'no';
  return { ...env, ...hacf.env };
}
