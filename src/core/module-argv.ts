import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The project's root folder (src/ and dist/ are below it). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * argv that runs one of our modules as its own process (e.g. `effects/node/main`, `effects/compare/trial-client-main`):
 * the compiled one when we run compiled (small RSS, fast start), else the TypeScript source through tsx.
 */
export function moduleArgv(rel: string): string[] {
  const built = join(PROJECT_ROOT, 'dist', `${rel}.js`);
  if (existsSync(built) && import.meta.url.includes('/dist/')) return [process.execPath, built];
  const src = join(PROJECT_ROOT, 'src', `${rel}.ts`);
  if (!existsSync(src)) return [process.execPath, built];
  const tsx = pathToFileURL(join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  return [process.execPath, '--import', tsx, src];
}
