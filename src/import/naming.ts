/**
 * Stage 3: naming scopes from the names in the file. Each layer with weights has a wanted
 * parameter path (its initializers' names, else its node's module path); every prefix of one is a
 * scope. A layer without weights lives in the deepest scope its node's name reaches, a composition
 * in the scope all its layers share. Runs of statements in the same sub-scope become a labelled
 * group (`layer1: { ... }`) or, for a numeric scope (`layer1.0`), a block call, which is the only
 * statement that both opens a scope and takes a number; the block stage makes those calls.
 * Labels follow docs/naming.md: a labelled statement is `prefix.label`, an unlabelled one
 * `prefix.number`, a branch of add or concat opens a scope, residual does not.
 */
import type { ImportLayer } from './ops';
import type { Stmt } from './structure';

export type Out =
  /** `label`: a name, a number (`3`, docs/naming.md) or `_` (no number, no segment). */
  | { t: 'layer'; id: number; label?: string }
  /**
   * A scope: a labelled group, or (numeric) a block call's body. `path` is the wanted scope path;
   * `label`, on a numeric one only, the number its call is labelled with where its place would give another.
   */
  | { t: 'scope'; seg: string; numeric: boolean; path: string; body: Out[]; label?: string }
  | { t: 'residual'; id: number; body: Out[]; shortcut: Out[] }
  /** A branch labelled `_` opens no scope: its statements are named in the merge's. */
  | { t: 'merge'; id: number; branches: { label?: string; body: Out[] }[] };

/** Words of the grammar, which cannot be labels (src/language/lexer.ts KEYWORDS; a test keeps them equal). */
export const RESERVED_WORDS = new Set(['network', 'block', 'repeat', 'residual', 'shortcut', 'add', 'concat', 'branch', 'aux', 'if', 'else', 'true', 'false']);

export function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !RESERVED_WORDS.has(s);
}

const isNumber = (s: string) => /^\d+$/.test(s);

/**
 * A name label: a keyword too (`block: { ... }`), or one that needs quotes (`"block1-0"`,
 * docs/naming.md), but not a number (the numbering pass writes those) nor the anonymous `_`.
 */
function isLabel(s: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(s) && !isNumber(s) && s !== '_';
}

/** A path segment as a label can say it: letters, digits, `_` and `-` (others become `_`). */
function sayable(seg: string): string {
  if (isNumber(seg) || isLabel(seg)) return seg;
  const s = seg.replace(/[^A-Za-z0-9_-]/g, '_');
  return s === '_' ? '__' : s;
}

function cleanPath(path: string): string {
  return path
    .split('.')
    .filter((s) => s !== '')
    .map(sayable)
    .join('.');
}

const under = (q: string, p: string) => p === '' || q === p || q.startsWith(`${p}.`);
const join = (p: string, s: string) => (p ? `${p}.${s}` : s);
const dirname = (p: string) => (p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '');
const basename = (p: string) => p.slice(p.lastIndexOf('.') + 1);

function lcp(paths: string[]): string {
  if (paths.length === 0) return '';
  let common = paths[0].split('.');
  for (const p of paths.slice(1)) {
    const s = p.split('.');
    let i = 0;
    while (i < common.length && i < s.length && common[i] === s[i]) i++;
    common = common.slice(0, i);
  }
  return common.filter((s) => s !== '').join('.');
}

/** The wanted parameter path of each layer with weights (undefined: numbered where it stands). */
export function wantedPaths(layers: ImportLayer[]): (string | undefined)[] {
  return layers.map((l) => {
    if (Object.keys(l.tensors).length === 0) return undefined;
    const p = cleanPath(l.named ?? l.module);
    return p || undefined;
  });
}

/** The first layer a sequence computes (ids follow the model's node order). */
function firstLayer(stmts: Stmt[]): number {
  const s = stmts[0];
  if (s.t === 'layer') return s.id;
  if (s.t === 'residual') return firstLayer(s.body.length ? s.body : s.shortcut);
  const ids = s.branches.filter((b) => b.length > 0).map(firstLayer);
  return ids.length ? Math.min(...ids) : s.id;
}

