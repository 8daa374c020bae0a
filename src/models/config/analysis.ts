/** A Heartbeat configuration directory as data: the three texts parsed and cross-checked (pure; effects/config/load.ts reads them). */
import { join } from 'node:path';
import { analyzeAuthkeys, authkeysModeDiagnostic, type Authkeys } from './authkeys.js';
import type { Diagnostic } from './diagnostics.js';
import { analyzeHaCf, type HaCf } from './hacf.js';
import { analyzeHaresources, type ResourceGroup } from './haresources.js';

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
