/**
 * Stage 5: the text. One statement a line; a group, a branch or a repeat of a few short
 * statements on one line (`layer2: { Layer2(128); Layer(128) }`), a concat whose branches all fit
 * on one line too; arguments equal to their defaults left out.
 */
import { isParam, valExpr, type BlockDef, type F, type FArg, type Val } from './blocks';
import { sameValue, valueText, type ArgValue } from './text';

const INDENT = '  ';
const INLINE_WIDTH = 80;

function valText(v: Val): string {
  return isParam(v) ? valExpr(v) : valueText(v);
}

function isDefault(a: FArg, all: FArg[]): boolean {
  const d = a.dflt;
  if (d === undefined) return false;
  if (typeof d === 'object' && !Array.isArray(d)) {
    const other = all.find((x) => x.name === d.ref);
    return !!other && valText(other.value) === valText(a.value);
  }
  const v = a.value;
  if (isParam(v)) return false;
  return sameValue(v, d as ArgValue);
}

function layerText(s: Extract<F, { t: 'layer' }>): string {
  const parts = [s.keyword];
  for (const a of s.args) {
    if (isDefault(a, s.args)) continue;
    parts.push(a.positional ? valText(a.value) : `${a.name}=${valText(a.value)}`);
  }
  return parts.join(' ');
}

function callText(s: Extract<F, { t: 'call' }>): string {
  const args: string[] = [];
  s.block.params.forEach((p, i) => {
    const v = s.values[i];
    if (p.dflt === undefined) args.push(valText(v));
    else if (!(typeof v === 'number' && v === p.dflt)) args.push(`${p.name}=${valText(v)}`);
  });
  return `${s.block.name}(${args.join(', ')})`;
}

/** A label as written: a name, a keyword or a number as it is, another segment (`block1-0`) quoted. */
const labelText = (l: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(l) || /^\d+$/.test(l) ? l : `"${l}"`);
const labelled = (label: string | undefined, text: string) => (label ? `${labelText(label)}: ${text}` : text);

/** A statement on one line, if it is a layer or a call, or a short group or repeat of them. */
function oneLine(s: F): string | undefined {
  switch (s.t) {
    case 'layer':
      return labelled(s.label, layerText(s));
    case 'call':
      return labelled(s.label, callText(s));
    case 'group': {
      const inner = inlineBody(s.body);
      return inner === undefined ? undefined : labelled(s.label, inner);
    }
    case 'repeat': {
      const inner = inlineBody(s.body);
      return inner === undefined ? undefined : labelled(s.label, `repeat ${s.count} ${inner}`);
    }
    case 'merge': {
      const branches = s.branches.map((b) => {
        const inner = b.body.length === 0 ? '{}' : inlineBody(b.body);
        return inner === undefined ? undefined : labelled(b.label, `branch ${inner}`);
      });
      if (branches.some((b) => b === undefined) || s.branches.length > 2) return undefined;
      const text = `${s.kind} { ${branches.join(' ')} }`;
      return text.length <= INLINE_WIDTH ? text : undefined;
    }
    default:
      return undefined;
  }
}

function inlineBody(body: F[]): string | undefined {
  if (body.length === 0 || body.length > 4) return undefined;
  const parts: string[] = [];
  for (const s of body) {
    if (s.t !== 'layer' && s.t !== 'call') return undefined;
    parts.push(oneLine(s)!);
  }
  const text = `{ ${parts.join('; ')} }`;
  return text.length <= INLINE_WIDTH ? text : undefined;
}

function lines(body: F[], depth: number, out: string[]): void {
  const pad = INDENT.repeat(depth);
  for (const s of body) {
    const line = oneLine(s);
    if (line !== undefined && (pad.length + line.length <= 100 || s.t === 'layer' || s.t === 'call')) {
      out.push(pad + line);
      continue;
    }
    switch (s.t) {
      case 'group':
        out.push(`${pad}${labelled(s.label, '{')}`);
        lines(s.body, depth + 1, out);
        out.push(`${pad}}`);
        break;
      case 'repeat':
        out.push(`${pad}${labelled(s.label, `repeat ${s.count} {`)}`);
        lines(s.body, depth + 1, out);
        out.push(`${pad}}`);
        break;
      case 'residual':
        out.push(`${pad}residual {`);
        lines(s.body, depth + 1, out);
        if (s.shortcut.length) {
          out.push(`${pad}} shortcut {`);
          lines(s.shortcut, depth + 1, out);
        }
        out.push(`${pad}}`);
        break;
      case 'merge':
        out.push(`${pad}${s.kind} {`);
        for (const b of s.branches) {
          const inner = b.body.length === 0 ? '{}' : inlineBody(b.body);
          if (inner !== undefined) out.push(`${pad}${INDENT}${labelled(b.label, `branch ${inner}`)}`);
          else {
            out.push(`${pad}${INDENT}${labelled(b.label, 'branch {')}`);
            lines(b.body, depth + 2, out);
            out.push(`${pad}${INDENT}}`);
          }
        }
        out.push(`${pad}}`);
        break;
      default:
        out.push(pad + oneLine(s)!);
    }
  }
}

export interface Document {
  network: string;
  /** `[C, H, W]` or `[F]` */
  input: number[];
  body: F[];
  blocks: BlockDef[];
  /** Comment lines above the network. */
  header: string[];
}

export function renderText(doc: Document): string {
  const out: string[] = doc.header.map((h) => `// ${h}`);
  out.push(`network ${doc.network} {`);
  out.push(`${INDENT}input ${doc.input.join('x')}`);
  lines(doc.body, 1, out);
  out.push('}');
  for (const b of doc.blocks) {
    out.push('');
    const params = b.params.map((p) => (p.dflt === undefined ? p.name : `${p.name}=${p.dflt}`));
    out.push(`block ${b.name}(${params.join(', ')}) {`);
    lines(b.body, 1, out);
    out.push('}');
  }
  return `${out.join('\n')}\n`;
}
