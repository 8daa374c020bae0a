/**
 * Shared helpers of the benchmarks: statistics, a result file per run in bench/results/, and one-line
 * printing of a figure next to its anchor measured in the same run.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { cpus, loadavg, release } from 'node:os';


export const BENCH_DIR = resolve(import.meta.dirname);
export const REPO = resolve(BENCH_DIR, '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

import { quantile } from '../src/core/stats.js';
export { quantile };

export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  return { n: values.length, median: quantile(values, 0.5), p95: quantile(values, 0.95), min: Math.min(...values), max: Math.max(...values) };
}

export const ratio = (ours: number, anchor: number): number => (anchor === 0 ? NaN : ours / anchor);

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return 'n/a';
  return r > 0 && r < 0.1 ? `${r.toPrecision(2)}× (1/${Math.round(1 / r)})` : `${r.toFixed(2)}×`;
}

export function log(text: string): void {
  process.stdout.write(text + '\n');
}

/** Progress on stderr (kept out of the figures on stdout). */
export function progress(text: string): void {
  process.stderr.write(`  … ${text}\n`);
}

export function environment(): Record<string, unknown> {
  return { node: process.version, kernel: release(), cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavg: loadavg() };
}

/** Write `bench/results/<name>-<iso time>.json` and `<name>-latest.json`; returns the first path. */
export function writeResult(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const doc = { bench: name, at: new Date().toISOString(), environment: environment(), ...data };
  const stamp = doc.at.replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, `${name}-${stamp}.json`);
  const text = JSON.stringify(doc, null, 2) + '\n';
  writeFileSync(file, text);
  writeFileSync(join(RESULTS_DIR, `${name}-latest.json`), text);
  return file;
}

/** A command-line flag of the bench (`--runs 5`), or the default. */
export function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

export type LabModule = typeof import('../src/effects/lab/lab.js');

/** The lab from dist/ when built (its hadiag manager then starts dist/effects/node/main.js), else from src/. */
export async function labModule(): Promise<{ lab: LabModule; from: string }> {
  const built = join(REPO, 'dist/effects/lab/lab.js');
  if (existsSync(built)) return { lab: (await import(pathToFileURL(built).href)) as LabModule, from: 'dist' };
  return { lab: await import('../src/effects/lab/lab.js'), from: 'src (tsx: the loader inflates the figures)' };
}
