/**
 * What a label may spell. A label is one segment of a dot path that PyTorch's state_dict keys
 * and module names repeat (docs/naming.md): torchvision's segments are names (`conv1`,
 * `block`), numbers (`0`) and names with hyphens (`block1-0`), and no segment may be empty or
 * hold a dot.
 */
import type * as A from '../language/ast';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** Why `text` cannot be a path segment, or undefined where it can. */
export function segmentProblem(text: string): string | undefined {
  if (text === '') return 'a label cannot be empty: it names parameters';
  if (SEGMENT.test(text)) return undefined;
  const bad = [...text].find((c) => !/[A-Za-z0-9_-]/.test(c))!;
  return `a label holds letters, digits, '_' and '-' (it is one segment of a parameter name), not ${bad === ' ' ? 'a space' : `'${bad}'`}: '${text}'`;
}

/** A label's text where it has no `{expr}`: a name (`block`), a number (`0`) or quoted (`"block1-0"`). */
export function staticLabel(label: A.Label): string | undefined {
  if (!label.quoted) return label.text;
  let text = '';
  for (const piece of label.quoted) {
    if (typeof piece !== 'string') return undefined;
    text += piece;
  }
  return text;
}
