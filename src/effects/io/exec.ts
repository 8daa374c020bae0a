import { spawn, type SpawnOptions } from 'node:child_process';
import { envError } from '../../core/errors.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program (no shell) and collect its output. Never rejects for a non-zero exit: look at `code`. */
export function run(argv: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const { input, timeoutMs, ...spawnOpts } = opts;
    const child = spawn(argv[0]!, argv.slice(1), { ...spawnOpts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (err.code === 'ENOENT') reject(envError(`${argv[0]} not found`, 'PATH', `install it (npm run setup installs every tool hadiag uses)`));
      else reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

/** Run a program and return stdout; a non-zero exit becomes an environment error quoting its stderr. */
export async function runOk(argv: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n')[0] ?? '';
    throw envError(`\`${argv.join(' ')}\` failed (exit ${r.code})`, why || 'no output', 'see the message; is the tool installed and are you root?');
  }
  return r.stdout;
}

/** `ip -json ...` parsed. */
export async function ipJson<T = unknown>(args: string[], netns?: string): Promise<T> {
  const argv = netns ? ['ip', '-n', netns, '-json', ...args] : ['ip', '-json', ...args];
  const out = await runOk(argv);
  return (out.trim() ? JSON.parse(out) : []) as T;
}
