/**
 * The one module that knows which web-component library draws the controls. Today that is
 * @vscode/webview-ui-toolkit (archived upstream); moving to @vscode-elements/elements means
 * rewriting this file only: the rest of the webview creates controls through these functions
 * and reads them through `valueOf`/`setValue`/`setDisabled`.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

let registered = false;
/** Controls whose value the code is setting: their change events are not the user's. */
const quiet = new WeakSet<HTMLElement>();

export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeBadge(),
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeProgressRing(),
    vsCodeTextField(),
  );
}

type Attrs = { id?: string; title?: string; className?: string };

function apply(el: HTMLElement, a: Attrs | undefined): void {
  if (!a) return;
  if (a.id) el.id = a.id;
  if (a.title) el.title = a.title;
  if (a.className) el.className = a.className;
}

export function button(label: string, onClick: () => void, a?: Attrs & { appearance?: 'primary' | 'secondary' }): HTMLElement {
  const el = document.createElement('vscode-button');
  el.textContent = label;
  el.setAttribute('appearance', a?.appearance ?? 'primary');
  apply(el, a);
  el.addEventListener('click', () => {
    if (!el.hasAttribute('disabled')) onClick();
  });
  return el;
}

export interface Choice {
  value: string;
  label: string;
}

/** A drop-down; `setChoices` replaces the options and keeps the value where it still exists. */
export function dropdown(choices: Choice[], value: string | undefined, onChange: (v: string) => void, a?: Attrs): HTMLElement {
  const el = document.createElement('vscode-dropdown');
  apply(el, a);
  setChoices(el, choices, value);
  el.addEventListener('change', () => {
    if (!quiet.has(el)) onChange(valueOf(el));
  });
  return el;
}

export function setChoices(el: HTMLElement, choices: Choice[], value: string | undefined): void {
  el.replaceChildren(
    ...choices.map((c) => {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', c.value);
      o.textContent = c.label;
      if (c.value === value) o.setAttribute('selected', '');
      return o;
    }),
  );
  if (value !== undefined && choices.some((c) => c.value === value)) setValue(el, value);
}

export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void, a?: Attrs): HTMLElement {
  const el = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  el.textContent = label;
  if (checked) el.setAttribute('checked', '');
  apply(el, a);
  el.addEventListener('change', () => onChange(el.checked));
  return el;
}

export function numberField(label: string, value: number, onChange: (v: number) => void, a?: Attrs & { min?: number; max?: number }): HTMLElement {
  const el = document.createElement('vscode-text-field');
  el.setAttribute('type', 'number');
  el.setAttribute('value', String(value));
  el.setAttribute('size', '5');
  if (a?.min !== undefined) el.setAttribute('min', String(a.min));
  if (a?.max !== undefined) el.setAttribute('max', String(a.max));
  el.textContent = label;
  apply(el, a);
  el.addEventListener('change', () => {
    const v = Number(valueOf(el));
    if (Number.isFinite(v)) onChange(v);
  });
  return el;
}

export interface TabSpec {
  id: string;
  label: string;
  view: HTMLElement;
}

/** Tabs over views; the ids become `tab-<id>`. */
export function tabs(specs: TabSpec[], active: string, onChange: (id: string) => void): HTMLElement {
  const el = document.createElement('vscode-panels') as HTMLElement & { activeid: string };
  for (const s of specs) {
    const t = document.createElement('vscode-panel-tab');
    t.id = `tab-${s.id}`;
    t.textContent = s.label;
    el.append(t);
  }
  for (const s of specs) {
    const v = document.createElement('vscode-panel-view');
    v.id = `view-${s.id}`;
    v.append(s.view);
    el.append(v);
  }
  el.setAttribute('activeid', `tab-${active}`);
  el.addEventListener('change', (e) => {
    if (e.target !== el) return;
    const id = (el.activeid ?? '').replace(/^tab-/, '');
    if (id) onChange(id);
  });
  return el;
}

export function selectTab(el: HTMLElement, id: string): void {
  (el as HTMLElement & { activeid: string }).activeid = `tab-${id}`;
}

export function spinner(): HTMLElement {
  const el = document.createElement('vscode-progress-ring');
  el.className = 'spinner';
  return el;
}

export function badge(text: string): HTMLElement {
  const el = document.createElement('vscode-badge');
  el.textContent = text;
  return el;
}

export function divider(): HTMLElement {
  return document.createElement('vscode-divider');
}

export function valueOf(el: HTMLElement): string {
  return String((el as HTMLElement & { value?: unknown }).value ?? '');
}

export function setValue(el: HTMLElement, v: string): void {
  quiet.add(el);
  try {
    (el as HTMLElement & { value: string }).value = v;
  } finally {
    quiet.delete(el);
  }
}

export function setDisabled(el: HTMLElement, disabled: boolean): void {
  if (disabled) el.setAttribute('disabled', '');
  else el.removeAttribute('disabled');
}
