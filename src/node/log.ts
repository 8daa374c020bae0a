/**
 * The node's log: one line per event with a ms timestamp, to stderr (text) or stdout (--json, JSON lines),
 * and appended to ha.cf's `logfile` when there is one.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

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
  constructor(
    private readonly opts: { node: string; json: boolean; debug: boolean; logfile?: string; quiet?: boolean },
  ) {
    if (opts.logfile) {
      this.file = createWriteStream(opts.logfile, { flags: 'a' });
      this.file.on('error', (err) => {
        process.stderr.write(`hadiag: cannot write logfile ${opts.logfile}: ${err.message}\n`);
        this.file = undefined;
      });
    }
  }

  write(r: LogRecord): void {
    if (r.level === 'debug' && !this.opts.debug) return;
    const text = `${new Date(r.tsMs).toISOString()} hadiag[${process.pid}] ${this.opts.node}: ${r.level.toUpperCase()}: ${r.event}: ${r.text}`;
    if (this.opts.json) {
      process.stdout.write(JSON.stringify({ tsMs: Math.round(r.tsMs * 1000) / 1000, node: this.opts.node, level: r.level, event: r.event, text: r.text, ...(r.data ?? {}) }) + '\n');
    } else if (!this.opts.quiet) process.stderr.write(text + '\n');
    this.file?.write(text + '\n');
  }

  close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    return new Promise((res) => (f ? f.end(res) : res()));
  }
}
