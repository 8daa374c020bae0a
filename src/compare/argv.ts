import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** argv that runs one of our modules (`compare/probe-main`): compiled when we run compiled, else via tsx. */
export function moduleArgv(rel: string): string[] {
  const built = join(ROOT, 'dist', `${rel}.js`);
  if (existsSync(built) && import.meta.url.includes('/dist/')) return [process.execPath, built];
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  return [process.execPath, '--import', tsx, join(ROOT, 'src', `${rel}.ts`)];
}
