/** Reading a Heartbeat configuration directory (ha.cf, authkeys, haresources) from disk; the parsing is models/config/. */
import { readFile, stat } from 'node:fs/promises';
import { configError } from '../../core/errors.js';
import { parseAuthkeys, authkeysModeDiagnostic, type Authkeys } from '../../models/config/authkeys.js';
import { diagnosticToError } from '../../models/config/diagnostics.js';
import { analyzeConfigTexts, configPaths, type ConfigAnalysis, type ConfigDir, type ConfigTexts } from '../../models/config/analysis.js';

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw unreadable(path, err);
  }
}

/**
 * Read and analyse /etc/ha.d-style directory. Throws a HadiagError only when the directory, ha.cf or authkeys
 * cannot be read; everything wrong inside the files is in `diagnostics`.
 */
export async function analyzeConfigDir(dir: string, opts: { checkMode?: boolean } = {}): Promise<ConfigAnalysis> {
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw configError('configuration directory not found', dir, 'name the directory that holds ha.cf, authkeys and haresources (default /etc/ha.d)');
  }
  if (!st.isDirectory()) throw configError('not a directory', dir, 'name the directory that holds ha.cf, authkeys and haresources');
  const paths = configPaths(dir);
  const hacf = await readText(paths.hacf);
  const authkeys = await readText(paths.authkeys);
  const mode = (opts.checkMode ?? true) ? (await stat(paths.authkeys)).mode : undefined;
  let haresources: string | undefined;
  try {
    haresources = await readFile(paths.haresources, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(paths.haresources, err);
  }
  const texts: ConfigTexts = { hacf, authkeys };
  if (haresources !== undefined) texts.haresources = haresources;
  return analyzeConfigTexts(texts, paths, mode);
}

/**
 * Load a configuration directory for a node: throws a HadiagError naming file:line for the first error
 * (including an authkeys file readable by others, unless checkMode is false); returns the warnings.
 */
export async function loadConfigDir(dir: string, opts: { checkMode?: boolean } = {}): Promise<ConfigDir> {
  const a = await analyzeConfigDir(dir, opts);
  const first = a.diagnostics.find((d) => d.severity === 'error');
  if (first) throw diagnosticToError(first);
  return { hacf: a.hacf, authkeys: a.authkeys!, haresources: a.haresources, diagnostics: a.diagnostics };
}

/**
 * Read and parse an authkeys file. With `checkMode` (the default) a group/other-accessible file is refused,
 * as Heartbeat does, with the chmod to run.
 */
export async function readAuthkeys(path: string, opts: { checkMode?: boolean } = {}): Promise<Authkeys> {
  let text: string;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw unreadable(path, err);
  }
  if (opts.checkMode ?? true) {
    const d = authkeysModeDiagnostic(path, mode);
    if (d) throw configError(d.message, path, d.fix);
  }
  return parseAuthkeys(text, path);
}

/** The error for a configuration file that cannot be read. */
export function unreadable(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return configError('file not found', path, 'check the directory (Heartbeat keeps its files in /etc/ha.d)');
  if (code === 'EACCES') return configError('file not readable', path, 'run as root (the files are root-only)');
  if (code === 'EISDIR') return configError('is a directory, not a file', path, 'name the configuration file');
  return configError(`cannot read file (${code ?? String(err)})`, path, 'check the path and its permissions');
}
