/**
 * What a node keeps in its state directory between runs (generation, uuid) and reads from the host for its
 * status messages (/proc/loadavg).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The generation (hg) for this start: above the last one, and time-based like Heartbeat's. */
export async function nextGeneration(stateDir: string): Promise<number> {
  const file = join(stateDir, 'generation');
  let prev = 0;
  try {
    prev = parseInt((await readFile(file, 'utf8')).trim(), 10) || 0;
  } catch {
    /* first start */
  }
  const gen = Math.max(prev + 1, Math.floor(Date.now() / 1000));
  await writeFile(file, `${gen}\n`);
  return gen;
}

/** The node's uuid (srcuuid), made once and kept. */
export async function nodeUuid(stateDir: string): Promise<Buffer> {
  const file = join(stateDir, 'uuid');
  try {
    const b = Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    if (b.length === 16) return b;
  } catch {
    /* new */
  }
  const b = randomBytes(16);
  await writeFile(file, b.toString('hex') + '\n');
  return b;
}

export function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return '0.00 0.00 0.00 1/1 1';
  }
}
