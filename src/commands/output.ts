/** Helpers shared by command renderers: stdout for results, stderr for progress. */
export function printJson(doc: unknown): void {
  process.stdout.write(JSON.stringify(doc, jsonReplacer, 2) + '\n');
}

/** One JSON line (for streaming commands). */
export function printJsonLine(doc: unknown): void {
  process.stdout.write(JSON.stringify(doc, jsonReplacer) + '\n');
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  return value;
}

/** Is stderr a terminal (spinners only then)? */
export const interactive = (): boolean => Boolean(process.stderr.isTTY) && !process.env.CI;
