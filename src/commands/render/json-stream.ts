/**
 * One JSON document written as it is decided: the array that grows with the input (a capture's frames or
 * messages) goes out one element at a time, the keys known only at the end follow it. The text is what
 * `printJson` would print for the same object with that key order (2-space indent).
 */
import { jsonReplacer } from '../output.js';

export class JsonArrayDocument {
  private count = 0;

  /** `head`: the keys known before the array; `arrayKey`: the array's name. */
  constructor(
    private readonly write: (text: string) => void,
    head: Record<string, unknown>,
    private readonly arrayKey: string,
  ) {
    const keys = Object.entries(head).filter(([, v]) => v !== undefined);
    let text = '{\n';
    for (const [k, v] of keys) text += `  ${JSON.stringify(k)}: ${indent(JSON.stringify(v, jsonReplacer, 2), '  ')},\n`;
    this.write(text + `  ${JSON.stringify(arrayKey)}: [`);
  }

  item(value: unknown): void {
    this.write(`${this.count++ ? ',' : ''}\n    ${indent(JSON.stringify(value, jsonReplacer, 2), '    ')}`);
  }

  /** Close the array and write the remaining keys (`tail` must not repeat the array's key). */
  end(tail: Record<string, unknown>): void {
    let text = this.count ? '\n  ]' : ']';
    for (const [k, v] of Object.entries(tail)) {
      if (v === undefined || k === this.arrayKey) continue;
      text += `,\n  ${JSON.stringify(k)}: ${indent(JSON.stringify(v, jsonReplacer, 2), '  ')}`;
    }
    this.write(text + '\n}\n');
  }
}

const indent = (json: string, by: string) => json.replace(/\n/g, `\n${by}`);
