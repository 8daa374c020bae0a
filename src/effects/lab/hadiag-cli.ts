/** Run `hadiag ARGS` as its own process from this checkout (compiled or through tsx), inside a lab namespace when given. */
import { moduleArgv, PROJECT_ROOT } from '../../core/module-argv.js';
import { run, type ExecResult } from '../io/exec.js';

export function runHadiag(netns: string | undefined, args: string[], timeoutMs = 60_000, pre: string[] = []): Promise<ExecResult> {
  const [node, ...loader] = moduleArgv('cli/main');
  const entry = loader.pop()!;
  const argv = [node!, ...loader, '--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); await m.main(process.argv.slice(1));`, '--', ...args];
  return run([...(netns ? ['ip', 'netns', 'exec', netns] : []), ...pre, ...argv], { timeoutMs, cwd: PROJECT_ROOT });
}
