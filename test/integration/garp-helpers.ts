/** Shared by the garp-check tests: a long-running frame sender in a namespace, a watching garp-check, a condition wait. */
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { killPid, nsSpawn, type Host } from '../../src/effects/io/netns.js';
import { sleep } from '../../src/core/clock.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A long-running sender in the host's namespace: one hex frame per stdin line, sent through the packet layer. */
export function startSender(h: Host): { send(frame: Buffer): Promise<void>; stop(): Promise<void> } {
  const code = `
    const { openCapture } = await import(${JSON.stringify(ROOT + 'src/effects/io/capture.ts')});
    const c = openCapture(${JSON.stringify(h.ifname)}, 'less 1', () => {});
    console.log('ready');
    let buf = '';
    process.stdin.setEncoding('utf8').on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\\n')) >= 0) { const hex = buf.slice(0, nl); buf = buf.slice(nl + 1); c.send(Buffer.from(hex, 'hex')); console.log('sent'); }
    });
    process.stdin.on('end', () => c.close());`;
  const child = nsSpawn(h.netns, ['node', '--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let sentCount = 0;
  return {
    async send(frame: Buffer) {
      await until(() => out.includes('ready'), 30_000, 'sender ready');
      child.stdin!.write(frame.toString('hex') + '\n');
      sentCount++;
      await until(() => (out.match(/sent/g) ?? []).length >= sentCount, 5000, 'frame sent');
    },
    async stop() {
      child.stdin!.end();
      if (child.pid) await killPid(child.pid, 2000);
    },
  };
}

export interface Watcher {
  host: Host;
  child: ChildProcess;
  /** its JSON lines so far */
  lines: Record<string, unknown>[];
  stderr: string;
  exit: Promise<number | null>;
}

/** Run `argv` (a `garp-check … --json`) in the host's namespace, collecting its JSON lines as they come. */
export function startWatcher(h: Host, argv: string[]): Watcher {
  const child = nsSpawn(h.netns, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const w: Watcher = { host: h, child, lines: [], stderr: '', exit: new Promise((r) => child.on('close', (code) => r(code))) };
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) w.lines.push(JSON.parse(line));
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (w.stderr += d));
  return w;
}
