/**
 * The house rules for imports (docs/architecture.md): no circles, and layers that point one way
 * along the pipeline text → language → layers → graph → analysis → (server | cli | export |
 * import | webview), graph → engine. `npm test` runs this (test/architecture.test.ts).
 */
const core = '^src/(language|layers|graph|analysis|engine)/';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import circle', from: {}, to: { circular: true } },
    {
      name: 'core-is-plain-typescript',
      severity: 'error',
      comment: 'the language, registry, graph, analysis and engine run in web workers and the webview: no vscode',
      from: { path: core },
      to: { path: '^vscode$|node_modules/@types/vscode' },
    },
    {
      name: 'core-points-down',
      severity: 'error',
      comment: 'the pipeline core imports nothing from its users',
      from: { path: core },
      to: { path: '^src/(server|cli|extension|export|import|protocol)/|^webview/' },
    },
    {
      name: 'import-runs-anywhere',
      severity: 'error',
      comment: 'the importer runs in the web extension host too: no Node APIs, no vscode; the caller reads and writes the files',
      from: { path: '^src/import/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'import-writes-text',
      severity: 'error',
      comment: 'the importer writes .cnn text and reads it back through the analysis, as any file is read; it builds no syntax trees of its own',
      from: { path: '^src/import/' },
      to: { path: '^src/(language|graph|server|cli|extension|export|protocol)/|^webview/|^vscode$|node_modules/@types/vscode' },
    },
    { name: 'language-is-first', severity: 'error', from: { path: '^src/language/' }, to: { path: '^src/(layers|graph|analysis|engine)/' } },
    { name: 'layers-below-graph', severity: 'error', from: { path: '^src/layers/' }, to: { path: '^src/(graph|analysis|engine)/' } },
    { name: 'graph-below-analysis', severity: 'error', from: { path: '^src/graph/' }, to: { path: '^src/(analysis|engine)/' } },
    {
      name: 'analysis-beside-engine',
      severity: 'error',
      comment: 'the analysis never runs a network; the engine reads the analysis only for its types',
      from: { path: '^src/analysis/' },
      to: { path: '^src/engine/' },
    },
    { name: 'engine-without-analysis-code', severity: 'error', from: { path: '^src/engine/' }, to: { path: '^src/analysis/(?!types\\.ts$)', dependencyTypesNot: ['type-only'] } },
    {
      name: 'no-cli-below-users',
      severity: 'error',
      comment: 'the server, the extension and the webview share formatting from below the CLI, not from it',
      from: { path: '^src/(server|extension)/|^webview/' },
      to: { path: '^src/cli/' },
    },
    { name: 'server-apart-from-client', severity: 'error', comment: 'the language server and the VS Code client meet only in src/protocol', from: { path: '^src/extension/' }, to: { path: '^src/server/' } },
    { name: 'client-apart-from-server', severity: 'error', from: { path: '^src/server/' }, to: { path: '^src/extension/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.d\\.ts$' },
  },
};
