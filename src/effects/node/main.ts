/**
 * Entry point of the node daemon without the CLI's libraries (yargs, ora, cli-table3 stay out of its
 * import path so the daemon stays small):
 *
 *   node dist/effects/node/main.js [--config-dir /etc/ha.d] [--node NAME] [--state-dir /var/lib/hadiag]
 *                          [--garp SPEC] [--capture] [--capture-dir DIR] [--json] [--debug]
 *
 * `hadiag run-node` delegates here.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HadiagError, renderError, requireRoot, usageError, EXIT_USAGE } from '../../core/errors.js';
import { NodeDaemon } from './daemon.js';
import { NODE_OPTIONS, nodeUsage, toNodeOptions, type NodeOptions, type NodeOptionValues } from './options.js';

/** node:util parseArgs's configuration, from the option table. */
function parseArgsOptions(): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h', default: false } };
  for (const o of NODE_OPTIONS) options[o.name] = o.default === undefined ? { type: o.type } : ({ type: o.type, default: o.default } as typeof options[string]);
  return options;
}

export function parseNodeArgs(argv: string[]): NodeOptions {
  let values: NodeOptionValues;
  try {
    ({ values } = parseArgs({ args: argv, options: parseArgsOptions(), strict: true, allowPositionals: false }));
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0]!, 'command line', nodeUsage().replace(/\s+/g, ' '));
  }
  if (values.help) {
    process.stdout.write(nodeUsage() + '\n');
    process.exit(0);
  }
  return toNodeOptions(values);
}

/** Run a node until it stops; returns the exit code (errors are rendered as one line). */
export async function runNode(opts: NodeOptions): Promise<number> {
  try {
    requireRoot('run-node');
    const d = new NodeDaemon(opts);
    return await d.run();
  } catch (err) {
    process.stderr.write(renderError(err, !!opts.debug) + '\n');
    return err instanceof HadiagError ? err.exitCode : EXIT_USAGE;
  }
}

/** The daemon's command line (`node dist/effects/node/main.js ARGS`, or `hadiag run-node ARGS` through bin/hadiag.js). */
export async function main(argv: string[]): Promise<void> {
  let opts: NodeOptions;
  try {
    opts = parseNodeArgs(argv);
  } catch (err) {
    process.stderr.write(renderError(err) + '\n');
    process.exit(EXIT_USAGE);
  }
  const code = await runNode(opts);
  process.exit(code);
}

const self = fileURLToPath(import.meta.url);
let invoked = '';
try {
  invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
} catch {
  /* not a file */
}
if (invoked === self) void main(process.argv.slice(2));
