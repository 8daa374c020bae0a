/**
 * The node's log: one line per event with a ms timestamp, to stderr (text) or stdout (--json, JSON lines),
 * appended to ha.cf's `logfile` when there is one (and every line, debug ones included, to its `debugfile`, as
 * Heartbeat writes its debug file), and sent to syslog when ha.cf has a `logfacility` other
 * than `none` (through one `logger` child, see syslog-pipe.ts; HADIAG_SYSLOG_TARGET redirects it for tests,
 * see syslog.ts).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { facilityCode, parseSyslogTarget, SYSLOG_TARGET_ENV, type SyslogTarget } from './syslog.js';
import { SyslogPipe } from './syslog-pipe.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  tsMs: number;
  level: Level;
  event: string;
  text: string;
  data?: Record<string, unknown>;
}

export class NodeLog {
  private file: WriteStream | undefined;
  private debugFile: WriteStream | undefined;
  private syslog: SyslogPipe | undefined;
  constructor(
    private readonly opts: {
      node: string;
      json: boolean;
      debug: boolean;
      logfile?: string;
      /** ha.cf `debugfile`: every line, debug ones included */
      debugfile?: string;
      quiet?: boolean;
      /** ha.cf `logfacility` (daemon, local0 … local7, …); absent or `none`: no syslog */
      logfacility?: string;
      /** where logger sends; default from HADIAG_SYSLOG_TARGET, else /dev/log */
      syslogTarget?: SyslogTarget;
    },
  ) {
    const facility = facilityCode(opts.logfacility);
    if (facility !== undefined) {
      const target = opts.syslogTarget ?? parseSyslogTarget(process.env[SYSLOG_TARGET_ENV]);
      this.syslog = new SyslogPipe({ facility, facilityName: opts.logfacility!, node: opts.node, target });
    }
    if (opts.logfile) {
      this.file = createWriteStream(opts.logfile, { flags: 'a' });
      this.file.on('error', (err) => {
        process.stderr.write(`hadiag: cannot write logfile ${opts.logfile}: ${err.message}\n`);
        this.file = undefined;
      });
    }
    if (opts.debugfile && opts.debugfile !== opts.logfile) {
      this.debugFile = createWriteStream(opts.debugfile, { flags: 'a' });
      this.debugFile.on('error', (err) => {
        process.stderr.write(`hadiag: cannot write debugfile ${opts.debugfile}: ${err.message}\n`);
        this.debugFile = undefined;
      });
    }
  }

  write(r: LogRecord): void {
    const text = `${new Date(r.tsMs).toISOString()} hadiag[${process.pid}] ${this.opts.node}: ${r.level.toUpperCase()}: ${r.event}: ${r.text}`;
    this.debugFile?.write(text + '\n');
    if (r.level === 'debug' && !this.opts.debug) return;
    if (this.opts.json) {
      const line: Record<string, unknown> = { tsMs: Math.round(r.tsMs * 1000) / 1000, node: this.opts.node, level: r.level, event: r.event, text: r.text };
      for (const [k, v] of Object.entries(r.data ?? {})) if (!(k in line)) line[k] = v; // data never overrides the line's own fields
      process.stdout.write(JSON.stringify(line) + '\n');
    } else if (!this.opts.quiet) process.stderr.write(text + '\n');
    this.file?.write(text + '\n');
    this.syslog?.write(r);
  }

  /** pid of the syslog `logger` child while it runs (tests) */
  get syslogPid(): number | undefined {
    return this.syslog?.pid;
  }

  async close(): Promise<void> {
    const f = this.file;
    const d = this.debugFile;
    this.file = undefined;
    this.debugFile = undefined;
    const s = this.syslog;
    this.syslog = undefined;
    const end = (w: WriteStream | undefined) => new Promise<void>((res) => (w ? w.end(res) : res()));
    await Promise.all([end(f), end(d), s?.close()]);
  }
}