/**
 * A sum whose shortcut the model computes before its body (RegNet's `proj`, registered before
 * `f`) becomes `add { shortcut; body }`: a residual lists its body's tensors first.
 */
function shortcutsFirst(stmts: Stmt[]): Stmt[] {
  return stmts.map((s): Stmt => {
    if (s.t === 'layer') return s;
    if (s.t === 'merge') return { ...s, branches: s.branches.map(shortcutsFirst) };
    const body = shortcutsFirst(s.body);
    const shortcut = shortcutsFirst(s.shortcut);
    if (shortcut.length && body.length && firstLayer(shortcut) < firstLayer(body)) return { t: 'merge', id: s.id, branches: [shortcut, body] };
    return { ...s, body, shortcut };
  });
}

export function nameScopes(layers: ImportLayer[], input: Stmt[]): Out[] {
  const wanted = wantedPaths(layers);
  const body = shortcutsFirst(input);
  const known = new Set<string>(['']);
  for (const p of wanted) {
    if (!p) continue;
    const segs = p.split('.');
    for (let i = 1; i < segs.length; i++) known.add(segs.slice(0, i).join('.'));
  }
  /** The deepest known scope on a module path. */
  const deepestKnown = (module: string): string => {
    const segs = cleanPath(module).split('.');
    for (let i = segs.length; i > 0; i--) {
      const p = segs.slice(0, i).join('.');
      if (known.has(p)) return p;
    }
    return '';
  };

  const homes = new Map<Stmt, string>();
  const leafHome = (id: number): string => {
    const w = wanted[id];
    return w ? dirname(w) : deepestKnown(layers[id].module);
  };
  const allHomes = (stmts: Stmt[]): string[] => stmts.map(home);
  /** For a branch: the scope it should open (its one weighted layer's path, or what its statements share). */
  const branchPath = (b: Stmt[]): string | undefined => {
    if (b.length === 0) return undefined;
    if (b.length === 1 && b[0].t === 'layer' && wanted[b[0].id]) return wanted[b[0].id];
    return lcp(allHomes(b));
  };
  const branchPaths = new Map<Stmt, (string | undefined)[]>();
  function home(s: Stmt): string {
    const known = homes.get(s);
    if (known !== undefined) return known;
    let h: string;
    if (s.t === 'layer') h = leafHome(s.id);
    else if (s.t === 'residual') h = lcp([...allHomes(s.body), ...allHomes(s.shortcut)]);
    else {
      const bp = s.branches.map(branchPath);
      branchPaths.set(s, bp);
      const defined = bp.filter((p): p is string => p !== undefined);
      h = lcp(defined);
      // One branch with content: its path is a scope below the merge's, or, numbered, the scope
      // the merge fills (a squeeze-and-excitation gate is torchvision's `block.1`, its branch `_:`).
      if (defined.length === 1) h = isNumber(basename(defined[0])) ? defined[0] : dirname(defined[0]);
    }
    homes.set(s, h);
    return h;
  }

  const taken = new Set<string>();

  const emitSequence = (stmts: Stmt[], prefix: string): Out[] => {
    const out: Out[] = [];
    const labels = new Set<string>();
    const label = (want: string | undefined): string | undefined => {
      if (!want || !isLabel(want) || labels.has(want) || taken.has(join(prefix, want))) return undefined;
      labels.add(want);
      taken.add(join(prefix, want));
      return want;
    };
    for (let i = 0; i < stmts.length; ) {
      const s = stmts[i];
      const h = home(s);
      if (h === prefix || !under(h, prefix)) {
        out.push(emitDirect(s, prefix, label));
        i++;
        continue;
      }
      const seg = h.slice(prefix ? prefix.length + 1 : 0).split('.')[0];
      const path = join(prefix, seg);
      let j = i;
      while (j < stmts.length && under(home(stmts[j]), path)) j++;
      const inner = emitSequence(stmts.slice(i, j), path);
      if (isNumber(seg)) out.push({ t: 'scope', seg, numeric: true, path, body: inner });
      else {
        const l = label(seg);
        const only = inner.length === 1 ? inner[0] : undefined;
        // A scope of one unlabelled layer names it by the scope's path (docs/naming.md, rule 3): the label says the same,
        // unless the layer's own name is a number inside it (`downsample.0` whose batch norm the export folded away).
        if (l && only?.t === 'layer' && !only.label && (!wanted[only.id] || wanted[only.id] === path)) out.push({ ...only, label: l });
        else if (l) out.push({ t: 'scope', seg: l, numeric: false, path, body: inner });
        // The label is taken in this sequence: the statements stay where they are, named by number.
        else out.push(...inner);
      }
      i = j;
    }
    return out;
  };

  const emitDirect = (s: Stmt, prefix: string, label: (want: string | undefined) => string | undefined): Out => {
    if (s.t === 'layer') {
      const w = wanted[s.id];
      const local = w && (dirname(w) === prefix || !under(w, prefix)) ? basename(w) : undefined;
      return { t: 'layer', id: s.id, label: local && !isNumber(local) ? label(local) : undefined };
    }
    if (s.t === 'residual') return { t: 'residual', id: s.id, body: emitSequence(s.body, prefix), shortcut: emitSequence(s.shortcut, prefix) };
    home(s);
    const bp = branchPaths.get(s)!;
    const branchLabels = new Set<string>();
    return {
      t: 'merge',
      id: s.id,
      branches: s.branches.map((b, j) => {
        const p = bp[j];
        // A branch whose statements live in the merge's own scope (SqueezeNet's Fire, Inception's branches side by side) opens none.
        if (p !== undefined && p === prefix && p !== '' && b.length > 0) return { label: '_', body: emitSequence(b, prefix) };
        const seg = p !== undefined && p !== prefix && under(p, prefix) ? p.slice(prefix ? prefix.length + 1 : 0).split('.')[0] : undefined;
        const ok = seg !== undefined && (isLabel(seg) || isNumber(seg)) && !branchLabels.has(seg) && !taken.has(join(prefix, seg));
        if (ok) {
          branchLabels.add(seg);
          taken.add(join(prefix, seg));
        }
        // An unlabelled branch is numbered where it stands; its statements keep their own labels.
        return { label: ok ? seg : undefined, body: emitSequence(b, ok ? join(prefix, seg) : `${prefix}#${j}`) };
      }),
    };
  };

  return emitSequence(body, '');
}

