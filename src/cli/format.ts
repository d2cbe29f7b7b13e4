/**
 * The number and table formatting moved to src/analysis/format.ts, below the CLI, the server and
 * the webview; this re-export keeps the old imports working until they point there.
 */
export { bytes, grouped, metric, table, markdownTable, type Align, type Column } from '../analysis/format';
