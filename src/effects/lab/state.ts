import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usageError } from '../../core/errors.js';
import type { LabState } from './types.js';

/** Where labs keep their state; HADIAG_LABS_DIR overrides it (tests, non-root experiments). */
export function labsRoot(): string {
  return process.env.HADIAG_LABS_DIR || '/run/hadiag/labs';
}

export const labDir = (id: string): string => join(labsRoot(), id);

export async function writeState(state: LabState): Promise<void> {
  await mkdir(state.dir, { recursive: true });
  const file = join(state.dir, 'state.json');
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, file);
}

export async function readState(id: string): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(join(labDir(id), 'state.json'), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/** Ids of every lab with a state directory (whether or not it still runs). */
export async function listLabIds(): Promise<string[]> {
  try {
    return (await readdir(labsRoot(), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

/** The lab a command means: `--name`, or the only lab there is. */
export async function resolveLab(name: string | undefined): Promise<LabState> {
  if (name) {
    const s = await readState(name);
    if (!s) throw usageError(`no lab named "${name}"`, labDir(name), 'list labs with `hadiag lab status`, or start one with `hadiag lab up`');
    return s;
  }
  const ids = await listLabIds();
  const states = (await Promise.all(ids.map(readState))).filter((s): s is LabState => Boolean(s));
  if (states.length === 0) throw usageError('no lab is up', labsRoot(), 'start one with `hadiag lab up`');
  if (states.length > 1) throw usageError(`${states.length} labs are up (${states.map((s) => s.id).join(', ')})`, '--name', 'say which one with --name ID');
  return states[0]!;
}

export async function removeLabDir(id: string): Promise<void> {
  await rm(labDir(id), { recursive: true, force: true });
}
