/**
 * What the client said it can do (`initialize`), reduced to the questions the server asks:
 * another editor than VS Code gets no snippets it did not ask for, no commands it cannot run,
 * and no requests for capabilities it did not declare.
 */
import type { ClientCapabilities, InitializeParams, TextDocumentClientCapabilities, WorkspaceClientCapabilities } from 'vscode-languageserver';
import { TRIGGER_PARAMETER_HINTS, type InitializationOptions } from '../protocol/lsp-ext';
import { isObject } from './params';

export interface ClientFeatures {
  /** `textDocument.completion.completionItem.snippetSupport`. */
  snippets: boolean;
  /** Markdown in completion documentation (else plain text). */
  markdownCompletion: boolean;
  /** Markdown in hovers (else plain text). */
  markdownHover: boolean;
  /** Client-side commands the client can run (`initializationOptions.clientCommands`). */
  commands: ReadonlySet<string>;
  /** `workspace/configuration`. */
  pullConfiguration: boolean;
  /** `workspace.didChangeConfiguration.dynamicRegistration`. */
  registerConfiguration: boolean;
  /** `workspace.codeLens.refreshSupport`. */
  codeLensRefresh: boolean;
  /** `workspace.inlayHint.refreshSupport`. */
  inlayHintRefresh: boolean;
  /** Inlay hint tooltips can wait for `inlayHint/resolve` (`resolveSupport.properties`). */
  resolveHintTooltips: boolean;
}

/** VS Code and its builds: they all have the built-in `editor.action.*` commands. */
const VSCODE_NAMES = /^(Visual Studio Code|Code - OSS|VSCodium|vscode)/i;

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

export function clientFeatures(params: InitializeParams): ClientFeatures {
  const caps: ClientCapabilities = isObject(params.capabilities) ? params.capabilities : {};
  const td: TextDocumentClientCapabilities = (isObject(caps.textDocument) && caps.textDocument) || {};
  const ws: WorkspaceClientCapabilities = (isObject(caps.workspace) && caps.workspace) || {};
  const init = (isObject(params.initializationOptions) ? params.initializationOptions : {}) as InitializationOptions;
  const listed = strings(init.clientCommands);
  // A VS Code that does not list its commands (an older extension) can still open signature help.
  const commands = new Set(listed ?? (VSCODE_NAMES.test(params.clientInfo?.name ?? '') ? [TRIGGER_PARAMETER_HINTS] : []));
  const resolve = strings(td.inlayHint?.resolveSupport?.properties) ?? [];
  const formats = (f: unknown) => {
    const list = strings(f);
    // Without the property the client did not say: LSP's default is plain text, but every
    // client we know renders Markdown, which reads well as plain text too.
    return !list || list.includes('markdown');
  };
  return {
    snippets: td.completion?.completionItem?.snippetSupport === true,
    markdownCompletion: formats(td.completion?.completionItem?.documentationFormat),
    markdownHover: formats(td.hover?.contentFormat),
    commands,
    pullConfiguration: ws.configuration === true,
    registerConfiguration: ws.didChangeConfiguration?.dynamicRegistration === true,
    codeLensRefresh: ws.codeLens?.refreshSupport === true,
    inlayHintRefresh: ws.inlayHint?.refreshSupport === true,
    resolveHintTooltips: resolve.includes('tooltip'),
  };
}

/** Before `initialize` (and for unit tests): a client that declared nothing. */
export const NO_FEATURES: ClientFeatures = {
  snippets: false,
  markdownCompletion: true,
  markdownHover: true,
  commands: new Set(),
  pullConfiguration: false,
  registerConfiguration: false,
  codeLensRefresh: false,
  inlayHintRefresh: false,
  resolveHintTooltips: false,
};