/** A scope of the language as src/graph/expand.ts numbers it, for the numbering pass. */
interface SimScope {
  prefix: string;
  n: number;
  /** One unlabelled numbered statement takes the scope's own path (docs/naming.md, rule 3). */
  elide: boolean;
  /** Segment → the statements named by it (a layer, a scope, a branch). */
  used: Map<string, Out[]>;
  merges: Map<string, number>;
}

const numberTaking = (s: Out): boolean => (s.t === 'layer' && s.label !== '_') || (s.t === 'scope' && s.numeric);

function simScope(prefix: string, stmts: Out[] | undefined): SimScope {
  const only = stmts && stmts.length === 1 ? stmts[0] : undefined;
  const elide = !!only && numberTaking(only) && !('label' in only && only.label) && prefix !== '';
  return { prefix, n: 0, elide, used: new Map(), merges: new Map() };
}

/**
 * Number labels where a statement's place would give another number than the file's name
 * (docs/naming.md: a number label replaces the number the scope gives, the others keep theirs):
 * ConvNeXt's `block.2` after the Permute the language does not need, ResNet's `downsample.0`
 * alone once the export folded its batch norm, MobileNetV2's `classifier.1` after its Dropout,
 * EfficientNet's one-block stage `features.1.0`. A layer without tensors takes the number its
 * node's module gives (`block.4`, a GELU), else its place; where that is another layer's name
 * (PyTorch cannot hold two modules at one path) it is labelled `_` and takes none. The pass
 * follows the expansion's numbering (src/graph/expand.ts) and runs until nothing clashes.
 */
