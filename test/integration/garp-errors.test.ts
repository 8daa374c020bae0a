/**
 * Bad input to garp-check and the capture layer: each is one line `hadiag: …` with exit 2, never a stack trace,
 * never a crash (a failed cap open must not abort the process when it is garbage-collected).
 */
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Topology, labMac } from '../../src/effects/io/netns.js';
import { run } from '../../src/effects/io/exec.js';
import { sleep } from '../../src/core/clock.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return m;
}
const distFresh = (() => {
  try {
    return statSync(join(ROOT, 'dist/cli/main.js')).mtimeMs > newestMtime(join(ROOT, 'src')) && existsSync(join(ROOT, 'dist/commands/garp-check.js'));
  } catch {
    return false;
  }
})();
const cli = (args: string[]) =>
  distFresh ? ['node', join(ROOT, 'bin/hadiag.js'), ...args] : ['node', '--import', 'tsx', '-e', `import(${JSON.stringify(ROOT + 'src/cli/main.ts')}).then((m) => m.main(process.argv.slice(1)))`, ...args];

/** Start a command, resolve `listening` at its JSON `listening` line, and `done` with its exit code and output. */
function watchUntilListening(argv: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let heard: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => (heard = resolve));
  child.stdout.on('data', (d) => {
    stdout += d;
    if (/"type":"listening"/.test(stdout)) heard();
  });
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      heard();
      resolve({ code: code ?? -1, stdout, stderr });
    }),
  );
  return { listening, done };
}

function oneLine(r: { code: number; stdout: string; stderr: string }, re: RegExp, what: string): void {
  const err = r.stderr.split('\n').filter((l) => l.trim() && !/^Warning:/.test(l));
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  assert.equal(err.length, 1, `${what}: one line expected:\n${r.stderr}`);
  assert.match(err[0]!, /^hadiag: /, what);
  assert.match(err[0]!, re, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: stack trace`);
}

test('garp-check bad input: one-line errors, exit 2', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hadiag-garp-err-'));
  const topo = await Topology.create({ hosts: [{ name: 'a', addresses: ['198.18.0.1/24'], mac: labMac(1) }] });
  try {
    const a = topo.host('a');
    const inNs = (args: string[]) => ['ip', 'netns', 'exec', a.netns, ...cli(args)];
    // a second interface that is down
    await run(['ip', '-n', a.netns, 'link', 'add', `hd${topo.runId}-dn`, 'type', 'veth', 'peer', 'name', `hd${topo.runId}-dp`]);
    const probe = `
      const { openCapture } = await import(${JSON.stringify(ROOT + 'src/effects/io/capture.ts')});
      for (const [i, f] of [[${JSON.stringify(a.ifname)}, 'arp and ('], [${JSON.stringify(a.ifname)}, 'ether proto \\\\arpp'], ['nosuch0', 'arp']]) {
        try { openCapture(i, f, () => {}); console.log('OPENED'); } catch (e) { console.log(e.render()); }
      }
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log('alive');`;
    // (argument and file errors are tested in-process: test/unit/garp-check-cli.test.ts)
    const cases: [string, string[], RegExp][] = [
      ['missing interface', inNs(['garp-check', 'nosuch0', '--vip', '198.18.0.20', '--duration', '1s']), /no interface nosuch0: .* — choose one of: .*eth0/],
      ['down interface', inNs(['garp-check', `hd${topo.runId}-dn`, '--duration', '1s']), /interface hd\w+-dn is down: .* — bring it up first: ip link set hd\w+-dn up/],
      ['not root', ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...cli(['garp-check', 'lo', '--duration', '1s'])], /garp-check on an interface needs root: uid 65534 — run it with sudo or as root/],
    ];
    const results = await Promise.all(cases.map(([, argv]) => run(argv, { cwd: ROOT, timeoutMs: 90_000, env: { ...process.env, HOME: dir } })));
    cases.forEach(([what, , re], i) => oneLine(results[i]!, re, what));

    // the library: failed opens (bad filters, missing interface) are errors, and garbage collection afterwards does not abort
    const r = await run(['ip', 'netns', 'exec', a.netns, 'node', '--expose-gc', '--import', 'tsx', '--input-type=module', '-e', probe], { cwd: ROOT, timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^hadiag: bad capture filter "arp and \(": .*syntax error — fix the BPF expression/);
    assert.match(lines[1]!, /^hadiag: bad capture filter/);
    assert.match(lines[2]!, /^hadiag: no interface nosuch0/);
    assert.equal(lines.at(-1), 'alive');

    // the watched interface goes down mid-watch: one warning line, a summary, exit 1 — no abort (patched cap)
    const up = `hd${topo.runId}-dn`;
    await run(['ip', '-n', a.netns, 'link', 'set', up, 'up']);
    await run(['ip', '-n', a.netns, 'link', 'set', `hd${topo.runId}-dp`, 'up']);
    // the link goes down once garp-check says it is listening (its JSON 'listening' line), however slow its start-up
    const watching = watchUntilListening(inNs(['garp-check', up, '--duration', '5s', '--json']), { ...process.env, HOME: dir });
    await watching.listening;
    await sleep(300);
    await run(['ip', '-n', a.netns, 'link', 'set', up, 'down']);
    const w = await watching.done;
    assert.equal(w.code, 1, `exit 1 when the capture was lost:\n${w.stderr}`);
    assert.match(w.stderr, /^hadiag: warning: capture on hd\w+-dn lost: the interface went down .* — bring it up \(ip link set hd\w+-dn up\) and run again$/m);
    const summary = JSON.parse(w.stdout.trim().split('\n').pop()!);
    assert.equal(summary.type, 'summary');
    assert.equal(summary.healthy, false);
    assert.match(summary.captureLost, /went down/);
  } finally {
    await topo.teardown();
  }
});
