import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/effects/io/exec.js';
import { alive, listNetns, newRunId } from '../../src/effects/io/netns.js';
import { upLab, destroyLab } from '../../src/effects/lab/lab.js';
import { cli, cliChild, running, waitFor } from './lab-helpers.js';

// The CLI end to end, with a private state root so `--name` can be omitted safely while other tests run.
let root: string;
let env: NodeJS.ProcessEnv;
before(async () => {
  await run(['mkdir', '-p', '/run/hadiag']);
  root = await mkdtemp('/run/hadiag/test-labs-');
  env = { HADIAG_LABS_DIR: root };
  process.env.HADIAG_LABS_DIR = root; // the library calls below use the same root
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Wait until lab `name` has at least 3 namespaces (the build is under way). */
const builtSomething = (name: string) => waitFor(async () => (await listNetns()).filter((n) => n.startsWith(`hadiag-${name}-`)).length >= 3, 90_000, 20);

const id = () => `lc${newRunId().slice(0, 4)}`;

/** Nothing of lab `name` is left: no namespace, no veth in the root namespace, no state dir, none of `pids`. */
async function assertGone(name: string, pids: number[]): Promise<void> {
  assert.deepEqual((await listNetns()).filter((n) => n.startsWith(`hadiag-${name}-`)), [], 'namespaces left');
  const links = JSON.parse((await run(['ip', '-json', 'link', 'show'])).stdout) as { ifname: string }[];
  assert.deepEqual(links.map((l) => l.ifname).filter((n) => n.startsWith(`hd${name}`)), [], 'links left');
  await assert.rejects(access(join(root, name)), 'state dir left');
  for (const p of pids) assert.ok(await waitFor(async () => !(await running(p)), 3000), `process ${p} left`);
}

async function managerPids(name: string): Promise<number[]> {
  try {
    const s = JSON.parse(await readFile(join(root, name, 'state.json'), 'utf8')) as { hosts: { manager?: { pid: number } }[] };
    return s.hosts.flatMap((h) => (h.manager ? [h.manager.pid] : []));
  } catch {
    return [];
  }
}

test('usage errors are one line with exit 2', async () => {
  const bad = await cli(['lab', 'up', '--manager', 'bogus'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^hadiag: unknown manager "bogus": --manager — use one of: heartbeat, keepalived, ucarp/);
  const ucarpFast = await cli(['lab', 'up', '--manager', 'ucarp', '--timers', 'fast'], { env });
  assert.equal(ucarpFast.code, 2);
  assert.match(ucarpFast.stderr, /ucarp's advbase is whole seconds/);
  const none = await cli(['lab', 'status'], { env });
  assert.equal(none.code, 1);
  assert.match(none.stdout, /no lab is up/);
});

test('up, status, exec, fault, down through the CLI, then two more cycles: nothing left behind', async () => {
  for (let i = 0; i < 3; i++) {
    const name = id();
    let pids: number[] = [];
    try {
      if (i === 0) {
        const up = await cli(['lab', 'up', '--manager', 'keepalived', '--timers', 'fast', '--name', name, '--client-profile', 'garp-filtered', '--json'], { env });
        assert.equal(up.code, 0, up.stderr);
        const state = JSON.parse(up.stdout) as { id: string; vip: string; hosts: { name: string; mac: string; manager?: { pid: number } }[] };
        assert.equal(state.id, name);
        pids = state.hosts.flatMap((h) => (h.manager ? [h.manager.pid] : []));
        assert.equal(pids.length, 2);
        assert.ok(pids.every(alive));
        const st = await cli(['lab', 'status', '--json'], { env });
        assert.equal(st.code, 0, st.stdout + st.stderr);
        const [s] = JSON.parse(st.stdout) as { vipHolders: string[]; hosts: { name: string; mac: string; profile?: string }[] }[];
        assert.deepEqual(s!.vipHolders, ['server1']);
        assert.equal(s!.hosts.find((h) => h.name === 'client')!.profile, 'garp-filtered');
        const ex = await cli(['lab', 'exec', 'client', '--', 'ping', '-c', '1', '-W', '2', state.vip], { env });
        assert.equal(ex.code, 0, ex.stdout + ex.stderr);
        const f = await cli(['lab', 'fault', 'link-down', '--json'], { env });
        assert.equal(f.code, 0, f.stderr);
        assert.equal(JSON.parse(f.stdout).host, 'server1');
        const down = await cli(['lab', 'down'], { env });
        assert.equal(down.code, 0, down.stderr);
      } else {
        // the same modules without the CLI's start-up cost
        const lab = await upLab({ manager: i === 1 ? 'ucarp' : 'keepalived', timers: i === 1 ? 'classic' : 'fast', name, clients: 2 });
        pids = lab.hosts.flatMap((h) => (h.manager ? [h.manager.pid] : []));
        await destroyLab(name);
      }
      await assertGone(name, pids);
    } finally {
      await destroyLab(name);
    }
  }
});

test('a `lab up` killed with SIGKILL mid-way is cleaned by `lab down --name`', async () => {
  const name = id();
  try {
    const { child, done } = cliChild(['lab', 'up', '--manager', 'ucarp', '--timers', 'classic', '--name', name, '--clients', '3'], { env });
    // ucarp needs ~3 s to take the VIP: kill the build once both managers run, before it finishes
    let exited = false;
    void done.then(() => (exited = true));
    const started = await waitFor(async () => exited || (await managerPids(name)).length === 2, 90_000, 20);
    const endedEarly = exited;
    child.kill('SIGKILL');
    const r = await done;
    assert.ok(started && !endedEarly, `managers started before the build ended (code ${r.code} ${r.signal}): ${r.stderr}`);
    assert.equal(r.signal, 'SIGKILL');
    const pids = await managerPids(name);
    const leftover = (await listNetns()).filter((n) => n.startsWith(`hadiag-${name}-`));
    assert.ok(leftover.length >= 5 && pids.length === 2, `left ${leftover.length} namespaces, ${pids.length} managers`);
    assert.ok(pids.every(alive), 'the killed build left its managers running');
    const down = await cli(['lab', 'down', '--name', name], { env });
    assert.equal(down.code, 0, down.stderr);
    await assertGone(name, pids);
  } finally {
    await destroyLab(name); // whatever happened above, leave nothing
  }
});

test('Ctrl-C during `lab up` removes what was built', async () => {
  const name = id();
  try {
    const { child, done } = cliChild(['lab', 'up', '--manager', 'keepalived', '--timers', 'fast', '--name', name, '--clients', '3'], { env });
    assert.ok(await builtSomething(name), 'the build started');
    child.kill('SIGINT');
    const r = await done;
    assert.ok(r.code === 130 || r.code === 0, `exit ${r.code} ${r.stderr}`);
    if (r.code === 130) assert.match(r.stderr, /SIGINT: cleaning up/);
    else await cli(['lab', 'down', '--name', name], { env }); // finished before the signal: still must go
    const gone = await waitFor(async () => ((await listNetns()).some((n) => n.startsWith(`hadiag-${name}-`)) ? undefined : true), 5000);
    assert.ok(gone, 'namespaces removed by the interrupted process itself');
    await assertGone(name, await managerPids(name));
  } finally {
    await destroyLab(name);
  }
});