export function numberLabels(layers: ImportLayer[], body: Out[]): void {
  const wanted = wantedPaths(layers);
  const modules = layers.map((l) => cleanPath(l.module));
  const desired = (s: Out, prefix: string): number | undefined => {
    if (s.t === 'scope') return s.numeric && s.path === join(prefix, s.seg) ? Number(s.seg) : undefined;
    if (s.t !== 'layer') return undefined;
    const w = wanted[s.id] ?? (Object.keys(layers[s.id].tensors).length ? undefined : modules[s.id]);
    return w && dirname(w) === prefix && isNumber(basename(w)) ? Number(basename(w)) : undefined;
  };
  const weighted = (s: Out) => s.t === 'layer' && Object.keys(layers[s.id].tensors).length > 0;
  const use = (sc: SimScope, seg: string, s: Out) => sc.used.set(seg, [...(sc.used.get(seg) ?? []), s]);
  const scopes: SimScope[] = [];
  const open = (prefix: string, stmts: Out[] | undefined) => {
    const sc = simScope(prefix, stmts);
    scopes.push(sc);
    return sc;
  };

  const walk = (stmts: Out[], sc: SimScope): void => {
    for (const s of stmts) {
      if (s.t === 'layer' || s.t === 'scope') {
        if (s.t === 'layer' && s.label === '_') {
          const kind = layers[s.id].attrs.kind;
          const k = sc.merges.get(kind) ?? 0;
          sc.merges.set(kind, k + 1);
          use(sc, k ? `${kind}${k}` : kind, s);
          continue;
        }
        if (s.t === 'scope' && !s.numeric) {
          // A labelled group takes no number and opens a scope.
          use(sc, s.seg, s);
          walk(s.body, open(s.path, s.body));
          continue;
        }
        const pos = sc.n++;
        const own = sc.elide && pos === 0 && !s.label ? undefined : String(pos);
        const d = desired(s, sc.prefix);
        if (!s.label && d !== undefined && String(d) !== own) s.label = String(d);
        const seg = s.label ?? own;
        if (seg !== undefined) use(sc, seg, s);
        if (s.t === 'scope') walk(s.body, open(s.path, s.body));
        continue;
      }
      if (s.t === 'residual') {
        walk(s.body, sc);
        walk(s.shortcut, sc);
        continue;
      }
      for (const b of s.branches) {
        if (b.label === '_') {
          walk(b.body, sc);
          continue;
        }
        const pos = sc.n++;
        const seg = b.label ?? String(pos);
        use(sc, seg, s);
        walk(b.body, open(join(sc.prefix, seg), b.body));
      }
    }
  };

  for (let round = 0; round < 8; round++) {
    scopes.length = 0;
    walk(body, open('', body));
    let changed = false;
    for (const sc of scopes) {
      for (const [, users] of sc.used) {
        if (users.length < 2) continue;
        // Two weighted layers at one path are a real clash the analysis reports; a layer without tensors gives way.
        for (const u of users) {
          if (u.t === 'layer' && !weighted(u) && u.label !== '_') {
            u.label = '_';
            changed = true;
          }
        }
      }
    }
    if (!changed) return;
  }
}

/** The layers in the order the expansion makes them: a residual's body, its shortcut, then the sum; branches in order, then the merge. */
export function expansionOrder(body: Out[]): number[] {
  const out: number[] = [];
  const walk = (stmts: Out[]) => {
    for (const s of stmts) {
      if (s.t === 'layer') out.push(s.id);
      else if (s.t === 'scope') walk(s.body);
      else if (s.t === 'residual') {
        walk(s.body);
        walk(s.shortcut);
        out.push(s.id);
      } else {
        for (const b of s.branches) walk(b.body);
        out.push(s.id);
      }
    }
  };
  walk(body);
  return out;
}
