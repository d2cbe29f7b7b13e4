/**
 * The one module that knows how the panel's controls are made. They are plain HTML elements
 * (button, select, input, a tab list) styled by classes in media/main.css with VS Code's
 * `--vscode-*` theme variables. They were @vscode/webview-ui-toolkit's web components until the
 * toolkit broke the panel's CSP: its FAST runtime inserts a <style> element when it loads (to
 * test for :focus-visible) and some templates bind `style="…"` attributes, which `style-src`
 * without 'unsafe-inline' refuses, with a console error each time. A later component library
 * means rewriting this file only: the rest of the webview creates controls through these
 * functions and reads them through `valueOf`/`setValue`/`setDisabled`.
 */

type Attrs = { id?: string; title?: string; className?: string };

function apply(el: HTMLElement, a: Attrs | undefined): void {
  if (!a) return;
  if (a.id) el.id = a.id;
  if (a.title) el.title = a.title;
  if (a.className) el.classList.add(...a.className.split(/\s+/).filter(Boolean));
}

export function button(label: string, onClick: () => void, a?: Attrs & { appearance?: 'primary' | 'secondary' }): HTMLButtonElement {
  const el = document.createElement('button');
  el.type = 'button';
  el.className = `btn ${a?.appearance ?? 'primary'}`;
  el.textContent = label;
  apply(el, a);
  el.addEventListener('click', () => {
    if (!el.disabled) onClick();
  });
  return el;
}

export interface Choice {
  value: string;
  label: string;
  /** Choices with the same group are listed together under it (an <optgroup>). */
  group?: string;
  title?: string;
}

/** A drop-down; `setChoices` replaces the options and keeps the value where it still exists. */
export function dropdown(choices: Choice[], value: string | undefined, onChange: (v: string) => void, a?: Attrs): HTMLSelectElement {
  const el = document.createElement('select');
  el.className = 'dropdown';
  apply(el, a);
  if (a?.title) el.setAttribute('aria-label', a.title);
  setChoices(el, choices, value);
  // A select fires 'change' for the user's picks only, never for a value set by code.
  el.addEventListener('change', () => onChange(el.value));
  return el;
}

export function setChoices(el: HTMLElement, choices: Choice[], value: string | undefined): void {
  const select = el as HTMLSelectElement;
  const groups = new Map<string, HTMLOptGroupElement>();
  const items: HTMLElement[] = [];
  for (const c of choices) {
    const o = document.createElement('option');
    o.value = c.value;
    o.textContent = c.label;
    if (c.title) o.title = c.title;
    if (c.group === undefined) {
      items.push(o);
      continue;
    }
    let g = groups.get(c.group);
    if (!g) {
      g = document.createElement('optgroup');
      g.label = c.group;
      groups.set(c.group, g);
      items.push(g);
    }
    g.append(o);
  }
  select.replaceChildren(...items);
  if (value !== undefined && choices.some((c) => c.value === value)) select.value = value;
}

/** A checkbox with its label; the id (and `valueOf`) belong to the input inside. */
export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void, a?: Attrs): HTMLLabelElement {
  const wrap = document.createElement('label');
  wrap.className = 'checkbox';
  const input = document.createElement('input');
  input.type = 'checkbox';
  input.checked = checked;
  apply(input, { id: a?.id });
  if (a?.title) wrap.title = a.title;
  input.addEventListener('change', () => onChange(input.checked));
  wrap.append(input, document.createTextNode(label));
  return wrap;
}

/** A number input with its label in front; the id belongs to the input. */
export function numberField(label: string, value: number, onChange: (v: number) => void, a?: Attrs & { min?: number; max?: number }): HTMLLabelElement {
  const wrap = document.createElement('label');
  wrap.className = 'field';
  const input = document.createElement('input');
  input.type = 'number';
  input.value = String(value);
  if (a?.min !== undefined) input.min = String(a.min);
  if (a?.max !== undefined) input.max = String(a.max);
  input.className = 'number';
  apply(input, { id: a?.id });
  if (a?.title) wrap.title = a.title;
  input.addEventListener('change', () => {
    const v = Number(input.value);
    if (input.value.trim() !== '' && Number.isFinite(v)) onChange(v);
  });
  wrap.append(document.createTextNode(label), input);
  return wrap;
}

export interface TabSpec {
  id: string;
  label: string;
  view: HTMLElement;
}

/** Tabs over views (the ARIA tabs pattern): tab buttons `tab-<id>`, panels `view-<id>`. */
export function tabs(specs: TabSpec[], active: string, onChange: (id: string) => void): HTMLElement {
  const root = document.createElement('div');
  root.className = 'tabs';
  const list = document.createElement('div');
  list.className = 'tablist';
  list.setAttribute('role', 'tablist');
  root.append(list);
  const buttons: HTMLButtonElement[] = [];
  for (const s of specs) {
    const t = document.createElement('button');
    t.type = 'button';
    t.id = `tab-${s.id}`;
    t.className = 'tab';
    t.textContent = s.label;
    t.setAttribute('role', 'tab');
    t.setAttribute('aria-controls', `view-${s.id}`);
    t.addEventListener('click', () => {
      if (t.getAttribute('aria-selected') === 'true') return;
      selectTab(root, s.id);
      onChange(s.id);
    });
    t.addEventListener('keydown', (e) => {
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = buttons[(buttons.indexOf(t) + step + buttons.length) % buttons.length];
      next.focus();
      next.click();
    });
    buttons.push(t);
    list.append(t);
  }
  for (const s of specs) {
    const v = document.createElement('div');
    v.id = `view-${s.id}`;
    v.className = 'tabpanel';
    v.setAttribute('role', 'tabpanel');
    v.setAttribute('aria-labelledby', `tab-${s.id}`);
    v.append(s.view);
    root.append(v);
  }
  selectTab(root, specs.some((s) => s.id === active) ? active : specs[0].id);
  return root;
}

export function selectTab(el: HTMLElement, id: string): void {
  for (const t of Array.from(el.querySelectorAll<HTMLButtonElement>(':scope > .tablist > .tab'))) {
    const on = t.id === `tab-${id}`;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
  }
  for (const v of Array.from(el.querySelectorAll<HTMLElement>(':scope > .tabpanel'))) v.hidden = v.id !== `view-${id}`;
}

export function spinner(): HTMLElement {
  const el = document.createElement('span');
  el.className = 'spinner';
  el.setAttribute('role', 'progressbar');
  el.setAttribute('aria-label', 'working');
  return el;
}

export function badge(text: string): HTMLElement {
  const el = document.createElement('span');
  el.className = 'badge';
  el.textContent = text;
  return el;
}

export function divider(): HTMLElement {
  const el = document.createElement('hr');
  el.className = 'divider';
  return el;
}

export function valueOf(el: HTMLElement): string {
  return String((el as HTMLElement & { value?: unknown }).value ?? '');
}

export function setValue(el: HTMLElement, v: string): void {
  (el as HTMLElement & { value: string }).value = v;
}

export function setDisabled(el: HTMLElement, disabled: boolean): void {
  (el as HTMLButtonElement).disabled = disabled;
  el.toggleAttribute('disabled', disabled);
}
