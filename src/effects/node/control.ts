/**
 * The node's control socket (a unix socket in its state directory): one JSON request per connection
 * (`{"cmd": "status" | "standby" | "takeover"}`), one JSON answer. `hadiag node` is its client.
 */
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { envError } from '../../core/errors.js';

export const CONTROL_SOCKET = 'control.sock';
/** a request longer than this is not a control request */
const MAX_REQUEST = 4096;

export const controlPath = (stateDir: string): string => join(stateDir, CONTROL_SOCKET);

/** Refuse to start when another node answers on this state directory's socket; remove a stale one. */
export async function claimControlSocket(stateDir: string): Promise<void> {
  const path = controlPath(stateDir);
  const inUse = await new Promise<boolean>((res) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      res(true);
    });
    c.once('error', () => res(false));
  });
  if (inUse) throw envError('a hadiag node is already running with this state directory', path, 'stop it first, or give another --state-dir');
  await rm(path, { force: true });
}

/** Serve control requests; `answer` maps a command to its JSON answer. */
export async function serveControl(stateDir: string, answer: (cmd: string) => unknown): Promise<net.Server> {
  const server = net.createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('data', (d: string) => {
      buf += d;
      if (buf.length > MAX_REQUEST) conn.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let reply: unknown;
      try {
        const req = JSON.parse(buf.slice(0, nl)) as { cmd?: string };
        reply = answer(req.cmd ?? '');
      } catch (err) {
        reply = { ok: false, error: (err as Error).message };
      }
      conn.end(JSON.stringify(reply) + '\n');
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(controlPath(stateDir), () => res());
  });
  return server;
}

/** Ask a running node over its control socket. */
export function controlRequest(stateDir: string, cmd: string, timeoutMs = 3000): Promise<{ ok: boolean; status?: Record<string, unknown>; error?: string }> {
  const path = controlPath(stateDir);
  return new Promise((res, rej) => {
    const c = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      rej(envError('the node did not answer', path, 'is it hung? look at its log'));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(JSON.stringify({ cmd }) + '\n'));
    c.on('data', (d: string) => (buf += d));
    c.on('end', () => {
      clearTimeout(timer);
      try {
        res(JSON.parse(buf));
      } catch {
        rej(envError('bad answer from the node', path, 'is it a hadiag node?'));
      }
    });
    c.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      rej(envError('no hadiag node is running here', `${path} (${err.code})`, 'start one with `hadiag run-node`, or give its --state-dir'));
    });
  });
}
