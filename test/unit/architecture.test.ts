/**
 * The map stays trustworthy: the dependency rules of .dependency-cruiser.cjs hold for src/ and bench/, each rule
 * bites on a committed fixture of wrong-way imports, and no room grows too big to live in (docs/architecture.md).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { run } from '../../src/effects/io/exec.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const WRONG_WAY = join(ROOT, 'test/fixtures/architecture/wrong-way');

interface Violation {
  rule: string;
  from: string;
  to: string;
}

async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  const bin = join(ROOT, 'node_modules/.bin/depcruise');
  const r = await run([bin, '--config', CONFIG, '--output-type', 'json', ...paths], { cwd, timeoutMs: 120_000 });
  const doc = JSON.parse(r.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return doc.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

test('src/ and bench/ keep every dependency rule (layers point one way, pure models, no cycles)', async () => {
  const violations = await cruise(ROOT, ['src', 'bench']);
  assert.deepEqual(violations.map((v) => `${v.rule}: ${v.from} → ${v.to}`), []);
});

test('each dependency rule bites on the committed wrong-way fixture', async () => {
  const found = (await cruise(WRONG_WAY, ['src', 'bench'])).map((v) => `${v.rule}: ${v.from} → ${v.to.replace(/^.*node_modules\//, 'node_modules/')}`).sort();
  assert.deepEqual(found, [
    'codecs-imports-only-downward: src/codecs/frame.ts → src/cli/main.ts',
    'models-do-no-io: src/models/node/machine.ts → fs',
    'models-imports-only-downward: src/models/node/machine.ts → src/effects/io/capture.ts',
    'no-cycles: src/cli/main.ts → src/codecs/frame.ts',
    'no-cycles: src/effects/io/a.ts → src/effects/io/b.ts',
    'no-test-code-in-src-or-bench: bench/accuracy.ts → test/helper.ts',
    'terminal-libraries-only-in-commands: src/effects/io/spinner.ts → node_modules/ora/index.js',
  ]);
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 80;
/** The layers whose functions the issue bounds: the node machine and daemon, the analyzers and live runners. */
const BOUNDED_FUNCTIONS = ['src/models/node', 'src/effects/node', 'src/models/measure', 'src/effects/measure'];

test(`no source file over ${MAX_FILE_LINES} lines`, () => {
  const big = sourceFiles(join(ROOT, 'src'))
    .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length }))
    .filter((f) => f.lines > MAX_FILE_LINES)
    .map((f) => `${f.file}: ${f.lines} lines`);
  assert.deepEqual(big, []);
});

/** Every function, method, accessor, constructor and arrow function of a file with its line span. */
function functionSpans(file: string): { name: string; lines: number }[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: { name: string; lines: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : `(anonymous at line ${start + 1})`;
      out.push({ name, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

test(`no function over ${MAX_FUNCTION_LINES} lines in the node and measure layers`, () => {
  const long: string[] = [];
  for (const dir of BOUNDED_FUNCTIONS) {
    for (const f of sourceFiles(join(ROOT, dir))) {
      for (const fn of functionSpans(f)) if (fn.lines > MAX_FUNCTION_LINES) long.push(`${relative(ROOT, f)}: ${fn.name} ${fn.lines} lines`);
    }
  }
  assert.deepEqual(long, []);
});

/** Paths a source names (in a comment or a string): each must be a file of this repository. */
function namedPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?<![\w./-])((?:[a-z][\w-]*\/)+[\w.-]+\.(?:ts|md|mjs|sh|pcap|cjs))\b/g)) out.push(m[1]!);
  return out;
}

test('every file a source, test or bench names exists in this repository (docs/facts for measured facts)', () => {
  const missing: string[] = [];
  const files = ['src', 'test/unit', 'test/integration', 'bench', 'scripts'].flatMap((d) => readdirSync(join(ROOT, d), { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && /\.(ts|mjs|sh)$/.test(e.name)).map((e) => join(e.parentPath, e.name)));
  for (const f of files.filter((x) => !x.endsWith('architecture.test.ts'))) {
    for (const p of namedPaths(readFileSync(f, 'utf8'))) {
      if (/^(node_modules|tsx|dist|captures)\//.test(p)) continue;
      const candidates = [join(ROOT, p), join(ROOT, 'src', p), join(ROOT, 'test/fixtures', p)];
      if (!candidates.some((c) => existsSync(c))) missing.push(`${relative(ROOT, f)}: ${p}`);
    }
  }
  assert.deepEqual(missing, []);
});
