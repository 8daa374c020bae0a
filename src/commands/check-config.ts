import type { CommandModule } from 'yargs';
import { EXIT_HEALTHY, EXIT_PROBLEM } from '../core/errors.js';
import { printJson } from './output.js';
import { formatDiagnostic } from '../models/config/diagnostics.js';
import type { CheckConfigReport } from '../models/config/check.js';
import { lintConfigDir, type LintOptions } from '../effects/config/lint.js';

interface Args {
  dir: string;
  node?: string;
  host: boolean;
  json?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function renderCheckConfig(r: CheckConfigReport): string {
  const lines = [...r.errors, ...r.warnings].map(formatDiagnostic);
  if (lines.length) lines.push('');
  for (const c of r.checks) lines.push(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(13)} ${c.detail}`);
  if (r.plan.length) lines.push('', 'hadiag will:', ...r.plan.map((p) => `  - ${p}`), '');
  lines.push(
    `check-config: ${r.dir}${r.node ? ` for node ${r.node}` : ''}: ${plural(r.errors.length, 'error')}, ${plural(r.warnings.length, 'warning')} — ${!r.ok ? 'fix the errors above before starting the node' : r.hostChecked ? 'ready to go live' : 'the files are clean (this host was not checked)'}`,
  );
  return lines.join('\n') + '\n';
}

export const checkConfigCommand: CommandModule<object, Args> = {
  command: 'check-config [dir]',
  describe: "lint a node's Heartbeat files (ha.cf, authkeys, haresources) and this host before it goes live",
  builder: (y) =>
    y
      .positional('dir', { type: 'string', default: '/etc/ha.d', describe: 'directory with ha.cf, authkeys and haresources' })
      .option('node', { type: 'string', describe: "this node's name (default: `uname -n`, as Heartbeat uses)" })
      .option('host', { type: 'boolean', default: true, describe: 'also check this host (--no-host: the files only, e.g. a copy on another machine)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document' })
      .example('hadiag check-config', 'check /etc/ha.d for this host')
      .example('hadiag check-config ./ha.d --node server2', 'check a copy of the files as node server2 would see them')
      .example('hadiag check-config ./ha.d --no-host', 'the files only (no interface, port or VIP checks)')
      .example('hadiag check-config --json | jq .errors', 'the findings as data')
      .epilogue(
        [
          'Checks, each finding printed as `file:line: error|warning: message — fix`:',
          '  - every error and warning of ha.cf, authkeys and haresources;',
          '  - this node (--node, default `uname -n`) is declared in ha.cf;',
          '  - each media interface exists and has an IPv4 address; for bcast, a broadcast',
          '    address (without one Heartbeat sends to 0.0.0.0 and both nodes take the VIP);',
          '  - the UDP port is free; the VIP\'s subnet is on an interface when no nic is given;',
          '  - authkeys is readable by its owner only; no key has spaces.',
          'With --no-host only the files are checked (and the node name when --node is given).',
          '',
          'Healthy (exit 0): no error; warnings allowed. Exit 1: errors in the files or on this',
          'host. Exit 2: the directory or a file cannot be read, or bad usage.',
          '',
          'Then what run-node will do with ping nodes, ipfail and respawn lines ("hadiag will:").',
          '',
          '--json prints {ok, dir, node, hostChecked, errors: [D], warnings: [D], checks: [{name, ok, detail}], plan: [string]}',
          'with D = {severity, file, line?, message, fix?}.',
        ].join('\n'),
      ),
  handler: async (argv) => {
    const opts: LintOptions = { host: argv.host };
    if (argv.node) opts.node = argv.node;
    const report = await lintConfigDir(argv.dir, opts);
    if (argv.json) printJson(report);
    else process.stdout.write(renderCheckConfig(report));
    process.exitCode = report.ok ? EXIT_HEALTHY : EXIT_PROBLEM;
  },
};
