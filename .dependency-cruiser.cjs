/**
 * hadiag's layers, bottom up; each imports only downward (docs/architecture.md):
 *   core → codecs → models → effects → commands → cli
 * `npm test` runs this (scripts/test.sh); test/unit/architecture.test.ts proves each rule bites.
 */
const LAYERS = ['core', 'codecs', 'models', 'effects', 'commands', 'cli'];
const above = (layer) => LAYERS.slice(LAYERS.indexOf(layer) + 1);

const layerRules = LAYERS.slice(0, -1).map((layer) => ({
  name: `${layer}-imports-only-downward`,
  comment: `src/${layer}/ may import only from ${LAYERS.slice(0, LAYERS.indexOf(layer) + 1).join(', ')}; not from ${above(layer).join(', ')}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${above(layer).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'models-do-no-io',
      comment: 'src/models/ is pure: no processes, sockets or files (take bytes and facts as arguments; effects/ reads them)',
      severity: 'error',
      from: { path: '^src/models/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(child_process|dgram|net|fs|fs/promises|readline|worker_threads|cluster|http|https)$' },
    },
    {
      name: 'terminal-libraries-only-in-commands',
      comment: 'yargs, ora and cli-table3 belong to commands/ and cli/ (the daemon must not load them)',
      severity: 'error',
      from: { path: '^src/(core|codecs|models|effects)/' },
      to: { path: 'node_modules/(yargs|ora|cli-table3)/' },
    },
    {
      name: 'no-test-code-in-src-or-bench',
      comment: 'src/ and bench/ must not import from test/ (move the shared helper into src/)',
      severity: 'error',
      from: { path: '^(src|bench)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-cycles',
      comment: 'modules must not import each other in a cycle (type-only imports aside)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs', '.cjs'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
