import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { configError } from '../../core/errors.js';
import { analyzeAuthkeys, authkeysModeDiagnostic, unreadable, type Authkeys } from '../../models/config/authkeys.js';
import { diagnosticToError, type Diagnostic } from '../../models/config/diagnostics.js';
import { analyzeHaCf, type HaCf } from '../../models/config/hacf.js';
import { analyzeHaresources, type ResourceGroup } from '../../models/config/haresources.js';

export interface ConfigPaths {
  hacf: string;
  authkeys: string;
  haresources: string;
}

export interface ConfigTexts {
  hacf: string;
  authkeys: string;
  /** undefined when the file does not exist (no resources: a warning). */
  haresources?: string;
}

export interface ConfigAnalysis {
  paths: ConfigPaths;
  /** Parsed with defaults applied; meaningful for what had no error. */
  hacf: HaCf;
  authkeys?: Authkeys;
  haresources: ResourceGroup[];
  /** Every error and warning of the three files and their cross-checks, file by file in line order. */
  diagnostics: Diagnostic[];
}

export interface ConfigDir {
  hacf: HaCf;
  authkeys: Authkeys;
  haresources: ResourceGroup[];
  /** Warnings only (an error is thrown). */
  diagnostics: Diagnostic[];
}

export function configPaths(dir: string): ConfigPaths {
  return { hacf: join(dir, 'ha.cf'), authkeys: join(dir, 'authkeys'), haresources: join(dir, 'haresources') };
}

/** Pure: parse the three texts and cross-check them. `authkeysMode` (st_mode) adds Heartbeat's permission check. */
export function analyzeConfigTexts(texts: ConfigTexts, paths: ConfigPaths, authkeysMode?: number): ConfigAnalysis {
  const h = analyzeHaCf(texts.hacf, paths.hacf);
  const a = analyzeAuthkeys(texts.authkeys, paths.authkeys);
  const r = texts.haresources === undefined ? { groups: [], diagnostics: [] } : analyzeHaresources(texts.haresources, paths.haresources);
  const diagnostics: Diagnostic[] = [...h.diagnostics];
  if (authkeysMode !== undefined) {
    const d = authkeysModeDiagnostic(paths.authkeys, authkeysMode);
    if (d) diagnostics.push(d);
  }
  diagnostics.push(...a.diagnostics);
  if (texts.haresources === undefined) {
    diagnostics.push({
      severity: 'warning',
      file: paths.haresources,
      message: 'no haresources file: this cluster manages no resources (no VIP)',
      fix: 'create it with the VIP, e.g. server1 IPaddr::10.0.0.20/24',
    });
  }
  diagnostics.push(...r.diagnostics, ...crossCheck(h.hacf, r.groups, paths));
  const out: ConfigAnalysis = { paths, hacf: h.hacf, haresources: r.groups, diagnostics };
  if (a.authkeys) out.authkeys = a.authkeys;
  return out;
}

/** Checks that need more than one file: every haresources node must be an ha.cf node. */
export function crossCheck(hacf: HaCf, groups: ResourceGroup[], paths: ConfigPaths): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (hacf.nodes.length === 0) return out; // ha.cf already says no node is declared
  for (const g of groups) {
    if (!hacf.nodes.includes(g.node)) {
      out.push({
        severity: 'error',
        file: paths.haresources,
        line: g.line,
        message: `node "${g.node}" is not declared in ha.cf`,
        fix: `use one of ${hacf.nodes.join(', ')}, or add "node ${g.node}" to ${paths.hacf}`,
      });
    }
  }
  return out;
}

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
