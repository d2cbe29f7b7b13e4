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
  | { t: 'layer'; id: number; label?: string }
  /** A scope: a labelled group, or (numeric) a block call's body. `path` is the wanted scope path. */
  | { t: 'scope'; seg: string; numeric: boolean; path: string; body: Out[] }
  | { t: 'residual'; id: number; body: Out[]; shortcut: Out[] }
  | { t: 'merge'; id: number; branches: { label?: string; body: Out[] }[] };

/** Words of the grammar, which cannot be labels (src/language/lexer.ts KEYWORDS; a test keeps them equal). */
export const RESERVED_WORDS = new Set(['network', 'block', 'repeat', 'residual', 'shortcut', 'add', 'concat', 'branch', 'aux', 'if', 'else', 'true', 'false']);

export function isIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !RESERVED_WORDS.has(s);
}

const isNumber = (s: string) => /^\d+$/.test(s);

/** A label may be a keyword too (`block: { ... }`, docs/naming.md), but not the anonymous `_`. */
function isLabel(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && s !== '_';
}

/** A path segment as a label can say it: an identifier (invalid characters become `_`), or a number. */
function sayable(seg: string): string {
  if (isNumber(seg) || isLabel(seg)) return seg;
  let s = seg.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(s)) s = `_${s}`;
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

export function nameScopes(layers: ImportLayer[], body: Stmt[]): Out[] {
  const wanted = wantedPaths(layers);
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
      // One branch with content: its path is a scope below the merge's.
      if (defined.length === 1) h = dirname(defined[0]);
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
        // A scope of one unlabelled layer names it by the scope's path (docs/naming.md, rule 3): the label says the same.
        if (l && only?.t === 'layer' && !only.label) out.push({ ...only, label: l });
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
        const seg = p !== undefined && p !== prefix && under(p, prefix) ? p.slice(prefix ? prefix.length + 1 : 0).split('.')[0] : undefined;
        const ok = seg !== undefined && isLabel(seg) && !branchLabels.has(seg) && !taken.has(join(prefix, seg));
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

/**
 * Numbers the language would lose, kept with `identity` layers (which compute nothing and take a
 * number): a scope of one statement names it by the scope's own path (docs/naming.md, rule 3),
 * so torchvision's `downsample.0` whose batch norm the export folded away, or EfficientNet's
 * one-block stage `features.1.0`, get an identity after them; a weighted child
 * is numbered k > 0 because the export dropped what came before (MobileNetV2's
 * `classifier.1` after its Dropout, ShuffleNet's `branch1.2` after a folded batch norm) gets
 * identities before it to make up the number. Returns the graph's output,
 * which an identity at the very end becomes.
 */
export function keepNumbers(layers: ImportLayer[], body: Out[], output: number): number {
  const wanted = wantedPaths(layers);
  let out = output;
  const MAX_GAP = 4;
  /** The value a sequence of statements ends with. */
  const endOf = (stmts: Out[]): number => {
    const last = stmts[stmts.length - 1];
    return last.t === 'scope' ? endOf(last.body) : last.id;
  };
  const identity = (input: number): ImportLayer => {
    const l: ImportLayer = { id: layers.length, attrs: { kind: 'identity' }, inputs: [input], shape: layers[input].shape, tensors: {}, origin: `an identity kept for the numbering after ${layers[input].origin}`, module: '' };
    layers.push(l);
    return l;
  };
  /** k identities before a one-input layer. */
  const before = (layer: ImportLayer, k: number): Out[] => {
    const added: Out[] = [];
    for (let i = 0; i < k; i++) {
      const l = identity(layer.inputs[0]);
      layer.inputs = [l.id];
      added.unshift({ t: 'layer', id: l.id });
    }
    return added.reverse();
  };
  /** An identity after a sequence: whatever read its end reads the identity. */
  const after = (stmts: Out[]): Out => {
    const end = endOf(stmts);
    const l = identity(end);
    for (const u of layers) if (u !== l) u.inputs = u.inputs.map((i) => (i === end ? l.id : i));
    if (out === end) out = l.id;
    return { t: 'layer', id: l.id };
  };
  const numberIn = (id: number, scope: string): number | undefined => {
    const w = wanted[id];
    if (!w || dirname(w) !== scope || !isNumber(basename(w))) return undefined;
    return Number(basename(w));
  };
  /**
   * The statements of the scope `path`, with identities where its numbers need them. Numbers go
   * as docs/naming.md says: a layer (labelled or not), a block call and each branch of a merge
   * take one, a residual's statements are numbered where it stands, a labelled group takes none.
   */
  const pad = (stmts: Out[], path: string, gapsOnly = false): Out[] => {
    let n = 0;
    const visit = (list: Out[]): Out[] => {
      const res: Out[] = [];
      for (const s of list) {
        if (s.t === 'layer') {
          const k = s.label || layers[s.id].inputs.length !== 1 ? undefined : numberIn(s.id, path);
          if (k !== undefined && k > n && k - n <= MAX_GAP) {
            res.push(...before(layers[s.id], k - n));
            n = k;
          }
          res.push(s);
          n++;
        } else if (s.t === 'residual') res.push({ ...s, body: visit(s.body), shortcut: visit(s.shortcut) });
        else {
          res.push(s);
          n += s.t === 'merge' ? s.branches.length : s.numeric ? 1 : 0;
        }
      }
      return res;
    };
    stmts = visit(stmts);
    if (stmts.length === 1 && !gapsOnly) {
      const only = stmts[0];
      if ((only.t === 'layer' && !only.label && numberIn(only.id, path) === 0) || (only.t === 'scope' && only.numeric && only.seg === '0')) stmts = [only, after(stmts)];
    }
    return stmts;
  };
  const walk = (stmts: Out[], prefix: string | undefined): Out[] =>
    stmts.map((s): Out => {
      switch (s.t) {
        case 'layer': {
          // A scope of one layer became a label (`downsample: conv ...`): a scope again if its number needs one.
          if (!s.label || prefix === undefined || layers[s.id].inputs.length !== 1) return s;
          const path = join(prefix, s.label);
          const k = numberIn(s.id, path);
          if (k === undefined || k > MAX_GAP) return s;
          const body = pad([{ t: 'layer', id: s.id }], path);
          return { t: 'scope', seg: s.label, numeric: false, path, body };
        }
        case 'scope':
          return { ...s, body: pad(walk(s.body, s.path), s.path) };
        case 'residual':
          return { ...s, body: walk(s.body, prefix), shortcut: walk(s.shortcut, prefix) };
        case 'merge':
          return {
            ...s,
            branches: s.branches.map((b) => {
              const path = b.label && prefix !== undefined ? join(prefix, b.label) : undefined;
              return { ...b, body: path === undefined ? walk(b.body, undefined) : pad(walk(b.body, path), path, true) };
            }),
          };
      }
    });
  const padded = pad(walk(body, ''), '', true);
  body.splice(0, body.length, ...padded);
  return out;
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
